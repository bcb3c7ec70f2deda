"""What every page of the explorer shares: the store, cached reads, errors, links and lists.

The store handle is one per process (``st.cache_resource``; the embedded store's reads are
thread-safe). Reads through :func:`cached` are kept per store *generation*, which every import
bumps, so new data shows at once; a remote store has no generation, so its reads expire quickly.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import streamlit as st

from kg.errors import QikgError
from kg.explorer import page
from kg.meta import inferred_state
from kg.store import Store, default_location, open_store

T = TypeVar("T")
#: Seconds a remote store's answers are reused (an embedded store is watched by its generation).
REMOTE_TTL = 30
PAGE_SIZE = 25
_MARKDOWN = re.compile(r"([\\`*_\[\]<>#$~:|])")


#: Query workers for the SPARQL page. The pages read a copy of the store in memory in the
#: explorer's process (about 1.8 GiB at 100k findings); the SPARQL page's worker reads the disk,
#: so the explorer holds one copy, not two (docs/benchmarks.md).
SPARQL_WORKERS = 1


@st.cache_resource(show_spinner=False)
def _open(descriptor: str) -> Store:
    return open_store(descriptor, SPARQL_WORKERS, in_memory="process")


def store() -> Store:
    """The store named by ``QIKG_STORE`` (or the default location), opened once per process."""
    return _open(default_location())


def store_version(handle: Store) -> str:
    """A token that changes whenever the store's content may have changed."""
    version = handle.version()
    return version if version is not None else f"t{int(time.time() // REMOTE_TTL)}"


@st.cache_data(show_spinner=False, max_entries=1024, ttl=3600)
def _call(
    name: str, descriptor: str, version: str, args: tuple, kwargs: tuple, _fn: Callable
) -> Any:
    return _fn(_open(descriptor), *args, **dict(kwargs))


def cached(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(store, *args, **kwargs)``, answered from the cache while the store is unchanged."""
    handle = store()
    name = f"{fn.__code__.co_filename}:{fn.__qualname__}"
    return _call(
        name, handle.descriptor, store_version(handle), args, tuple(sorted(kwargs.items())), fn
    )


def is_empty(handle: Store) -> bool:
    """True when the store holds no qikg graph yet (a function of its own, so it is cached)."""
    return handle.is_empty()


def require_data() -> None:
    """Stop the page with a way forward if the store holds no graph yet."""
    if not cached(is_empty):
        return
    handle = store()
    st.warning(
        f"The store at `{handle.descriptor}` is empty. Build it from the bundled ontology and "
        "studies (the same as `qikg build`), then explore.",
        icon=":material/database:",
    )
    if st.button("Build the store now", type="primary"):
        from kg.build import build

        with st.spinner("Building the store from the bundled data…"), guard():
            build(handle)
            st.rerun()
    st.stop()


def header(title: str, intro: str) -> None:
    """The page title and one sentence on what the page is for."""
    st.title(title)
    st.caption(intro)


@contextmanager
def guard() -> Iterator[None]:
    """Show a qikg error as one red line instead of a traceback."""
    try:
        yield
    except QikgError as exc:
        st.error(str(exc), icon=":material/error:")


def inferred_toggle(key: str) -> bool:
    """The "include inferred" switch: whether queries also read the reasoner's triples."""
    state = cached(inferred_state)
    note = {
        "absent": "The store has no inferred graph yet, so the switch changes nothing.",
        "stale": "The inferred graph is older than the data: run the reasoner to refresh it.",
        "current": "The inferred graph is up to date.",
    }[state]
    return st.toggle(
        "Include inferred", key=key, help=f"Also read triples a reasoner derived. {note}"
    )


def pager(total: int, key: str, size: int = PAGE_SIZE) -> int:
    """A page picker for ``total`` rows; returns the offset of the first row to show."""
    pages = max(1, -(-total // size))
    number = 1
    if pages > 1:
        number = int(st.number_input(f"Page (of {pages})", 1, pages, 1, key=key, width=160))
    first = (number - 1) * size
    if total:
        st.caption(f"Showing {first + 1}–{min(first + size, total)} of {total}")
    return first


def empty(message: str) -> None:
    """A friendly note where a list or chart has nothing to show."""
    st.info(message, icon=":material/search_off:")


def finding_link(ref: str) -> None:
    """A link to a finding's page (``study_id/finding_id``)."""
    st.page_link(
        page("findings"),
        label=ref,
        icon=":material/description:",
        query_params={"finding": ref},
    )


def concept_link(iri: str, label: str) -> None:
    """A link to a concept's page in the ontology browser."""
    st.page_link(
        page("ontology"), label=label, icon=":material/label:", query_params={"concept": iri}
    )


def graph_link(iri: str) -> None:
    """A link to the graph view centred on a node."""
    st.page_link(
        page("graph"),
        label="Show in the graph view",
        icon=":material/hub:",
        query_params={"node": iri},
    )


def finding_list(items: Iterable[tuple[str, str, str]]) -> None:
    """Findings as linked rows of (``study_id/finding_id``, statement, a note under it)."""
    for ref, statement, note in items:
        with st.container(border=True):
            left, right = st.columns([2, 5], vertical_alignment="top")
            with left:
                finding_link(ref)
            with right:
                st.markdown(md(statement) if statement else "_(no statement)_")
                if note:
                    st.caption(md(note))


def md(text: str) -> str:
    r"""Text from the graph made safe for markdown: ``*``, ``$``, ``:`` and the like shown as is.

    >>> print(md("costs $5 *per* nurse: 10:1"))
    costs \$5 \*per\* nurse\: 10\:1
    """
    return _MARKDOWN.sub(r"\\\1", text)


def doi_text(doi: str | None) -> str:
    """The DOI itself (``10.x/y``) from its ``https://doi.org/`` IRI."""
    return (doi or "").removeprefix("https://doi.org/").removeprefix("http://doi.org/")
