"""Graph: the neighbourhood of a concept, finding or study as a network drawn with Graphviz.

Graphviz runs in the browser from Streamlit's own bundle (no CDN), so the view works offline.
Each node links to the view centred on it.
"""

import html
from collections.abc import Callable
from urllib.parse import urlencode

import streamlit as st

from kg.explorer import ui
from kg.read.concepts import label_index
from kg.read.findings import FindingFilters, search_findings, studies
from kg.read.neighbourhood import COLOURS, Neighbourhood, Node, neighbourhood, to_dot

KINDS_OF_CENTRE = ("Concept", "Finding", "Study")
#: Links are named on the picture only while there are this few; always on hover.
EDGE_LABELS_UP_TO = 30


def forget_click() -> None:
    """A picker changed: the centre is the picked node again, not the last clicked one."""
    st.query_params.pop("node", None)


def recentre() -> None:
    """Centre on the node chosen in the "re-centre" picker (a callback)."""
    st.query_params["node"] = st.session_state["graph_recentre"]


def pick_centre() -> str | None:
    """The pickers for a concept, finding or study, in one row; returns the chosen node's IRI."""
    kind_col, first, second = st.columns(3, vertical_alignment="bottom")
    kind = kind_col.radio(
        "Centre on a", KINDS_OF_CENTRE, key="graph_kind", horizontal=True, on_change=forget_click
    )
    if kind == "Concept":
        names = {
            e.iri: f"{e.text} · {e.kind}"
            for e in ui.cached(label_index)
            if e.preferred and e.lang in ("", "en")
        }
        ordered = sorted(names, key=lambda i: names[i].casefold())
        return first.selectbox(
            "Concept",
            ordered,
            format_func=names.__getitem__,
            key="graph_concept",
            on_change=forget_click,
            index=None,
            placeholder="type to find a concept",
        )
    found = {s.iri: f"{s.citation} ({s.study_id})" for s in ui.cached(studies)}
    study = first.selectbox(
        "Study",
        list(found),
        format_func=found.__getitem__,
        key="graph_study",
        on_change=forget_click,
        index=None,
        placeholder="choose a study",
    )
    if kind == "Study" or study is None:
        return study
    rows = ui.cached(search_findings, FindingFilters(studies=(study,)), limit=500).rows
    labels = {r.iri: f"{r.finding_id}: {r.statement[:90]}" for r in rows}
    return second.selectbox(
        "Finding",
        list(labels),
        format_func=labels.__getitem__,
        key="graph_finding",
        on_change=forget_click,
        index=None,
        placeholder="choose a finding",
    )


def number_param(name: str, default: int, low: int, high: int) -> int:
    """A whole number from the page address (kept by node links), within bounds."""
    text = st.query_params.get(name, "")
    return min(max(int(text), low), high) if text.isdigit() else default


def node_url(depth: int, cap: int) -> Callable[[Node], str]:
    """Where a click on a node leads: this view, centred on that node."""

    def url(node: Node) -> str:
        return "?" + urlencode({"node": node.iri, "depth": depth, "cap": cap})

    return url


def legend(hood: Neighbourhood) -> str:
    """Colour chips for the kinds of node in the picture."""
    chips = "".join(
        f'<span style="display:inline-block;margin:0 .8em .3em 0;white-space:nowrap">'
        f'<span style="display:inline-block;width:.9em;height:.9em;border:1px solid #555;'
        f'border-radius:3px;vertical-align:-.1em;background:{COLOURS[k]}"></span> '
        f"{html.escape(k)}</span>"
        for k in hood.kinds()
    )
    return f'<div style="font-size:.85em">{chips}</div>'


#: The study the page opens on when nothing is chosen, if the graph holds it.
SEED_STUDY = "carstensen2024"


def first_study() -> str | None:
    """The seed study, else the study with the most findings: what the page opens on."""
    found = ui.cached(studies)
    seed = [s.iri for s in found if s.study_id == SEED_STUDY]
    most = [s.iri for s in sorted(found, key=lambda s: (-s.findings, s.study_id))]
    return next(iter(seed or most), None)


def main() -> None:
    """Draw the page."""
    ui.header(
        "Graph",
        "The neighbourhood of a concept, finding or study: what it is linked to, one or two steps "
        "away. Click a node to centre the view on it; hover over one to read it.",
    )
    picked = pick_centre()
    depth_col, cap_col, inferred_col = st.columns(3, vertical_alignment="bottom")
    depth = (
        depth_col.segmented_control(
            "Depth", [1, 2], default=number_param("depth", 1, 1, 2), key="graph_depth"
        )
        or 1
    )
    cap = cap_col.slider(
        "Most nodes", 10, 200, number_param("cap", 60, 10, 200), step=10, key="graph_cap"
    )
    with inferred_col:
        inferred = ui.inferred_toggle("graph_inferred")
    centre = st.query_params.get("node") or picked
    if centre:  # the view's URL says what it shows, so it can be shared and reloaded
        st.query_params.update({"depth": str(depth), "cap": str(cap)})
    else:
        centre = first_study()
        if centre is None:
            st.info("No study in the graph yet: import one to see it here.", icon=":material/hub:")
            return
        st.caption("Showing the seed study; choose a concept, finding or study above.")
    with ui.guard():
        hood = ui.cached(neighbourhood, centre, depth=depth, cap=cap, include_inferred=inferred)
        me = hood.nodes[0]
        st.markdown(
            f"**{me.label}** · {me.kind} · {len(hood.nodes)} nodes, {len(hood.edges)} links"
        )
        if hood.capped:
            st.warning(
                f"Showing the first {cap} nodes only: the neighbourhood is larger. Raise "
                '"Most nodes", choose depth 1, or centre on a narrower node.',
                icon=":material/filter_alt:",
            )
        if len(hood.nodes) == 1:
            ui.empty("Nothing in the graph is linked to this node.")
        else:
            dot = to_dot(
                hood, node_url(depth, cap), edge_labels=len(hood.edges) <= EDGE_LABELS_UP_TO
            )
            st.graphviz_chart(dot, width="content")
            st.html(legend(hood))
        others = {n.iri: f"{n.label} · {n.kind}" for n in hood.nodes[1:]}
        if others:
            st.selectbox(
                "Re-centre on",
                list(others),
                format_func=others.__getitem__,
                index=None,
                key="graph_recentre",
                on_change=recentre,
                placeholder="a node of this view",
            )


if __name__ == "__main__":
    main()
