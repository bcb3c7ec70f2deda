"""Synthesis: the GRADE-CERQual Summary of Qualitative Findings, each review finding opening its
Evidence Profile and the supporting findings with their verbatim quotes; candidate review
findings to synthesise next, and a writer that accepts or edits one with its GRADE-CERQual
assessment, imported as a row of the reviews sheet is (kg.explorer.reviewing)."""

import datetime as dt
import hashlib
import json

import pandas as pd
import streamlit as st

from kg.explorer import ui
from kg.explorer.reports import show_report
from kg.explorer.reviewing import (
    ReviewTable,
    blank_row,
    import_review,
    review_name,
    review_table,
    suggestion_row,
)
from kg.importer import ImportResult
from kg.namespaces import QIKG
from kg.read.findings import finding
from kg.store import Store
from kg.synthesis.model import COMPONENTS, DEFAULT_REVIEW, REVIEW_COLUMNS
from kg.synthesis.nanopub import nanopublications_trig
from kg.synthesis.reviews import ReviewFinding, review_finding, review_findings
from kg.synthesis.soqf import FORMATS, evidence_profile, soqf_table
from kg.synthesis.suggest import suggest
from kg.validate import Report, Violations
from kg.vocabulary import Vocabulary

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
    st.button(
        "Edit this review finding",
        on_click=load_row,
        args=(found.row(),),
        icon=":material/edit:",
        help="Load it into the writer below; importing it replaces it in its review.",
    )
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


def candidates(findings: list[ReviewFinding], review: str) -> None:
    """Groups of findings from several studies that share concepts: review findings to come,
    each of which the writer below can take up."""
    st.subheader("Candidate review findings")
    st.caption(
        "Findings of different studies that share a concept (following the hierarchy and the "
        "CFIR alignment). Accept one to write it below as a review finding, with its statement "
        "and GRADE-CERQual assessment (the same row `qikg suggest-synthesis -o FILE` writes)."
    )
    min_studies = int(st.number_input("From at least this many studies", 2, 20, 2, width=220))
    if not st.toggle("Show candidates", key="synthesis_candidates"):
        return
    with st.spinner("Looking for findings of several studies that share a concept…"):
        groups = ui.cached(suggest, min_studies)
    if not groups:
        ui.empty(f"No concept is shared by findings of {min_studies} or more studies.")
    for n, group in enumerate(groups, start=1):
        with st.expander(
            f"S{n} · {', '.join(group.shared)} · {len(group.studies)} studies, "
            f"{len(group.members)} findings"
        ):
            st.button(
                "Accept: write it as a review finding",
                key=f"synthesis_accept_{n}",
                on_click=load_row,
                args=(new_row(suggestion_row(group, findings, review)),),
                icon=":material/edit_note:",
            )
            st.code(group.supporting_findings, language=None)
            ui.finding_list((m.ref, m.statement, "") for m in group.members)


# --- the writer: a row of the reviews sheet -----------------------------------------------------

#: The levels, in GRADE-CERQual's order.
CONCERNS = (
    QIKG.NoOrVeryMinorConcerns,
    QIKG.MinorConcerns,
    QIKG.ModerateConcerns,
    QIKG.SeriousConcerns,
)
CONFIDENCES = (
    QIKG.HighConfidence,
    QIKG.ModerateConfidence,
    QIKG.LowConfidence,
    QIKG.VeryLowConfidence,
)
#: Widget keys of the writer: one per column of the reviews sheet.
KEY = "rf_"


def level_labels(store: Store) -> tuple[list[str], list[str]]:
    """The labels of the concern levels and of the confidence levels, as the sheet accepts them."""
    vocab = Vocabulary.from_store(store)
    return [vocab.label(str(c)) for c in CONCERNS], [vocab.label(str(c)) for c in CONFIDENCES]


def new_row(row: dict[str, str]) -> dict[str, str]:
    """A new row, assessed today unless the researcher picks another date."""
    return {**row, "assessed_on": row.get("assessed_on") or dt.date.today().isoformat()}


