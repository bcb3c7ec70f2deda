"""Overview: what the graph holds, findings per study and per professional group, the studies."""

from collections import Counter

import altair as alt
import pandas as pd
import streamlit as st

from kg.errors import QikgError
from kg.explorer import ui
from kg.explorer.downloads import study_downloads
from kg.read.findings import facet_options, studies
from kg.read.neighbourhood import KINDS
from kg.read.stats import summary
from kg.store import Store
from kg.store.history import History

#: The most bars a chart draws; the table below lists every study.
MOST_BARS = 30


def bar_chart(frame: pd.DataFrame, category: str, title: str) -> alt.Chart:
    """Horizontal bars of finding counts, largest first, each labelled with its count."""
    base = alt.Chart(frame, title=title).encode(
        y=alt.Y(f"{category}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=220)),
        x=alt.X("findings:Q", title="findings", axis=alt.Axis(tickMinStep=1)),
        tooltip=[f"{category}:N", "findings:Q"],
    )
    bars = base.mark_bar(color="#4c78a8")
    counts = base.mark_text(align="left", dx=3).encode(text="findings:Q")
    return (bars + counts).properties(height=alt.Step(22))


def main() -> None:
    """Draw the page."""
    ui.header(
        "Overview",
        "What the knowledge graph holds: coded studies, their findings, and the vocabulary they "
        "are coded with.",
    )
    numbers = ui.cached(summary)
    cols = st.columns(5)
    for col, (label, key) in zip(
        cols,
        [
            ("Studies", "studies"),
            ("Findings", "findings"),
            ("Quotes", "quotes"),
            ("Concepts", "concepts"),
            ("Triples", "triples"),
        ],
        strict=True,
    ):
        col.metric(label, f"{numbers[key]:,}")

    all_studies = ui.cached(studies)
    groups = ui.cached(facet_options, facets=("professional_groups",))["professional_groups"]
    left, right = st.columns(2)
    with left:
        if all_studies:
            busiest = sorted(all_studies, key=lambda s: -s.findings)[:MOST_BARS]
            repeated = Counter(s.citation for s in busiest)
            per_study = pd.DataFrame(
                {
                    "study": [
                        f"{s.citation} ({s.study_id})" if repeated[s.citation] > 1 else s.citation
                        for s in busiest
                    ],
                    "findings": [s.findings for s in busiest],
                }
            )
            st.altair_chart(bar_chart(per_study, "study", "Findings per study"), width="stretch")
            if len(all_studies) > MOST_BARS:
                st.caption(f"The {MOST_BARS} studies with most findings, of {len(all_studies):,}.")
        else:
            ui.empty("No studies yet: import a coding sheet on the Validate & import page.")
    with right:
        if groups:
            per_group = pd.DataFrame(
                {
                    "professional group": [o.label for o in groups],
                    "findings": [o.findings for o in groups],
                }
            )
            st.altair_chart(
                bar_chart(per_group, "professional group", "Findings per professional group"),
                width="stretch",
            )
            st.caption("A finding counts for its professional group and every broader group.")
        else:
            ui.empty("No finding is coded with a professional group yet.")

    st.subheader("Studies")
    if all_studies:
        table = pd.DataFrame(
            {
                "study": [s.citation for s in all_studies],
                "title": [s.title for s in all_studies],
                "findings": [s.findings for s in all_studies],
                "DOI": [s.doi for s in all_studies],
                "design": [s.design for s in all_studies],
                "country": [s.country for s in all_studies],
                "id": [s.study_id for s in all_studies],
            }
        )
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={
                "title": st.column_config.TextColumn(width="large"),
                "DOI": st.column_config.LinkColumn("DOI", display_text=r"https?://doi\.org/(.*)"),
            },
        )
        citations = {s.study_id: f"{s.citation} ({s.study_id})" for s in all_studies}
        chosen = st.selectbox(
            "Export a study to its coding sheet",
            list(citations),
            format_func=citations.__getitem__,
            index=None,
            placeholder="Choose a study",
            key="overview_export",
            help="The study's studies and findings sheets, as `qikg export-sheet` writes them: "
            "they import again.",
        )
        if chosen is not None:
            study_downloads(chosen)

    st.subheader("Concepts by kind")
    kinds = numbers["concepts_by_kind"]
    if kinds:
        names = {curie.split(":", 1)[1]: name for curie, name in KINDS.items()}
        st.dataframe(
            pd.DataFrame(
                {"kind": [names.get(k, k) for k in kinds], "concepts": list(kinds.values())}
            ).sort_values("concepts", ascending=False),
            hide_index=True,
        )
    else:
        ui.empty("The store holds no concepts: is the ontology loaded?")
    recent_changes()


#: The versions the Overview lists; `qikg history` lists them all.
RECENT = 10


def history(store: Store) -> History:
    """The store's history (a function of its own, so the page caches it per version: on a
    server it is read from the history graph)."""
    return store.history()


def recent_changes() -> None:
    """The latest changes to the store (``qikg history``), newest first."""
    st.subheader("Recent changes")
    try:
        found = ui.cached(history)
    except QikgError as exc:  # a SPARQL server keeps no history yet
        st.caption(str(exc))
        return
    rows = [
        {
            "version": v.number,
            "when (UTC)": v.time.replace("T", " ")[:19],
            "what": v.verb + (f" {v.file['name']}" if v.file else ""),
            "studies": ", ".join(v.studies),
            "triples added": v.added,
            "removed": v.removed,
        }
        for v in reversed(found.versions[-RECENT:])
    ]
    if not rows:
        ui.empty("No change has been recorded yet.")
        return
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption("Take a change back with `qikg undo` or `qikg restore VERSION` (docs/history.md).")


if __name__ == "__main__":
    main()
