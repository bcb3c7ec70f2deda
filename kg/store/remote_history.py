"""History, undo, restore and a write lock for a store on a SPARQL server (docs/history.md).

Everything is kept on the server, in graphs outside qikg's namespace (so no query sees them):

- ``urn:qikg:lock``: who is writing. A write first adds its own resource there with a
  conditional update (only if the graph is empty), then reads the graph back: it holds the lock
  only if its resource is the only one (two writers that both added theirs at the same moment
  both see two, step back and try again after a random pause). The holder refreshes its
  ``seen`` time every ``HEARTBEAT`` seconds; a lock not refreshed for ``LOCK_STALE`` seconds
  belonged to a writer that stopped, and is taken over with a warning.
- ``urn:qikg:history``: one resource per commit, ``urn:qikg:commit:N`` (N counts commits: it is
  the store's ``version()``), with its time, verb, file, studies and a JSON record in the form
  of the embedded store's history lines, folded into versions by ``kg.store.history.versions``
  (the commits of one ``change`` are one version).
- ``urn:qikg:snapshot:N:i``: before commit N changes a graph, a server-side COPY of it (or a
  note that it did not exist). Undo and restore put graphs back from these. The snapshots of
  the last ``keep_versions() - 1`` versions are kept, so the last ``keep_versions()`` versions
  can be returned to, as on the embedded store.

A writer stopped after its snapshots but before its record (or a write that failed part-way on
Virtuoso, whose multi-operation requests are not atomic) leaves snapshot entries without a
record; the next writer records that state first, as a version ``unrecorded``, so it can be
undone.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import kg.store.history as hist
from kg.errors import BadInput, Conflict, StoreUnavailable
from kg.namespaces import GRAPH, QIKG, STUDY_GRAPH_PREFIX
from kg.sparql import iri_term, iri_terms, literal_term

HISTORY_GRAPH = "urn:qikg:history"
LOCK_GRAPH = "urn:qikg:lock"
SNAPSHOT_PREFIX = "urn:qikg:snapshot:"
H = "urn:qikg:history#"
#: Seconds a write waits for another writer's lock before it gives up.
LOCK_WAIT = 120.0
#: Seconds after which a lock whose holder stopped refreshing it is taken over.
LOCK_STALE = 600.0
#: Seconds between a holder's refreshes of its lock.
HEARTBEAT = 30.0
#: Touched graphs holding more triples than this are counted from sizes, not diffed exactly.
EXACT_DIFF_TRIPLES = 50_000
#: Commits read per history query (Virtuoso cuts answers at ResultSetMaxRows, 10,000).
PAGE = 5_000
#: Snapshot entries (3 triples each) per request. Virtuoso 7.2 compiles INSERT DATA into SQL
#: and refuses past 10,000 lines of it (SP031): 400 entries passed, 500 failed (one write of
#: 4,000 studies could not be recorded); a commit's ``study`` properties: 1,000 passed, 1,500 not.
ENTRY_BATCH = 200
STUDY_BATCH = 500
log = logging.getLogger("qikg")


class RemoteStore(Protocol):
    """What this module needs of kg.store.remote.RemoteStore (named so without importing it,
    which imports this module)."""

    @property
    def descriptor_shown(self) -> str: ...

    def _select(self, sparql: str) -> list[dict[str, dict]]: ...

    def _update(self, sparql: str, commit: Commit | None = None) -> None: ...

    def _requests(self, ops: list[str]) -> list[str]: ...

    def _all_sizes(self) -> dict[str, int]: ...

    def graph_sizes(self) -> dict[str, int]: ...

    def graph_names(self) -> list[str]: ...


@dataclass
class RemoteHistory(hist.History):
    """A server's history: ``snapshot_triples`` is what the kept snapshots hold on the server
    (its ``disk_bytes`` and ``shared_bytes`` are 0: a server's disk is not qikg's to measure)."""

    snapshot_triples: int = 0


@dataclass
class Snapshot:
    """Graph ``graph`` as it was before commit ``commit``: the graph ``iri`` (if it existed)."""

    iri: str
    commit: int
    graph: str
    existed: bool


def _p(name: str) -> str:
    return iri_term(H + name)


def _commit_iri(n: int) -> str:
    return f"urn:qikg:commit:{n}"


# -- the lock ------------------------------------------------------------------------------------


class ServerLock:
    """A write lock held in the graph ``urn:qikg:lock`` on the server (see the module doc)."""

    def __init__(self, store: RemoteStore, what: str) -> None:
        self.store = store
        self.iri = f"urn:qikg:lock:{uuid.uuid4().hex}"
        self.who = f"{what}, pid {os.getpid()} on {socket.gethostname()}"
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def take(self) -> None:
        """Hold the lock, waiting up to ``LOCK_WAIT`` seconds; StoreUnavailable naming the
        holder if it stays taken."""
        deadline = time.monotonic() + LOCK_WAIT
        me = iri_term(self.iri)
        while True:
            self.store._update(
                f"INSERT {{ GRAPH {iri_term(LOCK_GRAPH)} {{ {me} {_p('since')} ?now ; "
                f"{_p('seen')} ?now ; {_p('who')} {literal_term(self.who)} }} }} WHERE {{ "
                f"VALUES ?one {{ 1 }} FILTER NOT EXISTS {{ GRAPH {iri_term(LOCK_GRAPH)} "
                "{ ?l ?p ?o } } BIND(NOW() AS ?now) }"
            )
            holders = self._holders()
            if [h["lock"] for h in holders] == [self.iri]:
                self._beat = threading.Thread(target=self._heartbeat, daemon=True)
                self._beat.start()
                return
            if any(h["lock"] == self.iri for h in holders):
                self._drop(self.iri)  # added at the same moment as another: step back
            others = [h for h in holders if h["lock"] != self.iri]
            for holder in others:
                if holder["age"] is not None and holder["age"] > LOCK_STALE:
                    log.warning(
                        "qikg: warning: took over the write lock on %s held by %s since %s "
                        "(not refreshed for %d s: a writer that stopped)",
                        self.store.descriptor_shown,
                        holder["who"],
                        holder["since"],
                        holder["age"],
                    )
                    self._drop(holder["lock"])
            if time.monotonic() > deadline:
                holder = others[0] if others else {"who": "?", "since": "?"}
                raise StoreUnavailable(
                    f"the store at {self.store.descriptor_shown} is being written by another "
                    f"qikg ({holder['who']}) since {holder['since']} (server time); waited "
                    f"{LOCK_WAIT:g} s: try again when it has finished"
                )
            time.sleep(0.2 + random.random() * 0.5)

    def _holders(self) -> list[dict]:
        rows = self.store._select(
            f"SELECT ?l ?since ?seen ?who (NOW() AS ?now) WHERE {{ GRAPH {iri_term(LOCK_GRAPH)} "
            f"{{ ?l {_p('since')} ?since ; {_p('seen')} ?seen ; {_p('who')} ?who }} }}"
        )
        out: dict[str, dict] = {}
        for r in rows:
            age = _seconds(r["now"]["value"]) - _seconds(r["seen"]["value"])
            out[r["l"]["value"]] = {
                "lock": r["l"]["value"],
                "since": r["since"]["value"][:19].replace("T", " "),
                "who": r["who"]["value"],
                "age": age,
            }
        return sorted(out.values(), key=lambda h: h["lock"])

    def _drop(self, iri: str) -> None:
        self.store._update(
            f"DELETE WHERE {{ GRAPH {iri_term(LOCK_GRAPH)} {{ {iri_term(iri)} ?p ?o }} }}"
        )

    def _heartbeat(self) -> None:
        me, seen = iri_term(self.iri), _p("seen")
        while not self._stop.wait(HEARTBEAT):
            try:
                self.store._update(
                    f"DELETE {{ GRAPH {iri_term(LOCK_GRAPH)} {{ {me} {seen} ?s }} }} "
                    f"INSERT {{ GRAPH {iri_term(LOCK_GRAPH)} {{ {me} {seen} ?now }} }} "
                    f"WHERE {{ GRAPH {iri_term(LOCK_GRAPH)} {{ {me} {seen} ?s }} "
                    "BIND(NOW() AS ?now) }"
                )
            except Exception:  # the write itself will meet the same trouble and report it
                pass

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        self._drop(self.iri)


_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$")


def _seconds(value: str) -> float:
    """Seconds since the epoch of a server's xsd:dateTime, as Oxigraph (nanoseconds, ``Z``) or
    Virtuoso (microseconds, no zone) writes it; zones are ignored, as both times compared come
    from the same server.

    >>> _seconds("2026-01-01T00:00:01.5Z") - _seconds("2026-01-01T00:00:00.000000001")
    1.5
    """
    match = _TIME.match(value.strip())
    if match is None:
        return 0.0
    whole, fraction = match.group(1), (match.group(2) or "0")[:6]
    moment = datetime.fromisoformat(f"{whole}.{fraction.ljust(6, '0')}").replace(tzinfo=UTC)
    return moment.timestamp()


# -- reading the history ---------------------------------------------------------------------


def counter(store: RemoteStore) -> int:
    """The number of the last recorded commit (0 before any): the store's version."""
    rows = store._select(
        f"SELECT (MAX(?n) AS ?max) WHERE {{ GRAPH {iri_term(HISTORY_GRAPH)} "
        f"{{ ?c {_p('token')} ?n }} }}"
    )
    value = rows[0].get("max", {}).get("value") if rows else None
    return int(value) if value else 0