def load_row(row: dict[str, str]) -> None:
    """Put a reviews-sheet row into the writer (a button callback: before widgets are drawn)."""
    for column in REVIEW_COLUMNS:
        st.session_state[KEY + column] = row.get(column, "")
    text = row.get("assessed_on", "")
    try:
        st.session_state[KEY + "assessed_on"] = dt.date.fromisoformat(text) if text else None
    except ValueError:  # not a date: keep the text, the import says what is wrong with it
        st.session_state[KEY + "assessed_on"] = None
        st.session_state[KEY + "assessed_on_text"] = text
    else:
        st.session_state.pop(KEY + "assessed_on_text", None)
    st.session_state[KEY + "extra"] = {c: v for c, v in row.items() if c not in REVIEW_COLUMNS}
    st.session_state[KEY + "loaded"] = row.get("review_finding_id", "")


def written_row() -> dict[str, str]:
    """The writer's fields as a row of the reviews sheet."""
    state = st.session_state
    row = {c: str(state.get(KEY + c) or "").strip() for c in REVIEW_COLUMNS}
    date = state.get(KEY + "assessed_on")
    row["assessed_on"] = date.isoformat() if date else state.get(KEY + "assessed_on_text", "")
    row.update(state.get(KEY + "extra", {}))
    return row


def level_choice(label: str, column: str, levels: list[str], help_text: str) -> None:
    """A level picker whose options are the sheet's words (and a loaded word it does not list)."""
    current = st.session_state.get(KEY + column, "")
    options = ["", *levels, *([current] if current and current not in levels else [])]
    st.selectbox(
        label,
        options,
        key=KEY + column,
        format_func=lambda v: v or "not judged yet",
        help=help_text,
    )


def writer_fields(concerns: list[str], confidences: list[str]) -> None:
    """The fields of one reviews-sheet row, under the sheet's own column names."""
    left, right = st.columns([1, 2])
    left.text_input("Review finding id (review_finding_id)", key=KEY + "review_finding_id")
    right.text_input(
        "Review (review)",
        key=KEY + "review",
        help=f"The review it belongs to; empty is the review {DEFAULT_REVIEW!r}.",
    )
    st.text_area("Review finding (statement)", key=KEY + "statement", height=90)
    st.text_area(
        "Supporting findings (supporting_findings)",
        key=KEY + "supporting_findings",
        height=90,
        help="study_id/finding_id of each finding it synthesises, separated by ;",
    )
    st.text_area("How it was synthesised (explanation)", key=KEY + "explanation", height=68)
    st.markdown("**GRADE-CERQual assessment**")
    for component in COMPONENTS:
        left, right = st.columns([1, 2])
        with left:
            level_choice(
                f"{component.title} ({component.column})",
                component.column,
                concerns,
                "The level of concerns about this component.",
            )
        right.text_area(
            f"Explanation ({component.explanation_column})",
            key=KEY + component.explanation_column,
            height=68,
        )
    left, right = st.columns([1, 2])
    with left:
        level_choice(
            "Overall confidence (confidence)",
            "confidence",
            confidences,
            "How much confidence the review finding deserves.",
        )
    right.text_area(
        "Explanation (confidence_explanation)", key=KEY + "confidence_explanation", height=68
    )
    left, right = st.columns([2, 1])
    left.text_input("Assessor (assessor)", key=KEY + "assessor")
    right.date_input("Assessed on (assessed_on)", key=KEY + "assessed_on", format="YYYY-MM-DD")
    extra = st.session_state.get(KEY + "extra", {})
    if extra:
        st.caption(
            "Kept as notes: " + "; ".join(f"{ui.md(c)}: {ui.md(v)}" for c, v in extra.items())
        )


