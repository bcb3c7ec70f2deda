"""Synthesis: the GRADE-CERQual Summary of Qualitative Findings, each review finding opening its
Evidence Profile and the supporting findings with their verbatim quotes; candidate review
findings to synthesise next."""

import pandas as pd
import streamlit as st

from kg.explorer import ui
from kg.read.findings import finding
from kg.store import Store
from kg.synthesis.nanopub import nanopublications_trig
from kg.synthesis.reviews import ReviewFinding, review_finding, review_findings
from kg.synthesis.soqf import FORMATS, evidence_profile, soqf_table
from kg.synthesis.suggest import suggest

MIME = {
    "md": "text/markdown",
    "csv": "text/csv",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
}


def nanopub_trig(store: Store, review_finding_id: str) -> bytes:
    """The nanopublication of one review finding, as TriG."""
    found = review_finding(store, review_finding_id)
    return nanopublications_trig(store, [found])


def soqf_table_view(findings: list[ReviewFinding]) -> ReviewFinding | None:
    """The SoQF table; returns the review finding whose row is selected."""
    columns, rows = soqf_table(findings)
    event = st.dataframe(
        pd.DataFrame(rows, columns=columns),
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="synthesis_table",
        column_config={
            columns[1]: st.column_config.TextColumn(width="large"),
            columns[4]: st.column_config.TextColumn(width="large"),
        },
    )
    picked = event.selection.rows
    st.caption("Select a row to open its Evidence Profile and supporting findings.")
    return findings[picked[0]] if picked else None


def downloads(findings: list[ReviewFinding], review: str) -> None:
    """A download button per SoQF format."""
    for column, fmt in zip(st.columns(len(FORMATS)), FORMATS, strict=True):
        column.download_button(
            f"SoQF ({fmt})",
            FORMATS[fmt](findings),
            file_name=f"qikg-soqf-{review}.{fmt}",
            mime=MIME[fmt],
            icon=":material/download:",
        )


def review_finding_view(found: ReviewFinding) -> None:
    """One review finding: its Evidence Profile row, then each supporting finding with quotes."""
    st.subheader(f"Review finding {found.review_finding_id}")
    st.markdown(f"#### {found.statement}")
    if found.explanation:
        st.caption(found.explanation)
    columns, rows = evidence_profile([found])
    profile = dict(zip(columns, rows[0], strict=True))
    st.markdown(f"**{profile[columns[-1]]}** · {found.studies_text}")
    if found.confidence_explanation:
        st.markdown(found.confidence_explanation)
    st.dataframe(
        pd.DataFrame({"component": columns[2:-1], "concerns": [profile[c] for c in columns[2:-1]]}),
        hide_index=True,
        column_config={"concerns": st.column_config.TextColumn(width="large")},
    )
    if found.assessor or found.assessed_on:
        st.caption(f"Assessed by {found.assessor or '—'} on {found.assessed_on or '—'}.")
    st.download_button(
        "Nanopublication (TriG)",
        ui.cached(nanopub_trig, found.review_finding_id),
        file_name=f"{found.review_finding_id}.trig",
        mime="application/trig",
        icon=":material/share:",
    )
    st.markdown(f"**Supporting findings** ({len(found.supporting)})")
    for ref in found.supporting:
        detail = ui.cached(finding, ref)
        with st.container(border=True):
            ui.finding_link(ref)
            if detail is None:
                st.warning(f"The graph no longer has the finding {ref}.")
                continue
            st.markdown(detail.statement)
            if detail.study:
                st.caption(detail.study.citation)
            if not detail.quotes:
                st.caption("No verbatim quote is recorded for this finding.")
            for quote in detail.quotes:
                st.markdown("> " + quote.text.replace("\n", "\n> "))
                if quote.location:
                    st.caption(quote.location)


def candidates() -> None:
    """Groups of findings from several studies that share concepts: review findings to come."""
    st.subheader("Candidate review findings")
    st.caption(
        "Findings of different studies that share a concept (following the hierarchy and the "
        "CFIR alignment). Accept one by writing it into a reviews sheet: "
        "`qikg suggest-synthesis -o FILE` writes them all with the supporting findings filled in."
    )
    min_studies = int(st.number_input("From at least this many studies", 2, 20, 2, width=220))
    if not st.toggle("Show candidates", key="synthesis_candidates"):
        return
    groups = ui.cached(suggest, min_studies)
    if not groups:
        ui.empty(f"No concept is shared by findings of {min_studies} or more studies.")
    for n, group in enumerate(groups, start=1):
        with st.expander(
            f"S{n} · {', '.join(group.shared)} · {len(group.studies)} studies, "
            f"{len(group.members)} findings"
        ):
            st.code(group.supporting_findings, language=None)
            ui.finding_list((m.ref, m.statement, "") for m in group.members)


def main() -> None:
    """The page."""
    ui.header(
        "Synthesis",
        "Review findings synthesised across studies, with their GRADE-CERQual assessment of "
        "confidence: the Summary of Qualitative Findings table.",
    )
    findings = ui.cached(review_findings)
    reviews = sorted({f.review for f in findings})
    if not findings:
        ui.empty("No review findings yet: import a reviews sheet (see docs/synthesis.md).")
    else:
        review = (
            st.selectbox("Review", reviews, key="synthesis_review")
            if len(reviews) > 1
            else reviews[0]
        )
        shown = [f for f in findings if f.review == review]
        picked = soqf_table_view(shown)
        if picked is not None:
            st.query_params["review_finding"] = picked.review_finding_id
        downloads(shown, review)
        ref = st.query_params.get("review_finding")
        opened = next((f for f in findings if f.review_finding_id == ref), None)
        if ref and opened is None:
            st.warning(f"The graph has no review finding {ref}.")
        if opened is not None:
            st.divider()
            with ui.guard():
                review_finding_view(opened)
    st.divider()
    candidates()


# Streamlit runs a page as __main__; importing it (e.g. pytest's doctest collection) runs nothing.
if __name__ == "__main__":
    main()