def commits(store: RemoteStore) -> list[dict]:
    """Every commit's record (a history line, with its ``snapshots`` and ``dropped``), in order."""
    last = counter(store)
    lines: list[dict] = []
    for start in range(0, last, PAGE):
        rows = store._select(
            f"SELECT ?n ?record WHERE {{ GRAPH {iri_term(HISTORY_GRAPH)} {{ ?c {_p('token')} ?n ; "
            f"{_p('record')} ?record }} FILTER(?n > {start} && ?n <= {start + PAGE}) }}"
        )
        lines += sorted(
            (json.loads(r["record"]["value"]) for r in rows), key=lambda x: int(x["token"])
        )
    dropped = {
        r["c"]["value"]
        for r in store._select(
            f"SELECT ?c WHERE {{ GRAPH {iri_term(HISTORY_GRAPH)} {{ ?c {_p('dropped')} true }} }}"
        )
    }
    for line in lines:
        line["dropped"] = _commit_iri(int(line["token"])) in dropped
    return lines


@dataclass
class Folded:
    """The versions and, for each, its commits' lines."""

    versions: list[hist.Version]
    lines: list[list[dict]] = field(default_factory=list)


def fold(lines: list[dict]) -> Folded:
    """Commits folded into versions as the embedded store folds its lines, with ``kept`` set:
    a version can be returned to when every version after it still has its snapshots."""
    found = hist.versions(_NOWHERE, lines)  # type: ignore[arg-type]
    groups: list[list[dict]] = []
    for line in lines:
        if groups and groups[-1][0]["change"] == line["change"]:
            groups[-1].append(line)
        else:
            groups.append([line])
    whole = True
    for version, group in zip(reversed(found), reversed(groups), strict=True):
        version.kept = whole
        whole = whole and not any(line.get("dropped") for line in group)
    return Folded(found, groups)


