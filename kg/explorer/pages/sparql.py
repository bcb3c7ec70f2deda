"""SPARQL: read-only queries, bounded in time and rows, with labels beside IRIs.

Queries run in the store's worker processes with a time limit, so a runaway query is stopped
and never holds up other users of the explorer.
"""

import csv
import io
from dataclasses import dataclass
from itertools import takewhile

import pandas as pd
import streamlit as st

from kg.errors import QikgError
from kg.explorer import ui
from kg.namespaces import PREFIXES, curie
from kg.read.labels import labels
from kg.resources import queries_dir
from kg.sheets.cells import csv_text
from kg.sparql import QueryResult, declared_prefixes, iri_term, sparql_prefixes

MAX_ROWS = 10_000
MAX_SECONDS = 60
EXAMPLE = """# Findings with their study, in study order
SELECT ?study ?finding ?statement WHERE {
  ?finding a qikg:Finding ;
           qikg:reportedIn ?study ;
           qikg:statement ?statement .
}
ORDER BY ?study ?finding
LIMIT 50
"""


@dataclass(frozen=True)
class Question:
    """A competency question: the file's name, the question (its leading comment), the query."""

    name: str
    question: str
    text: str


def competency_questions() -> list[Question]:
    """The shipped competency questions (``ontology/queries/*.rq``), in file order."""
    folder = queries_dir()
    found = []
    for path in sorted(folder.glob("*.rq")) if folder.is_dir() else []:
        text = path.read_text(encoding="utf-8")
        comment = takewhile(lambda line: line.startswith("#"), text.splitlines())
        question = " ".join(line.lstrip("#").strip() for line in comment).strip()
        found.append(Question(path.stem, question or path.stem, text))
    return found


def with_prefixes(text: str) -> str:
    """A shipped question with the qikg prefixes it does not declare itself put in front (read
    from its parse; a question that does not parse is shown as it is)."""
    try:
        declared = set(declared_prefixes(text))
    except QikgError:
        return text
    missing = [p for p in PREFIXES if p not in declared]
    return "".join(f"PREFIX {p}: {iri_term(PREFIXES[p])}\n" for p in missing) + text


def load_question() -> None:
    """Put the chosen competency question in the editor (a callback)."""
    chosen = st.session_state.get("sparql_question")
    if chosen is not None:
        st.session_state["sparql_text"] = with_prefixes(chosen.text)
        save_text()


def save_text() -> None:
    """Keep the editor's text while the user visits other pages."""
    st.session_state["sparql_saved"] = st.session_state["sparql_text"]


def shown(term: dict | None) -> str:
    """A result term as text: IRIs as CURIEs, literals as they are."""
    if term is None:
        return ""
    return curie(term["value"]) if term["type"] == "uri" else term["value"]


def result_frame(result: QueryResult, names: dict[str, str]) -> pd.DataFrame:
    """The rows as a table; each IRI column gets a label column beside it."""
    columns: dict[str, list[str]] = {}
    for var in result.variables:
        terms = [row.get(var) for row in result.bindings]
        columns[var] = [shown(t) for t in terms]
        iris = [t["value"] if t and t["type"] == "uri" else None for t in terms]
        if any(i in names for i in iris if i):
            columns[f"{var} label"] = [names.get(i, "") if i else "" for i in iris]
    return pd.DataFrame(columns)


def download_bytes(result: QueryResult, fmt: str) -> bytes:
    """The results as a download: a CSV's cells are made safe to open in a spreadsheet program
    (kg.sheets.cells), so a literal such as ``=HYPERLINK(...)`` never runs as a formula."""
    if fmt != "csv":
        return result.serialize(fmt)
    rows = csv.reader(io.StringIO(result.serialize("csv").decode("utf-8"), newline=""))
    return csv_text(next(rows, []), rows).encode("utf-8")


def show_result(result: QueryResult, names: dict[str, str], cap: int) -> None:
    """The answer: a table (or yes/no, or Turtle), counts and time, and downloads."""
    count = len(result)
    st.markdown(
        f"**{count:,} {'row' if count == 1 else 'rows'}** in {result.elapsed * 1000:,.0f} ms"
        if result.kind != "ask"
        else f"**Answer: {'yes' if result.boolean else 'no'}**"
    )
    if result.truncated:
        st.warning(
            f"Stopped at the row cap of {cap:,}: raise the cap or narrow the query.",
            icon=":material/content_cut:",
        )
    if result.kind == "select":
        if count:
            st.dataframe(result_frame(result, names), hide_index=True, width="stretch")
        else:
            ui.empty("The query matched nothing.")
        formats = [("CSV", "csv", "text/csv"), ("JSON", "json", "application/sparql-results+json")]
    elif result.kind == "graph":
        st.code(result.serialize("ttl").decode(), language="turtle")
        formats = [("Turtle", "ttl", "text/turtle"), ("JSON-LD", "jsonld", "application/ld+json")]
    else:
        formats = [("JSON", "json", "application/sparql-results+json")]
    row = st.container(horizontal=True)
    for name, fmt, mime in formats:
        row.download_button(
            f"Download {name}",
            download_bytes(result, fmt),
            file_name=f"qikg-results.{fmt}",
            mime=mime,
            icon=":material/download:",
        )


def main() -> None:
    """Draw the page."""
    ui.header(
        "SPARQL",
        "Ask the graph anything in SPARQL 1.1. The qikg prefixes are declared for you. The store "
        "is read-only here: updates, LOAD and SERVICE are refused.",
    )
    questions = competency_questions()
    if questions:
        st.selectbox(
            "Competency questions",
            questions,
            format_func=lambda q: f"{q.name}: {q.question}",
            index=None,
            placeholder="load an example question into the editor",
            key="sparql_question",
            on_change=load_question,
        )
    else:
        st.caption("No competency questions are installed yet (ontology/queries/*.rq).")
    st.session_state.setdefault(
        "sparql_text", st.session_state.get("sparql_saved", sparql_prefixes() + EXAMPLE)
    )
    text = st.text_area("Query", key="sparql_text", height="content", on_change=save_text)
    st.html("<style>.st-key-sparql_text textarea { font-family: ui-monospace, monospace; }</style>")
    left, middle, right, run_col = st.columns([1, 1, 1, 1], vertical_alignment="bottom")
    cap = int(left.number_input("Row cap", 1, MAX_ROWS, 1000, step=100, key="sparql_cap"))
    seconds = int(middle.number_input("Time limit (s)", 1, MAX_SECONDS, 15, key="sparql_seconds"))
    with right:
        inferred = ui.inferred_toggle("sparql_inferred")
    st.caption(f"Each query stops after {seconds} s and returns at most {cap:,} rows.")
    if run_col.button("Run query", type="primary", icon=":material/play_arrow:", width="stretch"):
        st.session_state.pop("sparql_answer", None)
        with ui.guard():
            handle = ui.store()
            result = handle.query(text, timeout=seconds, limit=cap, include_inferred=inferred)
            iris = {
                t["value"] for row in result.bindings for t in row.values() if t["type"] == "uri"
            }
            st.session_state["sparql_answer"] = (result, labels(handle, iris), cap)
    if "sparql_answer" in st.session_state:
        show_result(*st.session_state["sparql_answer"])


if __name__ == "__main__":
    main()