def check(store: Store, table: ReviewTable, review: str, *, dry_run: bool) -> ImportResult | Report:
    """The import of the review's table (or its dry run), or the report that refused it."""
    try:
        return import_review(store, table, review, dry_run=dry_run)
    except Violations as exc:
        return exc.report


def writer(findings: list[ReviewFinding], review: str) -> None:
    """Accept or edit a review finding and its GRADE-CERQual assessment: a row of the reviews
    sheet, checked by a dry run, then imported as the sheet is."""
    st.subheader("Write a review finding")
    st.caption(
        "A row of the reviews sheet (docs/synthesis.md): accept a candidate above, edit a review "
        "finding, or start a new one. It is checked and imported with the rest of its review, "
        "as `qikg import` imports a reviews sheet."
    )
    done = st.session_state.pop(KEY + "done", None)
    if done:
        st.success(done, icon=":material/task_alt:")
    if KEY + "review_finding_id" not in st.session_state:
        load_row(new_row(blank_row(findings, review)))
    st.button(
        "Start a new review finding",
        on_click=load_row,
        args=(new_row(blank_row(findings, review)),),
        icon=":material/add:",
    )
    concerns, confidences = ui.cached(level_labels)
    with st.container(border=True):
        writer_fields(concerns, confidences)
    row = written_row()
    name = review_name(row)
    table = review_table(findings, row)
    rid = row["review_finding_id"]
    if any(f.review == name and f.review_finding_id == rid for f in findings):
        st.info(
            f"{rid} is already in review {name}: importing replaces it.", icon=":material/edit:"
        )
    handle = ui.store()
    key = hashlib.sha256(
        json.dumps([table, ui.store_version(handle)], sort_keys=True).encode()
    ).hexdigest()
    if st.button(
        "Check", icon=":material/rule:", help="A dry run: nothing is written.", key=KEY + "check"
    ):
        with st.spinner("Checking the review finding against the shapes and the graph…"):
            st.session_state[KEY + "checked"] = (key, check(handle, table, name, dry_run=True))
    checked = st.session_state.get(KEY + "checked")
    if checked is None or checked[0] != key:
        st.caption("Check it first: the Import button appears when it has no violations.")
        return
    found = checked[1]
    show_report(found if isinstance(found, Report) else found.report)
    if isinstance(found, Report):
        return
    st.caption(
        f"Importing writes review {name}: {len(table[1])} review finding(s), {rid} among them."
    )
    if not st.button(
        "Import", type="primary", icon=":material/database_upload:", key=KEY + "import"
    ):
        return
    with st.spinner("Importing…"):
        result = check(handle, table, name, dry_run=False)
    if isinstance(result, Report):  # the graph changed since the check
        show_report(result)
        return
    st.session_state.pop(KEY + "checked", None)
    st.session_state[KEY + "done"] = (
        f"Imported review {name}: {', '.join(result.reviews)}. `qikg undo` takes it back."
    )
    st.session_state["synthesis_show"] = name
    st.query_params["review_finding"] = rid
    st.rerun()


def main() -> None:
    """The page."""
    ui.header(
        "Synthesis",
        "Review findings synthesised across studies, with their GRADE-CERQual assessment of "
        "confidence: the Summary of Qualitative Findings table.",
    )
    findings = ui.cached(review_findings)
    reviews = sorted({f.review for f in findings})
    shown_review = st.session_state.pop("synthesis_show", None)
    if shown_review in reviews:  # the review just imported into
        st.session_state["synthesis_review"] = shown_review
    review = reviews[0] if reviews else DEFAULT_REVIEW
    if not findings:
        ui.empty("No review findings yet: write one below, or import a reviews sheet.")
    else:
        if len(reviews) > 1:
            review = st.selectbox("Review", reviews, key="synthesis_review")
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
    candidates(findings, review)
    st.divider()
    with ui.guard():
        writer(findings, review)


# Streamlit runs a page as __main__; importing it (e.g. pytest's doctest collection) runs nothing.
if __name__ == "__main__":
    main()
