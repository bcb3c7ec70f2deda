"""Compare: the study x concept matrix of finding counts as a heatmap, with click-through."""

import altair as alt
import pandas as pd
import streamlit as st

from kg.coding import DIMENSIONS
from kg.explorer import ui
from kg.namespaces import curie
from kg.read.compare import Matrix, compare, findings_for
from kg.read.findings import finding
from kg.sheets.cells import csv_text

#: The most studies (rows) and concepts (columns) drawn at once; the CSV has the whole matrix.
MOST_ROWS = 40
MOST_COLUMNS = 40
COLUMNS = {**{d.column: d.title for d in DIMENSIONS}, "cfir": "CFIR 2.0"}


def matrix_csv(matrix: Matrix) -> bytes:
    """The whole matrix as the CSV download, as ``qikg compare --format csv`` writes it: no cell
    runs as a formula in a spreadsheet program (kg.sheets.cells)."""
    header = ["study"] + [label for _, label in matrix.concepts]
    return csv_text(header, ([row[h] for h in header] for row in matrix.rows())).encode()


def long_frame(matrix: Matrix, studies: list[str], concepts: int) -> pd.DataFrame:
    """One row per cell of the chosen studies and the first ``concepts`` columns: study,
    concept (with a unique display name) and count."""
    seen: dict[str, int] = {}
    names = {}
    for iri, label in matrix.concepts:
        seen[label] = seen.get(label, 0) + 1
        names[iri] = label if seen[label] == 1 else f"{label} ({curie(iri)})"
    citations = dict(matrix.studies)
    return pd.DataFrame(
        [
            {
                "study_id": sid,
                "study": f"{citations[sid]} ({sid})",
                "concept_iri": iri,
                "concept": names[iri],
                "findings": matrix.counts.get((sid, iri), 0),
            }
            for sid in studies
            for iri, _ in matrix.concepts[:concepts]
        ]
    )


def shown_studies(matrix: Matrix, columns: str) -> list[str]:
    """All studies when they fit; else a picker, starting with those with most coded findings."""
    ids = [sid for sid, _ in matrix.studies]
    if len(ids) <= MOST_ROWS:
        return ids
    totals: dict[str, int] = {}
    for (sid, _), n in matrix.counts.items():
        totals[sid] = totals.get(sid, 0) + n
    busiest = sorted(sorted(ids, key=lambda s: -totals.get(s, 0))[:MOST_ROWS])
    citations = dict(matrix.studies)
    chosen = st.multiselect(
        "Studies shown",
        ids,
        default=busiest,
        format_func=lambda sid: f"{citations[sid]} ({sid})",
        max_selections=MOST_ROWS,
        key=f"compare_rows_{columns}",
    )
    st.caption(
        f"{len(ids):,} studies: the {MOST_ROWS} with most coded findings are shown first; "
        "choose others here. The CSV download holds them all."
    )
    return chosen or busiest


def heatmap(frame: pd.DataFrame) -> alt.LayerChart:
    """The matrix as coloured cells with their counts; a click selects a cell."""
    cell = alt.selection_point(name="cell", fields=["study_id", "concept_iri"], on="click")
    base = alt.Chart(frame).encode(
        x=alt.X(
            "concept:N",
            sort=list(dict.fromkeys(frame["concept"])),
            title=None,
            axis=alt.Axis(labelAngle=-45, labelLimit=200, labelOverlap=False, orient="top"),
        ),
        y=alt.Y(
            "study:N",
            sort=list(dict.fromkeys(frame["study"])),
            title=None,
            axis=alt.Axis(labelLimit=260),
        ),
    )
    top = max(int(frame["findings"].max()), 1)
    shade = alt.Color(
        "findings:Q",
        scale=alt.Scale(scheme="blues", domain=[0, top]),
        legend=alt.Legend(title="findings", format="d", tickMinStep=1),
    )
    cells = (
        base.mark_rect(stroke="#ffffff", strokeWidth=1)
        .encode(
            color=alt.condition(alt.datum.findings > 0, shade, alt.value("#f1f3f6")),
            opacity=alt.condition(cell, alt.value(1.0), alt.value(0.45)),
            tooltip=["study:N", "concept:N", "findings:Q"],
        )
        .add_params(cell)
    )
    counts = base.mark_text(fontSize=12).encode(
        text=alt.condition(alt.datum.findings > 0, "findings:Q", alt.value("")),
        color=alt.condition(alt.datum.findings > top / 2, alt.value("white"), alt.value("black")),
    )
    return (cells + counts).properties(width=alt.Step(44), height=alt.Step(30))