class _Nowhere:
    """A root under which no checkpoint exists (``hist.versions`` asks; a server has none)."""

    def __truediv__(self, other: str) -> _Nowhere:
        return self

    def exists(self) -> bool:
        return False


_NOWHERE = _Nowhere()


def load(store: RemoteStore) -> RemoteHistory:
    """The history of the store on the server."""
    lines = commits(store)
    folded = fold(lines)
    kept = {
        s["iri"]
        for group in folded.lines
        for line in group
        if not line.get("dropped")
        for s in line.get("snapshots", [])
        if s["existed"]
    }
    last = int(lines[-1]["token"]) if lines else 0
    return RemoteHistory(
        folded.versions, hist.keep_versions(), 0, 0, _unrecorded(store, last), _triples(store, kept)
    )


def _unrecorded(store: RemoteStore, last: int) -> bool:
    """Whether a commit after the last recorded one has taken snapshots: a write under way, or
    one stopped before its record (the next writer records it, :func:`recover`)."""
    return bool(
        store._select(
            f"SELECT ?e WHERE {{ GRAPH {iri_term(HISTORY_GRAPH)} {{ ?e {_p('commit')} ?n }} "
            f"FILTER(?n > {last}) }} LIMIT 1"
        )
    )


#: Graphs counted per request by :func:`_triples`.
COUNT_BATCH = 500


