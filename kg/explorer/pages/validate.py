"""Validate & import: check a coding sheet or RDF file against the shapes, then import it.

Nothing is imported unless the file has no violations, and the import is all or nothing.
"""

import hashlib
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import streamlit as st

from kg.errors import DataProblem
from kg.explorer import ui
from kg.explorer.reports import show_report
from kg.explorer.settings import MAX_UPLOAD_MB
from kg.importer import ImportResult, import_path
from kg.namespaces import curie
from kg.qda import QdaResult, import_qda, read_qda
from kg.qda.mapping import COLUMNS, MATCHES, NO_TERM, sssom_text, template_rows
from kg.qda.read import Project
from kg.remove import remove_study
from kg.sheets.template import write_template
from kg.store import Store
from kg.studies import study_ids
from kg.validate import Report, Violations
from kg.vocabulary import Vocabulary

UPLOAD_TYPES = ["xlsx", "xlsm", "zip", "ttl", "trig", "jsonld", "nt", "nq", "qdpx", "qdc"]
QDA_SUFFIXES = (".qdpx", ".qdc")


def template_bytes(store: Store) -> bytes:
    """The coding-sheet template workbook, with the labels the store's vocabulary allows."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "qikg-coding-sheet.xlsx"
        write_template(path, Vocabulary.from_store(store))
        return path.read_bytes()


@contextmanager
def saved(name: str, data: bytes) -> Iterator[Path]:
    """The upload as a file of its own name in a private temporary folder."""
    safe = re.sub(r"[^\w.-]", "_", Path(name).name) or "upload"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / safe
        path.write_bytes(data)
        yield path


def dry_run(name: str, data: bytes, replace: bool) -> ImportResult | Report:
    """An upload imported without writing (``qikg import --dry-run``): its report when it would be
    refused, else what it would do. One pass checks the shapes and compares it with the graph;
    kept for this session until the file, the Replace choice or the store changes."""
    key = (hashlib.sha256(data).hexdigest(), ui.store_version(ui.store()), replace)
    memo = st.session_state.get("validate_memo")
    if memo is None or memo[0] != key:
        try:
            with st.spinner("Checking the file against the shapes and the graph…"):
                with saved(name, data) as path:
                    found: ImportResult | Report = import_path(
                        ui.store(), path, replace=replace, dry_run=True
                    )
        except Violations as exc:
            found = exc.report
        memo = (key, found)
        st.session_state["validate_memo"] = memo
    return memo[1]


def import_upload(name: str, data: bytes, replace: bool) -> None:
    """Import a checked upload; report what was imported, or why not."""
    try:
        with st.spinner("Importing…"), saved(name, data) as path:
            result = import_path(ui.store(), path, replace=replace)
    except DataProblem as exc:
        problems = getattr(exc, "report", None)
        if problems is None:
            st.error(str(exc), icon=":material/block:")
        else:
            show_report(problems)
        return
    changed = "".join(f"\n\n{changes.to_text()}" for changes in result.changes)
    studies = ", ".join(result.studies)
    done = f"Imported {studies}: {result.findings} findings.{changed}"
    # the page is drawn again at once: it shows this instead of checking the file anew
    st.session_state["validate_imported"] = (hashlib.sha256(data).hexdigest(), done)
    st.rerun()


def qda_import(
    name: str, data: bytes, study: str, mapping: bytes | None, *, dry_run: bool, replace: bool
) -> QdaResult:
    """Check (``dry_run``) or import a REFI-QDA upload into a study, with its SSSOM mapping."""
    with saved(name, data) as path, saved("mapping.sssom.tsv", mapping or b"") as table:
        return import_qda(
            ui.store(), path, study, table if mapping else None, dry_run=dry_run, replace=replace
        )


#: The mapping table's columns the researcher edits; the others are the code and the suggestion.
EDITED = ("predicate_id", "object_id", "finding", "role", "mapping_justification")
JUSTIFICATIONS = ["semapv:LexicalMatching", "semapv:ManualMappingCuration"]
MANUAL = "semapv:ManualMappingCuration"


def read_project(name: str, data: bytes) -> Project:
    """The uploaded REFI-QDA project, read under the same safety rules as on the command line."""
    with saved(name, data) as path:
        return read_qda(path)


def suggested_mapping(store: Store, name: str, data: bytes) -> list[list[str]]:
    """The mapping table ``qikg mapping-template`` writes for the upload: one row per code."""
    return template_rows(read_project(name, data), Vocabulary.from_store(store))


def edited_rows(
    suggested: list[list[str]], edited: pd.DataFrame, labels: dict[str, str]
) -> list[list[str]]:
    """The table's rows (cells in mapping.COLUMNS order) after the researcher's edits: a row
    whose match changed is their own curation (its lexical confidence no longer applies), and
    its object_label is the new concept's label (``labels``: CURIE or IRI -> label)."""
    rows = []
    for before, (_, after) in zip(suggested, edited.iterrows(), strict=True):
        row = dict(zip(COLUMNS, before, strict=True))
        cells = {c: after[c] for c in EDITED}
        cells["finding"] = "yes" if cells["finding"] is True else ""
        cells = {c: "" if v is None else str(v).strip() for c, v in cells.items()}
        if any(cells[c] != row[c] for c in ("predicate_id", "object_id", "finding", "role")):
            if cells["mapping_justification"] == row["mapping_justification"]:
                cells["mapping_justification"] = MANUAL
        if cells["object_id"] != row["object_id"]:
            cells["object_label"] = labels.get(cells["object_id"], "")
            cells["confidence"] = ""
        row.update(cells)
        rows.append([row[c] for c in COLUMNS])
    return rows


