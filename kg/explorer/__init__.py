"""The Streamlit explorer: one page per task, each reading the graph only through the kg API.

``app.py`` (the entry script ``qikg explore`` runs) calls :func:`navigation`; pages link to each
other with :func:`page`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).resolve().parent / "pages"

#: url path -> (title, icon), in menu order; each page is ``pages/<url path>.py``.
PAGES: dict[str, tuple[str, str]] = {
    "overview": ("Overview", ":material/dashboard:"),
    "ontology": ("Ontology", ":material/account_tree:"),
    "findings": ("Findings", ":material/format_quote:"),
    "compare": ("Compare", ":material/grid_on:"),
    "synthesis": ("Synthesis", ":material/summarize:"),
    "graph": ("Graph", ":material/hub:"),
    "sparql": ("SPARQL", ":material/terminal:"),
    "validate": ("Validate & import", ":material/upload_file:"),
}


def page(name: str) -> st.Page:
    """The page registered under ``name`` (a key of PAGES), to link or switch to."""
    title, icon = PAGES[name]
    return st.Page(PAGES_DIR / f"{name}.py", title=title, icon=icon, url_path=name)


def _home() -> None:
    """The app's root URL: go on to the Overview, at its own address (``/overview``)."""
    st.switch_page(page("overview"))


def navigation() -> st.Page:
    """Register every page in the sidebar menu and return the one the user is on.

    Streamlit serves its default page at ``/`` only (its ``url_path`` is ignored), so the
    default is a hidden page that switches to the Overview: ``/`` and ``/overview`` both work.
    """
    home = st.Page(_home, title="qikg explorer", url_path="home", default=True, visibility="hidden")
    return st.navigation([home, *(page(name) for name in PAGES)])
