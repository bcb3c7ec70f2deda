"""SPARQL: an editor with highlighting, completion of the ontology's terms and the syntax error
marked in place; read-only queries, bounded in time and rows, with labels beside IRIs.

Queries run in the store's worker processes with a time limit, so a runaway query is stopped
and never holds up other users of the explorer.

The query text lives in ``st.session_state["sparql_text"]`` (the plain-text box's key). The
editor (kg.explorer.editor) reports its text back; the page gives it text only by starting a new
editor (a new key), which happens on three explicit actions: loading a competency question,
opening a link with ``?query=``, and editing the plain-text box.
"""

import csv
import io
import time
from dataclasses import dataclass
from itertools import takewhile

import pandas as pd
import streamlit as st

from kg.errors import QikgError
from kg.explorer import editor, ui
from kg.namespaces import PREFIXES, curie
from kg.read.labels import labels
from kg.resources import queries_dir
from kg.sheets.cells import csv_text
from kg.sparql import QueryResult, declared_prefixes, iri_term

MAX_ROWS = 10_000
MAX_SECONDS = 60
#: Longest query put into the page's address (browsers and proxies cut long URLs).
MAX_URL_QUERY = 6_000
#: How long a press of the Run button waits for the editor's own report. Pressed while the
#: editor has the keyboard, the button runs the editor's "submit" instead (text and run in one
#: message, kg.explorer.editor.run_button_bridge) and this wait is not reached; it stays for a
#: browser where that script could not reach the editor, in which the press takes the focus from
#: the editor, which then sends its text, a message that can land after the click's. A report
#: that comes within the wait starts the run over with the new text (Streamlit stops a run when a
#: newer one is asked for).
RUN_GRACE_S = 0.3
NUMERIC = {
    f"http://www.w3.org/2001/XMLSchema#{t}"
    for t in (
        "integer decimal double float long int short byte nonNegativeInteger positiveInteger "
        "nonPositiveInteger negativeInteger unsignedLong unsignedInt unsignedShort unsignedByte"
    ).split()
}
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
    """A shipped question with the qikg prefixes it does not declare itself added after its
    leading comment (read from its parse; a question that does not parse is shown as it is), so
    that a copied question also runs on another SPARQL server.

    >>> print(with_prefixes("# Q?\\nPREFIX qikg: <urn:q#>\\nASK {}"), end="")  # doctest: +ELLIPSIS
    # Q?
    PREFIX cfir: <https://w3id.org/qikg/cfir#>
    ...
    PREFIX qikg: <urn:q#>
    ASK {}
    """
    try:
        declared = set(declared_prefixes(text))
    except QikgError:
        return text
    missing = "".join(
        f"PREFIX {p}: {iri_term(PREFIXES[p])}\n" for p in PREFIXES if p not in declared
    )
    lines = text.splitlines(keepends=True)
    head = list(takewhile(lambda line: line.startswith("#"), lines))
    return "".join(head) + missing + "".join(lines[len(head) :])


def put_text(text: str) -> None:
    """Replace the query text: called only for an explicit load (a question, a link)."""
    previous = st.session_state.get("sparql_text")
    if previous is not None and previous.strip() and previous != text:
        st.session_state["sparql_previous"] = previous
    st.session_state["sparql_text"] = text
    renew_editor()


def renew_editor() -> None:
    """Start a new editor from the current text (the only way the editor is given text)."""
    st.session_state["sparql_editor"] = st.session_state.get("sparql_editor", 0) + 1
    st.session_state["sparql_saved"] = st.session_state["sparql_text"]


def ask_to_run() -> None:
    """The Run button's callback: remember that a run was asked for. Callbacks run before the
    script does, so the wish survives even if the editor's report interrupts this run."""
    st.session_state["sparql_run_pending"] = True


def load_question() -> None:
    """Put the chosen competency question in the editor (a callback), then clear the choice so
    the same question can be loaded again."""
    chosen = st.session_state.get("sparql_question")
    if chosen is not None:
        put_text(chosen.text)
        st.session_state["sparql_question"] = None


