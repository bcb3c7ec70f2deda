"""Ontology browser: concept schemes as expandable trees, a search over labels, a concept's page."""

import html
from urllib.parse import quote

import pandas as pd
import streamlit as st

from kg.explorer import ui
from kg.namespaces import curie
from kg.read.concepts import (
    ConceptDetail,
    Link,
    TreeNode,
    concept,
    label_index,
    scheme_trees,
    schemes,
    search_labels,
)
from kg.read.findings import FindingFilters, search_findings


def show(iri: str) -> None:
    """Open a concept's page (a button callback)."""
    st.query_params["concept"] = iri


def contains(node: TreeNode, iri: str | None) -> bool:
    """True when ``iri`` is this node or below it."""
    return iri is not None and (node.iri == iri or any(contains(c, iri) for c in node.children))


def tree_html(nodes: list[TreeNode], selected: str | None) -> str:
    """Nested, collapsible lists; the branch holding the selected concept starts open."""
    items = []
    for n in nodes:
        name = html.escape(n.label)
        if n.iri == selected:
            name = f"<strong>{name}</strong>"
        link = f'<a href="?concept={quote(n.iri, safe="")}">{name}</a>'
        count = f' <span class="n">{n.findings}</span>' if n.findings else ""
        if n.children:
            opened = " open" if contains(n, selected) else ""
            items.append(
                f"<li><details{opened}><summary>{link}{count}</summary>"
                f"{tree_html(n.children, selected)}</details></li>"
            )
        else:
            items.append(f'<li class="leaf">{link}{count}</li>')
    return f"<ul>{''.join(items)}</ul>"


TREE_STYLE = """<style>
.qikg-tree ul { list-style: none; padding-left: 1.1em; margin: 0; }
.qikg-tree > ul { padding-left: 0; }
.qikg-tree li { margin: .1em 0; line-height: 1.5; }
.qikg-tree li.leaf { padding-left: 1.05em; }
.qikg-tree summary { cursor: pointer; }
.qikg-tree a { color: inherit; text-decoration: none; }
.qikg-tree a:hover { text-decoration: underline; }
.qikg-tree .n { font-size: .8em; color: #555; background: #e8eef7; border-radius: .6em;
                padding: 0 .45em; margin-left: .3em; }
</style>"""


def links(title: str, found: list[Link]) -> None:
    """A titled list of related concepts: in-app links, or web links for outside vocabularies."""
    if not found:
        return
    st.markdown(f"**{title}**")
    for link in found:
        with st.container(horizontal=True, vertical_alignment="center"):
            if link.internal:
                ui.concept_link(link.iri, f"{link.label} ({curie(link.iri)})")
            else:
                st.markdown(f"[{curie(link.iri)}]({link.iri}) :material/open_in_new:")
            if link.relation != title.lower():
                st.caption(f"{link.relation} · {link.system}")


def source_text(source: str) -> str:
    """A source as markdown: a link when it is a web address."""
    return f"[{source}]({source})" if source.startswith(("http://", "https://")) else ui.md(source)


def concept_page(detail: ConceptDetail) -> None:
    """Everything about one concept, then the findings coded with it or a narrower concept."""
    st.subheader(detail.label)
    schemes_in = ", ".join(s.label or "" for s in detail.schemes)
    st.caption(
        f"`{detail.curie}` · {', '.join(detail.kinds) or 'concept'} · in {schemes_in or '—'}"
    )
    for d in detail.definitions:
        st.markdown(ui.md(d.text) + (f" _({d.lang})_" if d.lang not in ("", "en") else ""))
    for note in detail.notes:
        st.caption(ui.md(note))
    if detail.sources:
        st.markdown("**Source**\n\n" + "\n\n".join(f"- {source_text(s)}" for s in detail.sources))
    st.markdown("**Labels**")
    st.dataframe(
        pd.DataFrame(
            {
                "label": [lb.text for lb in detail.labels],
                "language": [lb.lang or "—" for lb in detail.labels],
                "kind": [lb.kind for lb in detail.labels],
            }
        ),
        hide_index=True,
    )
    links("Broader", detail.broader)
    links("Narrower", detail.narrower)
    links("Related", detail.related)
    links("Alignments", detail.alignments)
    ui.graph_link(detail.iri)
    st.markdown("**Findings coded with it** (or with a narrower concept)")
    filters = FindingFilters(coded_with=(detail.iri,))
    found = ui.cached(search_findings, filters, limit=ui.PAGE_SIZE)
    if not found.total:
        ui.empty("No finding is coded with this concept yet.")
        return
    offset = ui.pager(found.total, key=f"concept_page_{detail.iri}")
    if offset:
        found = ui.cached(search_findings, filters, limit=ui.PAGE_SIZE, offset=offset)
    ui.finding_list((r.ref, r.statement, r.theme) for r in found.rows)


def main() -> None:
    """Draw the page."""
    ui.header(
        "Ontology",
        "The vocabulary findings are coded with: professional groups, roles, QIC components, "
        "determinants, outcomes, theory, CFIR 2.0 and GRADE-CERQual. Numbers count findings coded "
        "with a concept or one below it.",
    )
    selected = st.query_params.get("concept")
    text = st.text_input(
        "Search concept labels",
        placeholder="e.g. nurse, PDSA, lack of time, sygeplejerske (typos are fine)",
    )
    if text:
        hits = search_labels(ui.cached(label_index), text, limit=8)
        if not hits:
            ui.empty(f'No concept label is close to "{text}".')
        for hit in hits:
            matched = f' — matched "{hit.matched}"' if hit.matched != hit.label else ""
            st.button(
                f"{hit.label} · {hit.kind}{matched}",
                key=f"hit_{hit.iri}",
                on_click=show,
                args=(hit.iri,),
                icon=":material/label:",
                type="tertiary",
            )

    left, right = st.columns([2, 3], gap="large")
    with left:
        trees = ui.cached(scheme_trees)
        for scheme in ui.cached(schemes):
            nodes = trees.get(scheme.iri, [])
            opened = any(contains(n, selected) for n in nodes)
            with st.expander(f"{scheme.label} · {scheme.concepts} concepts", expanded=opened):
                st.html(f'{TREE_STYLE}<div class="qikg-tree">{tree_html(nodes, selected)}</div>')
    with right:
        if not selected:
            st.info(
                "Choose a concept in a tree, or search for one above.",
                icon=":material/account_tree:",
            )
        else:
            detail = ui.cached(concept, selected)
            if detail is None:
                st.warning(f"The graph has no concept {selected}.")
            else:
                concept_page(detail)


if __name__ == "__main__":
    main()
