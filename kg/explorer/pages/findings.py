"""Findings: faceted filters and full-text search, and one finding's page with related findings."""

import streamlit as st

from kg.explorer import ui
from kg.explorer.downloads import XLSX, findings_csv, findings_xlsx, study_downloads
from kg.read.findings import (
    FACETS,
    FindingDetail,
    FindingFilters,
    facet_options,
    finding,
    search_findings,
)
from kg.read.related import related


def back_to_list() -> None:
    """Leave a finding's page for the list (a button callback)."""
    st.query_params.pop("finding", None)


def clear_filters() -> None:
    """Reset every filter (a button callback)."""
    for key in [*FACETS, "text"]:
        st.session_state.pop(f"filter_{key}", None)
    back_to_list()


def filters_sidebar(include_inferred: bool) -> FindingFilters:
    """The filter widgets; returns the choices made."""
    options = ui.cached(facet_options, include_inferred=include_inferred)
    text = st.text_input(
        "Search statements and quotes",
        key="filter_text",
        placeholder="e.g. engagement, bottom-up",
        on_change=back_to_list,
    )
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
            on_change=back_to_list,
        )
        chosen[key] = tuple(picked)
    st.button("Clear filters", on_click=clear_filters, icon=":material/filter_alt_off:")
    return FindingFilters(text=text.strip(), **chosen)


def finding_page(detail: FindingDetail) -> None:
    """A finding: statement, quotes with their sources, codes, provenance and related findings."""
    st.subheader(f"Finding {detail.ref}")
    if detail.theme:
        st.caption(f"Theme: {ui.md(detail.theme)}")
    st.markdown(f"#### {ui.md(detail.statement)}")
    study = detail.study
    if study:
        doi = f" · [doi:{ui.doi_text(study.doi)}]({study.doi})" if study.doi else ""
        st.markdown(
            f"Reported in **{ui.md(study.citation)}**, _{ui.md(study.title)}_. "
            f"{ui.md(study.journal)}{doi}"
        )
        study_downloads(study.study_id)
    st.markdown("**Quotes**")
    if not detail.quotes:
        st.caption("No verbatim quote is recorded for this finding.")
    for q in detail.quotes:
        st.markdown("> " + ui.md(q.text).replace("\n", "\n> "))
        who = f"participant {q.participant}" if q.participant else ""
        where = [ui.md(part) for part in (q.location, who) if part]
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
    source = detail.derived_from
    source_md = f"[{ui.doi_text(source) or source}]({source})" if source else "—"
    st.markdown(
        f"- coded by **{detail.coder or 'unknown'}** on {detail.coded_on or 'an unknown date'}\n"
        f"- derived from {source_md}\n"
        f"- IRI `{detail.iri}`"
    )
    for note in detail.notes:
        st.caption(ui.md(note))
    ui.graph_link(detail.iri)
    st.markdown("**Related findings in other studies**")
    with st.spinner("Looking for findings of other studies that share its concepts…"):
        others = ui.cached(related, detail.iri)
    if not others:
        ui.empty("No finding of another study shares a concept with this one.")
    ui.finding_list(
        (f"{r.study}/{r.finding_id}", r.statement, "shared: " + ", ".join(r.shared)) for r in others
    )


def download_findings(filters: FindingFilters, include_inferred: bool) -> None:
    """The matching findings as a coding sheet (.xlsx, with their studies) and as one CSV
    table; each file is written when its button is pressed (in the background)."""
    handle = ui.store()
    left, right = st.columns(2, width=520)
    left.download_button(
        "Download these findings (.xlsx)",
        lambda: findings_xlsx(handle, filters, include_inferred),
        file_name="qikg-findings.xlsx",
        mime=XLSX,
        icon=":material/download:",
        key="findings_xlsx",
    )
    right.download_button(
        "Download these findings (.csv)",
        lambda: findings_csv(handle, filters, include_inferred),
        file_name="qikg-findings.csv",
        mime="text/csv",
        icon=":material/download:",
        key="findings_csv",
    )


def results(filters: FindingFilters, include_inferred: bool) -> None:
    """The page of matching findings, each linking to its own page."""
    found = ui.cached(
        search_findings, filters, limit=ui.PAGE_SIZE, include_inferred=include_inferred
    )
    total = found.total
    if not total:
        ui.empty("No findings match these filters. Remove a filter or change the search words.")
        return
    st.markdown("**1** finding matches" if total == 1 else f"**{total}** findings match")
    download_findings(filters, include_inferred)
    offset = ui.pager(total, key="findings_page")
    if offset:
        found = ui.cached(
            search_findings,
            filters,
            limit=ui.PAGE_SIZE,
            offset=offset,
            include_inferred=include_inferred,
        )
    ui.finding_list((r.ref, r.statement, r.theme) for r in found.rows)


def main() -> None:
    """Draw the page."""
    ui.header(
        "Findings",
        "Narrow the coded findings by study and by what they are coded with, or search their "
        "statements and quotes. Choosing a broader concept also finds findings coded below it.",
    )
    with st.sidebar:
        st.subheader("Filters")
        inferred = ui.inferred_toggle("findings_inferred")
        chosen = filters_sidebar(inferred)
    ref = st.query_params.get("finding")
    if not ref:
        results(chosen, inferred)
    else:
        st.button("All findings", on_click=back_to_list, icon=":material/arrow_back:")
        with ui.guard():
            detail = ui.cached(finding, ref, include_inferred=inferred)
            if detail is None:
                st.warning(f"The graph has no finding {ref}.")
            else:
                finding_page(detail)


if __name__ == "__main__":
    main()
