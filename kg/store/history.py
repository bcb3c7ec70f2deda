"""The embedded store's history: every committed write, numbered, with a checkpoint to return to.

Researchers cite what the store holds, so a change to it must be visible and reversible. Kept in
the store folder, beside the database:

- ``history/history.jsonl``: one JSON line per commit, appended (and fsynced) after the commit
  switched the store's ``generation``, never rewritten. Consecutive lines with the same ``change``
  id are one version: an import whose inferences are added by a second commit is undone whole.
- ``history/checkpoints/<commit token>/``: an Oxigraph backup of the database as that version left
  it. A backup hard-links the database's immutable files, so it takes little disk until later
  writes compact those files away; only the last ``QIKG_KEEP_VERSIONS`` versions (default 20) keep
  theirs.

A writer stopped after its commit but before it recorded it leaves the store one commit ahead of
its history; the next write notices (the generation is not the last line's) and records that
state first, as an ``unrecorded`` version, so nothing changes silently.

What a commit belongs to (which verb, which file) is said by ``change(...)`` around it.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from kg.errors import BadInput
from kg.namespaces import GRAPH, QIKG, STUDY_GRAPH_PREFIX
from kg.sparql import iri_term, literal_term

KEEP_ENV = "QIKG_KEEP_VERSIONS"
#: Versions whose checkpoint is kept: 20 measured at about 1 MB each on the bundled store, as
#: checkpoints share their files with the database until compaction rewrites them (docs/history.md).
DEFAULT_KEEP = 20
FOLDER = "history"
LOG = "history.jsonl"
#: A commit's line names the graphs it touched, up to this many (readers that hold the store in
#: memory reload just those, kg.store.memory); a build of more is reloaded whole.
GRAPHS_LISTED = 1_000
REVIEW_GRAPH_PREFIX = str(GRAPH) + "review/"

_CHANGE: contextvars.ContextVar[dict | None] = contextvars.ContextVar("qikg_change", default=None)


@contextmanager
def change(verb: str, *, file: str | os.PathLike[str] | None = None) -> Iterator[None]:
    """Say what the commits made inside this block are: one version of the history, recorded as
    ``verb`` (and ``file``, by name and SHA-256). Nested, the outermost block says it.

    >>> with change("import", file=None):
    ...     current()["verb"]
    'import'
    """
    if _CHANGE.get() is not None:
        yield
        return
    described: dict = {"id": uuid.uuid4().hex, "verb": verb}
    if file is not None:
        path = Path(file)
        described["file"] = {"name": path.name, "sha256": _sha256(path)}
    token = _CHANGE.set(described)
    try:
        yield
    finally:
        _CHANGE.reset(token)


def current() -> dict:
    """What the commit being made now belongs to: the enclosing ``change``, else a write of its
    own (verb ``write``)."""
    return _CHANGE.get() or {"id": uuid.uuid4().hex, "verb": "write"}


def _sha256(path: Path) -> str | None:
    if not path.is_file():
        return None  # a folder of CSV files: named, not hashed
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def keep_versions() -> int:
    """How many versions keep their checkpoint (``QIKG_KEEP_VERSIONS``, at least 1)."""
    try:
        return max(1, int(os.environ.get(KEEP_ENV, DEFAULT_KEEP)))
    except ValueError:
        return DEFAULT_KEEP


@dataclass
class Version:
    """One version of the store: what changed to make it, and the state it left."""

    number: int
    token: str
    time: str
    verb: str
    change: str
    file: dict | None = None
    studies: list[str] = field(default_factory=list)
    reviews: list[str] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    exact: bool = True
    state: dict = field(default_factory=dict)
    restored: int | None = None
    kept: bool = False

    def to_json(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if v is not None}
        out["version"] = out.pop("number")
        return out


@dataclass
class History:
    """The versions of a store, oldest first, and what their checkpoints take on disk."""

    versions: list[Version]
    keep: int
    disk_bytes: int
    shared_bytes: int
    unrecorded: bool = False

    def get(self, number: int) -> Version | None:
        return next((v for v in self.versions if v.number == number), None)


@dataclass
class Restored:
    """What an undo or restore changed: the state before and after, and the version returned to."""

    target: Version
    before: dict
    after: dict
    version: int


def folder(root: Path) -> Path:
    return root / FOLDER


def checkpoint_dir(root: Path, token: str) -> Path:
    return folder(root) / "checkpoints" / token


def read_lines(root: Path) -> list[dict]:
    """The history file's lines; a last line cut short by a crash is left out."""
    try:
        text = (folder(root) / LOG).read_text(encoding="utf-8")
    except OSError:
        return []
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return lines


