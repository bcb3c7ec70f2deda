"""Findings: faceted filters and full-text search, and one finding's page with related findings."""

import pandas as pd
import streamlit as st

from kg.explorer import ui
from kg.findings import FACETS, FindingDetail, FindingFilters, facet_options, finding, search_findings
from kg.linking import related


def clear_filters() -> None:
    """Reset every filter (a button callback)."""
    for key in [*FACETS, "text"]:
        st.session_state.pop(f"filter_{key}", None)


def filters_sidebar(include_inferred: bool) -> FindingFilters:
    """The filter widgets; returns the choices made."""
    options = ui.cached(facet_options, include_inferred=include_inferred)
    text = st.text_input("Search statements and quotes", key="filter_text",
                         placeholder="e.g. engagement, bottom-up")
    chosen: dict[str, tuple[str, ...]] = {}
    for key, facet in FACETS.items():
        found = options[key]
        names = {o.iri: f"{o.label} ({o.findings})" for o in found}
        picked = st.multiselect(
            facet.title,
            list(names),
            format_func=names.__getitem__,
            key=f"filter_{key}",
            disabled=not found,
            placeholder="any" if found else "none coded yet",
        )
        chosen[key] = tuple(picked)
    st.button("Clear filters", on_click=clear_filters, icon=":material/filter_alt_off:")
    return FindingFilters(text=text.strip(), **chosen)


def finding_page(detail: FindingDetail) -> None:
    """A finding: statement, quotes with their sources, codes, provenance and related findings."""
    st.subheader(f"Finding {detail.ref}")
    if detail.theme:
        st.caption(f"Theme: {detail.theme}")
    st.markdown(f"#### {detail.statement}")
    study = detail.study
    if study:
        doi = f" · [doi:{ui.doi_text(study.doi)}]({study.doi})" if study.doi else ""
        st.markdown(f"Reported in **{study.citation}**, _{study.title}_. {study.journal}{doi}")
    st.markdown("**Quotes**")
    if not detail.quotes:
        st.caption("No verbatim quote is recorded for this finding.")
    for q in detail.quotes:
        st.markdown("> " + q.text.replace("\n", "\n> "))
        where = [part for part in (q.location, q.participant and f"participant {q.participant}") if part]
        source = f"[{ui.doi_text(q.source) or q.source}]({q.source})" if q.source else ""
        st.caption(" · ".join([*where, source]) or "source not recorded")
    st.markdown("**Coded with**")
    if not detail.codes:
        st.caption("This finding is not coded with any concept.")
    for prop in dict.fromkeys(c.property for c in detail.codes):
        left, right = st.columns([1, 3])
        left.caption(prop)
        with right:
            for code in (c for c in detail.codes if c.property == prop):
                ui.concept_link(code.iri, code.label)
    st.markdown("**Provenance**")
    provenance = {
        "coded by": detail.coder or "—",
        "coded on": detail.coded_on or "—",
        "derived from": detail.derived_from or "—",
        "IRI": detail.iri,
    }
    st.dataframe(
        pd.DataFrame({"": list(provenance), "value": list(provenance.values())}),
        hide_index=True,
        column_config={"value": st.column_config.TextColumn(width="large")},
    )
    for note in detail.notes:
        st.caption(note)
    ui.graph_link(detail.iri)
    st.markdown("**Related findings in other studies**")
    others = ui.cached(related, detail.iri)
    if not others:
        ui.empty("No finding of another study shares a concept with this one.")
    ui.finding_list(
        (f"{r.study}/{r.finding_id}", r.statement, "shared: " + ", ".join(r.shared)) for r in others
    )


def results(filters: FindingFilters, include_inferred: bool) -> None:
    """The page of matching findings, as a table whose rows open a finding."""
    total = ui.cached(search_findings, filters, limit=0, include_inferred=include_inferred).total
    if not total:
        ui.empty("No findings match these filters. Remove a filter or change the search words.")
        return
    st.markdown("**1** finding matches" if total == 1 else f"**{total}** findings match")
    offset = ui.pager(total, key="findings_page")
    found = ui.cached(search_findings, filters, limit=ui.PAGE_SIZE, offset=offset,
                      include_inferred=include_inferred)
    table = pd.DataFrame(
        {
            "finding": [r.ref for r in found.rows],
            "theme": [r.theme for r in found.rows],
            "statement": [r.statement for r in found.rows],
        }
    )
    event = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=f"findings_table_{hash(filters)}_{offset}",
        column_config={"statement": st.column_config.TextColumn(width="large")},
    )
    rows = event.selection.rows
    if rows:
        ref = found.rows[rows[0]].ref
        if st.session_state.get("picked_finding") != ref:
            st.session_state["picked_finding"] = ref
            st.query_params["finding"] = ref
    st.caption("Select a row to open the finding.")


ui.header(
    "Findings",
    "Narrow the coded findings by study and by what they are coded with, or search their "
    "statements and quotes. Choosing a broader concept also finds findings coded below it.",
)
with st.sidebar:
    st.subheader("Filters")
    inferred = ui.inferred_toggle("findings_inferred")
    chosen = filters_sidebar(inferred)
results(chosen, inferred)
ref = st.query_params.get("finding")
if ref:
    st.divider()
    with ui.guard():
        detail = ui.cached(finding, ref, include_inferred=inferred)
        if detail is None:
            st.warning(f"The graph has no finding {ref}.")
        else:
            finding_page(detail)