def remember_click(event: object, frame: pd.DataFrame) -> None:
    """Carry a newly clicked cell into the study and concept pickers."""
    points = getattr(getattr(event, "selection", None), "cell", None) or []
    if not points:
        return
    point = points[0]
    clicked = (point.get("study_id"), point.get("concept_iri"))
    if clicked != st.session_state.get("compare_clicked") and all(clicked):
        st.session_state["compare_clicked"] = clicked
        st.session_state["compare_study"] = clicked[0]
        st.session_state["compare_concept"] = clicked[1]


def cell_findings(refs: list[str], include_inferred: bool) -> None:
    """The findings behind a cell, each with its statement and its verbatim quotes in place (as
    a framework matrix opens its coded passages), and a link to its own page."""
    for ref in refs:
        detail = ui.cached(finding, ref, include_inferred=include_inferred)
        with st.container(border=True):
            ui.finding_link(ref)
            if detail is None:
                st.warning(f"The graph no longer has the finding {ref}.")
                continue
            st.markdown(ui.md(detail.statement) if detail.statement else "_(no statement)_")
            if not detail.quotes:
                st.caption("No verbatim quote is recorded for this finding.")
            for quote in detail.quotes:
                st.markdown("> " + ui.md(quote.text).replace("\n", "\n> "))
                who = f"participant {quote.participant}" if quote.participant else ""
                where = " · ".join(ui.md(p) for p in (quote.location, who) if p)
                if where:
                    st.caption(where)


def main() -> None:
    """Draw the page."""
    ui.header(
        "Compare",
        "How many findings of each study are coded with each concept: the qualitative comparison "
        "table. Click a cell, or pick a study and a concept, to read the findings behind it.",
    )
    columns = (
        st.segmented_control(
            "Columns",
            list(COLUMNS),
            format_func=COLUMNS.__getitem__,
            default="professional_groups",
            key="compare_columns",
        )
        or "professional_groups"
    )
    inferred = ui.inferred_toggle("compare_inferred")
    matrix = ui.cached(compare, columns, include_inferred=inferred)
    if not matrix.concepts or not matrix.studies:
        ui.empty(f"No finding is coded with {COLUMNS[columns].lower()} yet.")
        return
    frame = long_frame(matrix, shown_studies(matrix, columns), MOST_COLUMNS)
    if len(matrix.concepts) > MOST_COLUMNS:
        st.caption(
            f"Showing the {MOST_COLUMNS} most used of {len(matrix.concepts)} concepts; "
            "the CSV download holds them all."
        )
    event = st.altair_chart(
        heatmap(frame), on_select="rerun", key=f"compare_chart_{columns}", width="content"
    )
    remember_click(event, frame)
    st.download_button(
        "Download the matrix (CSV)",
        matrix_csv(matrix),
        file_name=f"qikg-compare-{columns}.csv",
        mime="text/csv",
        icon=":material/download:",
    )

    st.subheader("Findings behind a cell")
    studies = dict.fromkeys(frame["study_id"])
    concepts = dict(zip(frame["concept_iri"], frame["concept"], strict=True))
    citations = dict(zip(frame["study_id"], frame["study"], strict=True))
    if st.session_state.get("compare_concept") not in concepts:
        st.session_state.pop("compare_concept", None)
    left, right = st.columns(2)
    study = left.selectbox(
        "Study",
        list(studies),
        format_func=citations.__getitem__,
        key="compare_study",
        index=None,
        placeholder="choose a study",
    )
    concept = right.selectbox(
        "Concept",
        list(concepts),
        format_func=concepts.__getitem__,
        key="compare_concept",
        index=None,
        placeholder="choose a concept",
    )
    if study and concept:
        rows = ui.cached(findings_for, study, columns, concept)
        if not rows:
            ui.empty(f"{citations[study]} has no finding coded with {concepts[concept]}.")
        cell_findings([f"{study}/{r['fid']}" for r in rows], inferred)


if __name__ == "__main__":
    main()
