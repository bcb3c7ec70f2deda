"""qikg explorer (placeholder until the explorer lands): shows what the graph holds."""

import streamlit as st

from kg.stats import stats
from kg.store import open_store

st.title("qikg")
st.json(stats(open_store()))