def restore_previous() -> None:
    """Take back the last load: the text the user had before it (a callback)."""
    previous = st.session_state.pop("sparql_previous", None)
    if previous is not None:
        st.session_state["sparql_text"] = previous
        renew_editor()


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


def chart_frame(result: QueryResult, names: dict[str, str]) -> pd.DataFrame | None:
    """For a two-column answer whose second column is numeric: one bar per row, named by the
    first column's label (else its CURIE or value), as ``name`` and ``value``; else None."""
    if result.kind != "select" or len(result.variables) != 2 or not result.bindings:
        return None
    first, second = result.variables
    bars: dict[str, float] = {}
    for row in result.bindings:
        value = row.get(second)
        if value is None or value["type"] != "literal" or value.get("datatype") not in NUMERIC:
            return None
        term = row.get(first)
        name = names.get(term["value"], shown(term)) if term else ""
        bars[name] = bars.get(name, 0.0) + float(value["value"])
    return pd.DataFrame({"name": list(bars), "value": list(bars.values())})


def download_bytes(result: QueryResult, fmt: str) -> bytes:
    """The results as a download: a CSV's cells are made safe to open in a spreadsheet program
    (kg.sheets.cells), so a literal such as ``=HYPERLINK(...)`` never runs as a formula; TSV
    writes every term in SPARQL syntax (``"=..."``, ``<iri>``), which no spreadsheet runs."""
    if fmt != "csv":
        return result.serialize(fmt)
    rows = csv.reader(io.StringIO(result.serialize("csv").decode("utf-8"), newline=""))
    return csv_text(next(rows, []), rows).encode("utf-8")


def show_result(result: QueryResult, names: dict[str, str], cap: int) -> None:
    """The answer: a table (or yes/no, or Turtle), a chart when it has one, counts, downloads."""
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
            bars = chart_frame(result, names)
            if bars is not None:
                first, second = result.variables
                st.bar_chart(bars, x="name", y="value", x_label=first, y_label=second)
        else:
            ui.empty("The query matched nothing.")
        formats = [
            ("CSV", "csv", "text/csv"),
            ("TSV", "tsv", "text/tab-separated-values"),
            ("JSON", "json", "application/sparql-results+json"),
        ]
    elif result.kind == "graph":
        st.code(result.serialize("ttl").decode(), language="turtle")
        formats = [
            ("Turtle", "ttl", "text/turtle"),
            ("N-Triples", "nt", "application/n-triples"),
            ("JSON-LD", "jsonld", "application/ld+json"),
        ]
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


def run_query(text: str, cap: int, seconds: int, inferred: bool) -> None:
    """Run the text through the store (kg API: read-only, bounded) and keep the answer, or the
    error and where it is, for the page to show."""
    for key in ("sparql_answer", "sparql_error", "sparql_query_file"):
        st.session_state.pop(key, None)
    if len(text) <= MAX_URL_QUERY:
        st.query_params["query"] = text
        st.session_state["sparql_url"] = text
    handle = ui.store()
    try:
        result = handle.query(text, timeout=seconds, limit=cap, include_inferred=inferred)
    except QikgError as exc:
        st.session_state["sparql_error"] = (str(exc), text)
        return
    iris = {t["value"] for row in result.bindings for t in row.values() if t["type"] == "uri"}
    st.session_state["sparql_answer"] = (result, labels(handle, iris), cap)
    # parsed here only once the worker has run it, within its time limit
    st.session_state["sparql_query_file"] = with_prefixes(text)


def questions_picker() -> None:
    """The competency questions, each loaded into the editor when chosen."""
    questions = competency_questions()
    if not questions:
        st.caption("No competency questions are installed yet (ontology/queries/*.rq).")
        return
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    left.selectbox(
        "Load a competency question (replaces the editor's text)",
        questions,
        format_func=lambda q: f"{q.name}: {q.question}",
        index=None,
        placeholder="choose a question to load it into the editor",
        key="sparql_question",
        on_change=load_question,
    )
    if "sparql_previous" in st.session_state:
        right.button(
            "Restore my query",
            icon=":material/undo:",
            help="Put back the text the editor had before the last load.",
            on_click=restore_previous,
        )