def _triples(store: RemoteStore, graphs: set[str]) -> int:
    """The triples these graphs hold, counted graph by graph: counting every graph on the server
    to pick these took 2.6 s on Oxigraph server at 4,000 studies."""
    total = 0
    names = sorted(graphs)
    for start in range(0, len(names), COUNT_BATCH):
        rows = store._select(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {iri_terms(names[start : start + COUNT_BATCH])} }} "
            "GRAPH ?g { ?s ?p ?o } }"
        )
        total += int(rows[0]["n"]["value"]) if rows else 0
    return total


# -- writing -------------------------------------------------------------------------------------


class Commit:
    """One commit being made under the lock: its snapshots, its counts, then its record."""

    def __init__(self, store: RemoteStore, number: int, lines: list[dict]) -> None:
        self.store = store
        self.number = number
        self.lines = lines
        self.snapshots: list[Snapshot] = []
        self.diff: tuple[int, int, bool] = (0, 0, False)
        self.restored: int | None = None
        #: Set once the server may have applied part of the write (so a failure is recorded).
        self.maybe_changed = False
        described = hist.current()
        continuing = bool(lines) and lines[-1]["change"] == described["id"]
        #: The graphs this commit changes (named in its record).
        self.touched: set[str] = set()
        #: Graphs this version already has a snapshot of (an earlier commit of one change).
        self.covered: set[str] = set()
        if continuing:
            for line in reversed(lines):
                if line["change"] != described["id"]:
                    break
                self.covered |= {s["graph"] for s in line.get("snapshots", [])}

    def touch(self, graphs: list[str], sizes: dict[str, int]) -> None:
        """Snapshot each graph about to change (once per version), server-side: COPY, then the
        entries that name the copies (a crash between leaves only copies nobody names)."""
        self.touched |= set(graphs)
        new = [g for g in dict.fromkeys(graphs) if g not in self.covered]
        start = len(self.snapshots)
        taken = [
            Snapshot(f"{SNAPSHOT_PREFIX}{self.number}:{i}", self.number, g, sizes.get(g, 0) > 0)
            for i, g in enumerate(new, start)
        ]
        copies = [
            f"COPY SILENT GRAPH {iri_term(s.graph)} TO GRAPH {iri_term(s.iri)}"
            for s in taken
            if s.existed
        ]
        # Virtuoso runs a request as one transaction that times out (SR171) at about 100,000
        # triples copied, and commits nothing more atomically for it: one COPY per request there.
        for request in self.store._requests(copies):
            self.store._update(request)
        # In batches: a stop between them leaves entries of copies not yet written over, which
        # the next writer records (``recover``) as a version that changed nothing.
        for start in range(0, len(taken), ENTRY_BATCH):
            entries = " ".join(
                f"{iri_term(s.iri)} {_p('commit')} {s.commit} ; {_p('graph')} "
                f"{iri_term(s.graph)} ; {_p('existed')} {'true' if s.existed else 'false'} ."
                for s in taken[start : start + ENTRY_BATCH]
            )
            self.store._update(f"INSERT DATA {{ GRAPH {iri_term(HISTORY_GRAPH)} {{ {entries} }} }}")
        self.snapshots += taken
        self.covered |= set(new)

    def record(self, verb: str | None = None) -> None:
        """Append the commit's record (which makes it the store's version); counts what the
        store holds now."""
        described = hist.current()
        touched = sorted(self.touched | {s.graph for s in self.snapshots})
        added, removed, exact = self.diff
        line: dict = {
            "token": str(self.number),
            "time": hist._now(),
            "verb": verb or described["verb"],
            "change": uuid.uuid4().hex if verb else described["id"],
            "studies": sorted(g[len(STUDY_GRAPH_PREFIX) :] for g in touched if _study(g)),
            "reviews": sorted(
                g[len(hist.REVIEW_GRAPH_PREFIX) :]
                for g in touched
                if g.startswith(hist.REVIEW_GRAPH_PREFIX)
            ),
            "added": added,
            "removed": removed,
            "exact": exact,
            "state": state(self.store),
            "snapshots": [s.__dict__ for s in self.snapshots],
        }
        if "file" in described and not verb:
            line["file"] = described["file"]
        if self.restored is not None:
            line["restored"] = self.restored
        write_record(self.store, line)
        self.lines.append(line | {"dropped": False})

    def abandon(self) -> None:
        """After a failure that changed nothing: drop this commit's snapshots and entries."""
        if not self.snapshots:
            return
        drops = [f"DROP SILENT GRAPH {iri_term(s.iri)}" for s in self.snapshots if s.existed]
        # One VALUES list, not one pattern per entry: the patterns' cross product is 3^n rows
        # (Virtuoso refused 50 entries, "estimated execution time", and stopped at 100).
        history = iri_term(HISTORY_GRAPH)
        try:
            for start in range(0, len(self.snapshots), ENTRY_BATCH):
                values = " ".join(
                    iri_term(s.iri) for s in self.snapshots[start : start + ENTRY_BATCH]
                )
                self.store._update(
                    f"DELETE {{ GRAPH {history} {{ ?e ?p ?o }} }} WHERE {{ GRAPH {history} "
                    f"{{ VALUES ?e {{ {values} }} ?e ?p ?o }} }}"
                )
            for request in self.store._requests(drops):
                self.store._update(request)
        except Exception:  # best effort: the next writer records or prunes what is left
            pass