def versions(root: Path, lines: list[dict] | None = None) -> list[Version]:
    """The lines folded into versions: consecutive lines of one change are one version, with the
    last line's checkpoint and state and the changes of all of them summed."""
    out: list[Version] = []
    for line in read_lines(root) if lines is None else lines:
        last = out[-1] if out else None
        if last is not None and last.change == line["change"]:
            last.token, last.state = line["token"], line["state"]
            last.added += line["added"]
            last.removed += line["removed"]
            last.exact = last.exact and line["exact"]
            last.studies = sorted({*last.studies, *line["studies"]})
            last.reviews = sorted({*last.reviews, *line["reviews"]})
            continue
        out.append(
            Version(
                len(out) + 1,
                line["token"],
                line["time"],
                line["verb"],
                line["change"],
                line.get("file"),
                line["studies"],
                line["reviews"],
                line["added"],
                line["removed"],
                line["exact"],
                line["state"],
                line.get("restored"),
            )
        )
    for v in out:
        v.kept = checkpoint_dir(root, v.token).exists()
    return out


def load(root: Path, live: Path | None = None, token: str | None = None) -> History:
    """The history of the store at ``root``; ``live`` (the database folder) to count which of
    the checkpoints' disk is shared with it, ``token`` (the current commit) to say whether the
    store is a commit ahead of its history."""
    found = versions(root)
    disk, shared = checkpoint_disk(root, live)
    ahead = bool(found) and token is not None and found[-1].token != token
    return History(found, keep_versions(), disk, shared, ahead)


def state(store: ox.Store) -> dict:
    """What a version holds, counted: triples, studies, findings and quotes (study graphs)."""
    query = f"""SELECT (COUNT(DISTINCT ?s) AS ?studies) (COUNT(DISTINCT ?f) AS ?findings)
        (COUNT(DISTINCT ?q) AS ?quotes) WHERE {{
          GRAPH ?g {{ {{ ?f a {iri_term(QIKG.Finding)} }} UNION {{ ?q a {iri_term(QIKG.Quote)} }}
                     UNION {{ ?s a {iri_term(QIKG.Study)} }} }}
          FILTER(STRSTARTS(STR(?g), {literal_term(STUDY_GRAPH_PREFIX)})) }}"""
    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    row = next(iter(solutions))
    counts = {name: int(row[name].value) for name in ("studies", "findings", "quotes")}
    return {"triples": len(store), **counts}


def prepare(root: Path, database: ox.Store) -> tuple[Path, dict]:
    """Before a commit switches the generation, under the write lock: checkpoint ``database``
    (the database the commit leaves current) into a folder of its own, and count what it holds.
    Done before the switch, as after it another writer may take the store."""
    staged = folder(root) / "checkpoints" / f"staged-{uuid.uuid4().hex}"
    staged.parent.mkdir(parents=True, exist_ok=True)
    database.backup(str(staged))
    return staged, state(database)


def record(
    root: Path,
    token: str,
    staged: Path,
    counted: dict,
    graphs: Iterable[str],
    diff: tuple[int, int, bool],
    restored: int | None = None,
) -> None:
    """After a commit switched the generation to ``token``, still under the write lock: name its
    staged checkpoint, append its line, and drop the checkpoints of versions past the last
    ``keep_versions()``."""
    described = current()
    target = checkpoint_dir(root, token)
    shutil.rmtree(target, ignore_errors=True)
    staged.rename(target)
    touched = sorted(graphs)
    added, removed, exact = diff
    line = {
        "token": token,
        "time": _now(),
        "verb": described["verb"],
        "change": described["id"],
        "studies": sorted(g[len(STUDY_GRAPH_PREFIX) :] for g in touched if _study(g)),
        "reviews": sorted(g[len(REVIEW_GRAPH_PREFIX) :] for g in touched if _review(g)),
        "added": added,
        "removed": removed,
        "exact": exact,
        "state": counted,
    }
    if len(touched) <= GRAPHS_LISTED:
        line["graphs"] = touched
    if "file" in described:
        line["file"] = described["file"]
    if restored is not None:
        line["restored"] = restored
    _append(root, line)
    prune(root, read_lines(root))


