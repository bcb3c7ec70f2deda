"""SSSOM mapping tables between a study's own codes and the qikg vocabulary.

A table is SSSOM TSV: a ``#``-prefixed YAML header (its ``curie_map`` is read) and one row per
mapping, with the SSSOM columns ``subject_id`` (the code: its GUID, its IRI, ``code:GUID`` or
``code:NAME``), ``predicate_id`` (``skos:exactMatch``, ``closeMatch``, ``broadMatch``,
``narrowMatch`` or ``relatedMatch``), ``object_id`` (a qikg or CFIR concept as a CURIE or IRI;
``sssom:NoTermFound`` for none), ``subject_label``, ``object_label``, ``mapping_justification``,
``author_id``, ``confidence`` and ``comment``, plus two qikg columns: ``finding`` (``yes`` makes
the code a finding) and ``role`` (``enabler`` or ``barrier``, for determinants and CFIR
constructs). ``qikg mapping-template`` writes one with a suggestion per code to confirm.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process
from rdflib.namespace import SKOS

from kg.errors import BadInput
from kg.namespaces import DATA, PREFIXES, QIKG, curie
from kg.qda.read import Code, Project, guid_key
from kg.sheets.cells import csv_text, restore_cell
from kg.text import slug
from kg.vocabulary import Vocabulary

MATCHES = {
    str(SKOS[p]) for p in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
}
#: The matches that let a code stand for a concept when findings are coded (the concept is the
#: code's equal or broader); narrowMatch and relatedMatch are stored but code nothing.
CODING_MATCHES = {str(SKOS[p]) for p in ("exactMatch", "closeMatch", "broadMatch")}
NO_TERM = "sssom:NoTermFound"
#: The kinds of concept a template suggests: those that code a finding.
SUGGEST_KINDS = tuple(
    str(k)
    for k in (
        QIKG.ProfessionalGroup,
        QIKG.Role,
        QIKG.QICComponent,
        QIKG.Determinant,
        QIKG.CFIRConstruct,
        QIKG.Outcome,
        QIKG.TheoryConcept,
        QIKG.ImplementationStrategy,
    )
)
COLUMNS = [
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "confidence",
    "author_id",
    "finding",
    "role",
    "comment",
]
CURIE_MAP = {
    "code": "urn:uuid:",
    "qikg": PREFIXES["qikg"],
    "cfir": PREFIXES["cfir"],
    "eric": PREFIXES["eric"],
    "skos": PREFIXES["skos"],
    "semapv": "https://w3id.org/semapv/vocab/",
    "sssom": "https://w3id.org/sssom/",
}
_YES, _NO = {"yes", "y", "true", "1", "x"}, {"", "no", "n", "false", "0"}


@dataclass
class Row:
    """One usable mapping row: the code it maps and what it says about it."""

    line: int
    code: str
    predicate: str | None
    concept: str | None
    finding: bool = False
    role: str | None = None


@dataclass
class Mapping:
    """The rows of a mapping table, and what is wrong in it (message, where)."""

    file: str = ""
    rows: list[Row] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)

    def finding_codes(self) -> set[str]:
        """The codes the table marks as findings."""
        return {r.code for r in self.rows if r.finding}

    def for_code(self, code: str) -> list[Row]:
        """The rows that map ``code`` to a concept."""
        return [r for r in self.rows if r.code == code and r.concept]


def read_mapping(path: str | Path, project: Project, study_id: str, vocab: Vocabulary) -> Mapping:
    """Read an SSSOM TSV table against a project's codes and the vocabulary."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BadInput(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path.name}: not a readable UTF-8 TSV file ({exc})") from None
    lines = text.splitlines()
    header = [line[1:] for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#")]
    prefixes = {**CURIE_MAP, **curie_map(header)}
    reader = csv.DictReader(io.StringIO("\n".join(body)), delimiter="\t")
    missing = [
        c for c in ("subject_id", "predicate_id", "object_id") if c not in (reader.fieldnames or [])
    ]
    if missing:
        raise BadInput(
            f"{path.name}: not an SSSOM table: the header lacks {', '.join(missing)} "
            "(see `qikg mapping-template`)"
        )
    mapping = Mapping(path.name)
    names: dict[str, list[str]] = {}
    for code in project.codes.values():
        names.setdefault(code.name.casefold(), []).append(code.key)
    context = _Context(project, names, prefixes, f"{DATA}{study_id}/code/", vocab)
    for cells in reader:
        number = len(header) + reader.line_num  # the row's line in the file (header on top)
        row = {
            k: restore_cell(v or "").strip()
            for k, v in cells.items()
            if isinstance(k, str) and isinstance(v, str | None)
        }
        try:
            mapping.rows.append(_row(number, row, context))
        except ValueError as exc:
            mapping.problems.append((str(exc), f"{path.name}, row {number}"))
    return mapping


@dataclass
class _Context:
    project: Project
    names: dict[str, list[str]]
    prefixes: dict[str, str]
    code_base: str
    vocab: Vocabulary


def _row(number: int, cells: dict[str, str], context: _Context) -> Row:
    """One row of the table, or ValueError saying what is wrong with it."""
    code = _code(cells.get("subject_id", ""), context)
    concept = _concept(cells.get("object_id", ""), cells.get("object_label", ""), context)
    predicate = _expand(cells.get("predicate_id", ""), context.prefixes)
    if concept and predicate not in MATCHES:
        raise ValueError(
            f'predicate_id "{cells.get("predicate_id", "")}" is not a SKOS mapping: '
            "use skos:exactMatch, skos:closeMatch or skos:broadMatch"
        )
    finding, role = cells.get("finding", "").casefold(), cells.get("role", "").casefold()
    if finding not in _YES | _NO:
        raise ValueError(f'finding "{cells["finding"]}" should be yes or empty')
    if role not in ("", "enabler", "barrier"):
        raise ValueError(f'role "{cells["role"]}" should be enabler, barrier or empty')
    return Row(number, code.key, predicate, concept or None, finding in _YES, role or None)


def curie_map(header: list[str]) -> dict[str, str]:
    """The ``curie_map`` of an SSSOM YAML header (block style, one ``prefix: IRI`` a line).

    >>> curie_map(["curie_map:", "  code: urn:uuid:", "  x: 'https://x.org/'", "license: y"])
    {'code': 'urn:uuid:', 'x': 'https://x.org/'}
    """
    found: dict[str, str] = {}
    inside = False
    for line in header:
        if not line.strip():
            continue
        if not line[0].isspace():
            inside = line.strip() == "curie_map:"
            continue
        if inside:
            key, sep, value = line.strip().partition(":")
            if sep:
                found[key.strip().strip("'\"")] = value.strip().strip("'\"")
    return found


def _expand(text: str, prefixes: dict[str, str]) -> str | None:
    if text.startswith("<") and text.endswith(">"):
        return text[1:-1]
    if "://" in text:
        return text
    prefix, sep, local = text.partition(":")
    return prefixes[prefix] + local if sep and prefix in prefixes else None


def _code(subject: str, context: _Context) -> Code:
    """The code a subject_id names: its GUID, IRI, ``code:GUID`` or ``code:NAME``."""
    local = subject.strip("<>")
    iri = _expand(subject, context.prefixes) or ""
    for base in (context.code_base, "urn:uuid:", context.prefixes.get("code", "urn:uuid:")):
        if iri.startswith(base):
            local = iri[len(base) :]
            break
    else:
        if "://" in local:
            local = local.rstrip("/").rsplit("/", 1)[-1]
    codes = context.project.codes
    code = codes.get(guid_key(local))
    if code is not None:
        return code
    keys = context.names.get(local.strip().casefold(), [])
    if len(keys) == 1:
        return codes[keys[0]]
    if keys:
        raise ValueError(
            f'subject_id "{subject}": {len(keys)} codes are named "{local}"; '
            "write the GUID of the one you mean"
        )
    raise ValueError(f'subject_id "{subject}" is not a code of {context.project.file}')


def _concept(object_id: str, label: str, context: _Context) -> str:
    """The concept an object_id names ("" for none)."""
    if object_id in ("", NO_TERM):
        return ""
    vocab = context.vocab
    iri = _expand(object_id, context.prefixes)
    if iri is not None and iri in vocab.concepts:
        return iri
    hint = closest(vocab, label or object_id.rpartition(":")[2])
    hint_text = f'; did you mean {curie(hint[0])} ("{vocab.label(hint[0])}")?' if hint else ""
    raise ValueError(f'object_id "{object_id}" is not a concept in the vocabulary{hint_text}')


def closest(vocab: Vocabulary, text: str) -> tuple[str, float] | None:
    """The concept (of a kind that codes findings) whose label is most like ``text``, and how
    alike they are (0-1), if alike enough: rapidfuzz WRatio of 70 or more, as Vocabulary.suggest."""
    kinds = set(SUGGEST_KINDS)
    choices = {
        label: min(i for i in iris if vocab.kinds(i) & kinds)
        for label, iris in vocab.by_label.items()
        if any(vocab.kinds(i) & kinds for i in iris)
    }
    # sorted: labels that tie are decided the same way whatever order the store answered in
    best = process.extractOne(text.casefold(), sorted(choices), scorer=fuzz.WRatio, score_cutoff=70)
    return (choices[best[0]], best[1] / 100) if best else None


def write_template(project: Project, vocab: Vocabulary, output: str | Path) -> int:
    """Write an SSSOM table with one row per code and a suggested match; return the row count.

    The rows are :func:`template_rows`, written by :func:`sssom_text`.
    """
    rows = template_rows(project, vocab)
    Path(output).write_text(sssom_text(project, rows), encoding="utf-8")
    return len(rows)


def template_rows(project: Project, vocab: Vocabulary) -> list[list[str]]:
    """One row (cells in COLUMNS order) per code, in tree order, with a suggested match.

    A suggestion is the closest label among the concepts that code findings (see ``closest``),
    written as ``skos:closeMatch`` with justification
    ``semapv:LexicalMatching`` and the similarity as confidence; a code with no close label gets
    ``sssom:NoTermFound``. Codes in a set named "Findings" or "Themes" are marked ``finding: yes``.
    """
    finding_codes = {
        m for s in project.sets if s.name.casefold() in FINDING_SETS for m in s.members
    }
    rows: list[list[str]] = []
    for code in _in_tree_order(project):
        hint = closest(vocab, code.name) if code.name else None
        if hint:
            iri, score = hint
            match = [
                "skos:closeMatch",
                curie(iri),
                vocab.label(iri),
                "semapv:LexicalMatching",
                f"{score:.2f}",
            ]
        else:
            match = ["skos:closeMatch", NO_TERM, "", "semapv:LexicalMatching", ""]
        rows.append(
            [
                f"code:{code.guid.strip('{}')}",
                code.name,
                *match,
                "",
                "yes" if code.key in finding_codes else "",
                "",
                _path(project, code),
            ]
        )
    return rows


def sssom_text(project: Project, rows: list[list[str]]) -> str:
    """An SSSOM TSV table of a project's codes: the YAML header, then ``rows`` (cells in COLUMNS
    order). Code names come from another program, so no cell is written as a formula
    (kg.sheets.cells); ``read_mapping`` reads them back as they were."""
    return (
        "#curie_map:\n"
        + "".join(f"#  {p}: {iri}\n" for p, iri in CURIE_MAP.items())
        + f"#mapping_set_id: {DATA}mapping/{slug(project.name)}\n"
        + "#license: https://w3id.org/sssom/license/unspecified\n"
        + f"#mapping_set_description: Codes of {project.file} mapped to the qikg vocabulary. "
        "Suggestions are lexical: confirm or change each row, set mapping_justification to "
        "semapv:ManualMappingCuration, and mark finding codes with finding = yes.\n"
        + csv_text(COLUMNS, rows, delimiter="\t")
    )


#: Code sets whose members are findings (case-insensitive).
FINDING_SETS = {"findings", "finding", "themes", "theme"}


def _in_tree_order(project: Project) -> list[Code]:
    children: dict[str | None, list[Code]] = {}
    for code in project.codes.values():
        children.setdefault(code.parent, []).append(code)
    order: list[Code] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        code = stack.pop()
        order.append(code)
        stack.extend(reversed(children.get(code.key, [])))
    return order


def _path(project: Project, code: Code) -> str:
    names = [code.name]
    parent = code.parent
    while parent is not None:
        names.append(project.codes[parent].name)
        parent = project.codes[parent].parent
    return " > ".join(reversed(names))