def main() -> None:
    """Draw the page."""
    ui.header(
        "SPARQL",
        "Ask the graph anything in SPARQL 1.1. The qikg prefixes are declared for you. The store "
        "is read-only here: updates, LOAD and SERVICE are refused.",
    )
    questions_picker()
    # a link with ?query= opens with that query and its answer (once: later edits are the user's)
    linked = st.query_params.get("query")
    run_now = False
    if linked and linked != st.session_state.get("sparql_url"):
        st.session_state["sparql_url"] = linked
        put_text(linked)
        run_now = True
    if "sparql_text" not in st.session_state:
        st.session_state["sparql_text"] = st.session_state.get("sparql_saved", EXAMPLE)
    key = f"sparql_editor_{st.session_state.get('sparql_editor', 0)}"
    # the editor's news is read before it is drawn, so it is drawn with the newest text
    answer = st.session_state.get(key)
    if (
        isinstance(answer, dict)
        and answer.get("id")
        and answer["id"] != st.session_state.get("sparql_seen")
    ):
        st.session_state["sparql_seen"] = answer["id"]
        st.session_state["sparql_text"] = st.session_state["sparql_saved"] = answer["text"]
        run_now = run_now or answer.get("type") == "submit"
    error = st.session_state.get("sparql_error")
    editor.sparql_editor(
        st.session_state["sparql_text"],
        key=key,
        items=editor.ontology_completions(),
        error_props=editor.marks(error[0], error[1]) if error else {},
    )
    st.caption(
        "Ctrl+Space completes terms and prefixes (with their labels); Ctrl+Enter runs the query."
    )
    left, middle, right, run_col = st.columns([1, 1, 1, 1], vertical_alignment="bottom")
    cap = int(left.number_input("Row cap", 1, MAX_ROWS, 1000, step=100, key="sparql_cap"))
    seconds = int(middle.number_input("Time limit (s)", 1, MAX_SECONDS, 15, key="sparql_seconds"))
    with right:
        inferred = ui.inferred_toggle("sparql_inferred")
    run_col.button(
        "Run query",
        type="primary",
        icon=":material/play_arrow:",
        width="stretch",
        on_click=ask_to_run,
        key="sparql_run",
    )
    with st.container(key="sparql_run_bridge"):  # hidden (below): a script, nothing to see
        st.html(editor.run_button_bridge("sparql_run"), unsafe_allow_javascript=True)
    st.caption(f"Each query stops after {seconds} s and returns at most {cap:,} rows.")
    with st.expander("Plain text (for screen readers, or to paste a whole query)"):
        st.text_area(
            "Query",
            key="sparql_text",
            height="content",
            on_change=renew_editor,
            help="Changes here replace the editor's text when you leave the box.",
        )
    st.html(
        "<style>.st-key-sparql_text textarea { font-family: ui-monospace, monospace; }"
        " .st-key-sparql_run_bridge { display: none; }</style>"
    )
    if st.session_state.get("sparql_run_pending"):
        time.sleep(RUN_GRACE_S)
        st.empty()  # here a report from the editor that came meanwhile starts the run over
        st.session_state.pop("sparql_run_pending", None)
        run_now = True
    if run_now:
        run_query(st.session_state["sparql_text"], cap, seconds, inferred)
        if st.session_state.get("sparql_error") != error:
            st.rerun()  # mark the new error (or clear the old one) in the editor
    if "sparql_error" in st.session_state:
        st.error(st.session_state["sparql_error"][0], icon=":material/error:")
    if "sparql_answer" in st.session_state:
        show_result(*st.session_state["sparql_answer"])
        st.download_button(
            "Download the query (.rq, every prefix declared)",
            st.session_state.get("sparql_query_file", ""),
            file_name="qikg-query.rq",
            mime="application/sparql-query",
            icon=":material/code:",
            type="tertiary",
        )


if __name__ == "__main__":
    main()