def changed_graphs(root: Path, since: str, until: str) -> set[str] | None:
    """The graphs the commits after commit ``since`` up to commit ``until`` touched, from their
    history lines; None when the history cannot tell (a commit without a line or without its
    graphs listed, an undo or restore, or ``until`` not after ``since``)."""
    if since == until:
        return set()
    lines = read_lines(root)
    tokens = [line["token"] for line in lines]
    if since not in tokens or until not in tokens or tokens.index(until) < tokens.index(since):
        return None
    graphs: set[str] = set()
    for line in lines[tokens.index(since) + 1 : tokens.index(until) + 1]:
        if "graphs" not in line or "restored" in line:
            return None
        graphs.update(line["graphs"])
    return graphs


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def record_unrecorded(root: Path, database: ox.Store, token: str) -> None:
    """Before a write: if the store is a commit ahead of its history (a writer stopped between
    its commit and its record), record that state first, so the write after it can be undone to
    it. A store with data and no history yet gets its first version (``existing``) the same way.
    """
    lines = read_lines(root)
    if lines and lines[-1]["token"] == token:
        return
    empty = next(iter(database.quads_for_pattern(None, None, None)), None) is None
    if not lines and (token == "0" or empty):
        return
    staged, counted = prepare(root, database)
    target = checkpoint_dir(root, token)
    shutil.rmtree(target, ignore_errors=True)
    staged.rename(target)
    line: dict = {
        "token": token,
        "time": _now(),
        "verb": "unrecorded" if lines else "existing",
        "change": uuid.uuid4().hex,
        "studies": [],
        "reviews": [],
        "added": 0,
        "removed": 0,
        "exact": False,
        "state": counted,
    }
    _append(root, line)


def _study(graph: str) -> bool:
    return graph.startswith(STUDY_GRAPH_PREFIX)


def _review(graph: str) -> bool:
    return graph.startswith(REVIEW_GRAPH_PREFIX)


def _append(root: Path, line: dict) -> None:
    """Append one line and fsync it (and the folder, the first time)."""
    path = folder(root) / LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())
    if new:
        descriptor = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def prune(root: Path, lines: list[dict]) -> None:
    """Delete the checkpoints of all but the last ``keep_versions()`` versions (and any checkpoint
    no version names, left by a writer stopped while it made it)."""
    found = versions(root, lines)
    keep = {v.token for v in found[-keep_versions() :]}
    base = folder(root) / "checkpoints"
    for path in base.iterdir() if base.exists() else ():
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def checkpoint_disk(root: Path, live: Path | None = None) -> tuple[int, int]:
    """Bytes the checkpoints take on disk, each file counted once however many hard links it
    has, and how many of them are files the live database (``live``) also holds."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for path in _files(folder(root) / "checkpoints"):
        info = path.stat()
        key = (info.st_dev, info.st_ino)
        if key not in seen:
            seen.add(key)
            total += info.st_blocks * 512
    shared = 0
    for path in _files(live) if live is not None else ():
        info = path.stat()
        if (info.st_dev, info.st_ino) in seen:
            seen.discard((info.st_dev, info.st_ino))
            shared += info.st_blocks * 512
    return total, shared


def _files(base: Path | None) -> Iterator[Path]:
    if base is None or not base.exists():
        return
    for dirpath, _, names in os.walk(base):
        for name in names:
            path = Path(dirpath) / name
            if not path.is_symlink():
                yield path


def target_version(found: list[Version], version: int | None) -> Version:
    """The version an undo (``version`` None: the one before the latest) or a restore goes to."""
    if version is None:
        if len(found) < 2:
            raise BadInput("nothing to undo: the store's history holds no earlier version")
        return found[-2]
    target = next((v for v in found if v.number == version), None)
    if target is None:
        known = f"1 to {len(found)}" if found else "none yet"
        raise BadInput(f"no version {version} in the store's history (versions: {known})")
    if target is found[-1]:
        raise BadInput(f"the store is already at version {version}; nothing was changed")
    return target
