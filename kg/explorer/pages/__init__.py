"""The explorer's pages: each a Streamlit script with a ``main()``, run by ``st.navigation``."""