def concept_labels(store: Store) -> dict[str, str]:
    """Every concept's label by its CURIE and its IRI (to name a concept typed into the table)."""
    vocab = Vocabulary.from_store(store)
    return {key: c.label for iri, c in vocab.concepts.items() for key in (iri, curie(iri))}


def mapping_editor(name: str, data: bytes) -> bytes:
    """The codes of the upload in an editable mapping table with the suggested matches filled
    in; returns the SSSOM TSV it makes (the table ``qikg import-qda --mapping`` reads)."""
    suggested = ui.cached(suggested_mapping, name, data)
    frame = pd.DataFrame(suggested, columns=COLUMNS)
    frame["finding"] = frame["finding"] == "yes"
    st.markdown("**Map the codes to the vocabulary**")
    st.caption(
        "One row per code, with the closest vocabulary label as a suggestion. Confirm or change "
        "each match (object_id: a concept such as qikg:Nurse or cfir:AvailableResources, or "
        f"{NO_TERM} for none), tick the codes that are findings, and say whether a determinant "
        "is a barrier. The table is the SSSOM mapping table of docs/qda-import.md."
    )
    edited = st.data_editor(
        frame,
        key=f"qda_mapping_{hashlib.sha256(data).hexdigest()[:16]}",
        hide_index=True,
        num_rows="fixed",
        width="stretch",
        disabled=[c for c in COLUMNS if c not in EDITED],
        column_config={
            "subject_id": st.column_config.TextColumn("code (subject_id)"),
            "subject_label": st.column_config.TextColumn("code name"),
            "predicate_id": st.column_config.SelectboxColumn(
                options=sorted(curie(m) for m in MATCHES), required=True
            ),
            "object_id": st.column_config.TextColumn("concept (object_id)"),
            "finding": st.column_config.CheckboxColumn("finding"),
            "role": st.column_config.SelectboxColumn(options=["", "enabler", "barrier"]),
            "mapping_justification": st.column_config.SelectboxColumn(options=JUSTIFICATIONS),
            "comment": st.column_config.TextColumn("place in the code tree (comment)"),
        },
    )
    rows = edited_rows(suggested, edited, ui.cached(concept_labels))
    text = sssom_text(read_project(name, data), rows).encode()
    st.session_state["qda_sssom"] = text  # what the import reads (and what the download holds)
    st.download_button(
        "Download the mapping table (SSSOM TSV)",
        text,
        file_name=f"{Path(name).stem}.sssom.tsv",
        mime="text/tab-separated-values",
        icon=":material/download:",
    )
    return text