def write_record(store: RemoteStore, line: dict) -> None:
    """One commit's resource: readable properties, and the JSON record qikg reads back, in one
    INSERT DATA (which makes it the store's version); the readable ``study`` properties past
    ``STUDY_BATCH`` follow in more (only people read them)."""
    c = iri_term(_commit_iri(int(line["token"])))
    props = [
        f"{_p('token')} {int(line['token'])}",
        f"{_p('time')} {literal_term(line['time'])}",
        f"{_p('verb')} {literal_term(line['verb'])}",
        f"{_p('record')} {literal_term(json.dumps(line, ensure_ascii=False))}",
    ]
    if line.get("file"):
        props.append(f"{_p('fileName')} {literal_term(line['file']['name'])}")
        if line["file"].get("sha256"):
            props.append(f"{_p('fileSha256')} {literal_term(line['file']['sha256'])}")
    studies = [f"{_p('study')} {literal_term(s)}" for s in line["studies"]]
    batches = [props + studies[:STUDY_BATCH]] + [
        studies[start : start + STUDY_BATCH]
        for start in range(STUDY_BATCH, len(studies), STUDY_BATCH)
    ]
    for batch in batches:
        store._update(
            f"INSERT DATA {{ GRAPH {iri_term(HISTORY_GRAPH)} {{ {c} {' ; '.join(batch)} . }} }}"
        )


def state(store: RemoteStore) -> dict:
    """What the store holds now, counted as the embedded store counts a version."""
    rows = store._select(
        f"""SELECT (COUNT(DISTINCT ?s) AS ?studies) (COUNT(DISTINCT ?f) AS ?findings)
        (COUNT(DISTINCT ?q) AS ?quotes) WHERE {{
          GRAPH ?g {{ {{ ?f a {iri_term(QIKG.Finding)} }} UNION {{ ?q a {iri_term(QIKG.Quote)} }}
                     UNION {{ ?s a {iri_term(QIKG.Study)} }} }}
          FILTER(STRSTARTS(STR(?g), {literal_term(STUDY_GRAPH_PREFIX)})) }}"""
    )
    row = rows[0] if rows else {}
    counts = {k: int(row.get(k, {}).get("value", 0)) for k in ("studies", "findings", "quotes")}
    return {"triples": sum(store.graph_sizes().values()), **counts}


def _study(graph: str) -> bool:
    return graph.startswith(STUDY_GRAPH_PREFIX)


