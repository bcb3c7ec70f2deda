"""qikg explorer: browse the knowledge graph of coded qualitative findings on QI collaboratives.

Run with ``qikg explore`` (or ``streamlit run app.py`` with ``QIKG_STORE`` naming the store).
"""

import logging

import streamlit as st

from kg.errors import QikgError
from kg.explorer import navigation, ui

st.set_page_config(page_title="qikg explorer", page_icon="🔗", layout="wide")
current = navigation()
with st.sidebar:
    st.caption("qikg: findings on health-care professions, roles and QI collaboratives.")
try:
    ui.require_data()
    current.run()
except QikgError as exc:
    st.error(str(exc), icon=":material/error:")
except Exception as exc:  # a bug: say so in one line, keep the traceback in the server log
    logging.getLogger("qikg.explorer").exception("page %s failed", current.title)
    st.error(
        f"Something went wrong on this page ({type(exc).__name__}: {exc}). "
        "The details are in the explorer's log.",
        icon=":material/bug_report:",
    )