def qda_section(name: str, data: bytes) -> None:
    """A REFI-QDA project or codebook: pick the study, map its codes, see the re-anchoring."""
    studies = study_ids(ui.store())
    study = st.selectbox("Study the project belongs to", studies, key="qda_study")
    if study is None:
        st.info("Import the study's row from a coding sheet first.", icon=":material/info:")
        return
    mapping = mapping_editor(name, data)
    table = st.file_uploader(
        "Or use a mapping table file instead (SSSOM TSV, optional)", type=["tsv"], key="qda_mapping"
    )
    if table is not None:
        mapping = table.getvalue()
    replace = st.checkbox("Replace the QDA data the study holds", key="qda_replace")
    for dry_run in (True, False):
        try:
            result = qda_import(name, data, study, mapping, dry_run=dry_run, replace=replace)
        except DataProblem as exc:
            found = getattr(exc, "result", None)
            if found is not None and found.anchoring.total:
                st.code(found.anchoring.to_text(), language=None)
            show_report(getattr(exc, "report", Report([], 0)))
            return
        if dry_run:
            if result.anchoring.total:
                st.code(result.anchoring.to_text(), language=None)
            show_report(result.report)
            st.caption(result.summary())
            if not st.button("Import", type="primary", icon=":material/database_upload:"):
                return
    st.success(result.summary(), icon=":material/task_alt:")


def remove_section() -> None:
    """Withdraw a study after saying exactly what goes (``qikg remove``); the history keeps it."""
    handle = ui.store()
    if not handle.keeps_history:
        st.caption("Removing a study is not yet available on a SPARQL server (docs/history.md).")
        return
    chosen = st.selectbox(
        "Study", study_ids(handle), index=None, placeholder="Choose a study", key="remove_study"
    )
    if chosen is None:
        return
    plan = remove_study(handle, chosen, force=True, dry_run=True)
    st.markdown(plan.summary().replace("would remove", "Removing takes away", 1) + ".")
    confirmed = True
    if plan.citing:
        st.warning(
            f"Review findings cite its findings: {', '.join(plan.citing)}. They would stay, "
            "citing findings that are gone.",
            icon=":material/warning:",
        )
        confirmed = st.checkbox(f"Remove {chosen} all the same", key="remove_force")
    if st.button(f"Remove {chosen}", icon=":material/delete:", disabled=not confirmed):
        done = remove_study(handle, chosen, force=bool(plan.citing))
        st.success(
            done.summary() + ". It can be taken back: `qikg undo` (docs/history.md).",
            icon=":material/task_alt:",
        )


def main() -> None:
    """Draw the page."""
    ui.header(
        "Validate & import",
        "Upload a coding sheet (.xlsx, or a .zip of studies.csv and findings.csv), an RDF file "
        "(.ttl, .trig, .jsonld) of one study, or a REFI-QDA project or codebook (.qdpx, .qdc). Every problem is reported by row and column; the "
        "file is imported only when it has no violations.",
    )
    st.download_button(
        "Download the coding-sheet template (.xlsx)",
        ui.cached(template_bytes),
        file_name="qikg-coding-sheet.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
    )
    with st.expander("Remove a study", icon=":material/delete:"), ui.guard():
        remove_section()
    # the page's own check: the server's limit is the explorer's only if it was started with
    # its settings (qikg explore), and may be set lower
    limit_mb = min(MAX_UPLOAD_MB, int(st.get_option("server.maxUploadSize")))
    upload = st.file_uploader(
        f"Coding sheet or RDF file (at most {limit_mb} MB)",
        type=UPLOAD_TYPES,
        max_upload_size=limit_mb,
        key="validate_upload",
    )
    if upload is None:
        st.info(
            "Choose a file to check it. Nothing is imported until you press Import.",
            icon=":material/upload_file:",
        )
        return
    if upload.size > limit_mb * 1024 * 1024:
        st.error(
            f"{upload.name} is {upload.size / 2**20:.1f} MB; the limit is {limit_mb} MB. "
            "Split the studies into smaller files.",
            icon=":material/block:",
        )
        return
    data = upload.getvalue()
    if Path(upload.name).suffix.lower() in QDA_SUFFIXES:
        with ui.guard():
            qda_section(upload.name, data)
        return
    imported = st.session_state.get("validate_imported")
    if imported is not None and imported[0] == hashlib.sha256(data).hexdigest():
        st.success(imported[1], icon=":material/task_alt:")
        st.caption("Choose another file to check it; `qikg undo` takes this import back.")
        return
    with ui.guard():
        replace = st.checkbox(
            "Replace studies and findings already in the graph", key="validate_replace"
        )
        found = dry_run(upload.name, data, replace)
        show_report(found if isinstance(found, Report) else found.report)
        if isinstance(found, Report):
            return
        for changes in found.changes:
            st.info(f"Importing changes {changes.to_text()}.", icon=":material/difference:")
        if st.button("Import", type="primary", icon=":material/database_upload:"):
            import_upload(upload.name, data, replace)


if __name__ == "__main__":
    main()