def recover(store: RemoteStore, lines: list[dict]) -> None:
    """Snapshot entries of a commit after the last record: a writer stopped (or failed part-way)
    after its snapshots; record that state as a version ``unrecorded``, which can be undone."""
    last = int(lines[-1]["token"]) if lines else 0
    rows = store._select(
        f"SELECT ?e ?n ?g ?existed WHERE {{ GRAPH {iri_term(HISTORY_GRAPH)} {{ ?e {_p('commit')} "
        f"?n ; {_p('graph')} ?g ; {_p('existed')} ?existed }} FILTER(?n > {last}) }}"
    )
    if not rows:
        return
    number = max(int(r["n"]["value"]) for r in rows)
    commit = Commit(store, number, lines)
    commit.snapshots = sorted(
        (
            Snapshot(
                r["e"]["value"],
                int(r["n"]["value"]),
                r["g"]["value"],
                r["existed"]["value"] in ("true", "1"),
            )
            for r in rows
        ),
        key=lambda s: s.iri,
    )
    commit.record(verb="unrecorded")


@contextmanager
def writing(store: RemoteStore, expect: str | None, what: str) -> Iterator[Commit]:
    """Hold the server's write lock around one commit; with ``expect``, Conflict (nothing
    written) unless the store is still at that version. The commit is recorded on a clean exit;
    on a failure it is recorded as ``interrupted`` if the server may have applied part of it,
    else its snapshots are dropped."""
    lock = ServerLock(store, what)
    lock.take()
    try:
        lines = commits(store)
        recover(store, lines)
        number = int(lines[-1]["token"]) if lines else 0
        if expect is not None and expect != str(number):
            raise Conflict(
                "the store changed while this was being prepared (another write committed "
                "first); nothing was written"
            )
        if not lines and any(g.startswith(str(GRAPH)) for g in store.graph_names()):
            Commit(store, number + 1, lines).record(verb="existing")
            number += 1
        commit = Commit(store, number + 1, lines)
        try:
            yield commit
        except BaseException:
            if commit.maybe_changed:
                try:
                    commit.record(verb="interrupted")
                except Exception:  # the next writer records it as unrecorded
                    pass
            else:
                commit.abandon()
            raise
        commit.record()
        prune(store, lines)
    finally:
        try:
            lock.release()
        except Exception:  # a lock left behind is taken over once stale; report the write's fate
            log.warning("qikg: warning: could not release the write lock on the server")


def prune(store: RemoteStore, lines: list[dict]) -> None:
    """Drop the snapshots of all but the last ``keep_versions() - 1`` versions (so the last
    ``keep_versions()`` can be returned to), and copies no kept entry names (a stopped writer's).
    A version is marked dropped before its copies go, so none is ever listed kept without them."""
    folded = fold(lines)
    # Never a negative end: while fewer versions than the window exist, none is old.
    old = folded.lines[: max(0, len(folded.lines) - (hist.keep_versions() - 1))]
    marks = [line for group in old for line in group if not line.get("dropped")]
    if marks:
        triples = " ".join(
            f"{iri_term(_commit_iri(int(line['token'])))} {_p('dropped')} true ." for line in marks
        )
        store._update(f"INSERT DATA {{ GRAPH {iri_term(HISTORY_GRAPH)} {{ {triples} }} }}")
        for line in marks:
            line["dropped"] = True
    named = {
        s["iri"] for line in lines if not line.get("dropped") for s in line.get("snapshots", [])
    }
    stale = [g for g in store._all_sizes() if g.startswith(SNAPSHOT_PREFIX) and g not in named]
    for request in store._requests([f"DROP SILENT GRAPH {iri_term(g)}" for g in stale]):
        store._update(request)


# -- undo and restore ----------------------------------------------------------------------------


def plan(lines: list[dict], version: int | None) -> tuple[hist.Version, dict[str, Snapshot]]:
    """The version to return to, and for each graph changed after it the snapshot holding its
    content then (the first later version's that touched it)."""
    folded = fold(lines)
    found = folded.versions
    target = hist.target_version(found, version)
    if not target.kept:
        kept = [v.number for v in found if v.kept]
        raise BadInput(
            f"version {target.number} is no longer kept (kept: "
            f"{', '.join(map(str, kept)) or 'none'}; {hist.KEEP_ENV} sets how many)"
        )
    back: dict[str, Snapshot] = {}
    for group in folded.lines[target.number :]:
        for line in group:
            for s in line.get("snapshots", []):
                back.setdefault(s["graph"], Snapshot(**s))
    return target, back
