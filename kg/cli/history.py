"""``qikg history``, ``qikg undo`` and ``qikg restore``: every write to the store, and a way back."""

import json

import click

from kg.cli.common import Context, pass_context
from kg.store.history import KEEP_ENV, History, Restored, Version
from kg.store.remote_history import RemoteHistory


@click.command("history")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, versions newest first.")
@pass_context
def history_command(ctx: Context, as_json: bool) -> None:
    """List every change to the store, newest first: version, when (UTC), verb, file, studies,
    and the triples added and removed. Versions marked kept can be restored.

    \b
    Example:
      qikg history
      qikg history --json
    """
    found = ctx.store(build_if_empty=False).history()
    if as_json:
        out = {
            "versions": [v.to_json() for v in reversed(found.versions)],
            "keep": found.keep,
            "checkpoint_bytes": found.disk_bytes,
            "shared_with_database_bytes": found.shared_bytes,
            "unrecorded_change": found.unrecorded,
        }
        if isinstance(found, RemoteHistory):  # a server: snapshots in graphs, not files
            out["snapshot_triples"] = found.snapshot_triples
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    if not found.versions:
        click.echo("no change recorded yet")
        return
    click.echo(
        f"{'version':>7}  {'when (UTC)':<20}  {'change':<18} {'triples':>9} {'+added':>8} "
        f"{'-removed':>8}  what"
    )
    for v in reversed(found.versions):
        click.echo(
            f"{v.number:>7}{'*' if v.kept else ' '} {v.time:<20}  {_verb(v):<18} "
            f"{v.state.get('triples', 0):>9,} {_count(v.added, v):>8} {_count(v.removed, v):>8}  "
            f"{_what(v)}"
        )
    click.echo(_footer(found))


def _verb(v: Version) -> str:
    return f"{v.verb} (to {v.restored})" if v.restored is not None else v.verb


def _count(n: int, v: Version) -> str:
    """A count of triples; ``≤`` where it comes from graph sizes, an upper bound."""
    return f"{n:,}" if v.exact else f"≤{n:,}"


def _what(v: Version) -> str:
    parts = []
    if v.file:
        sha = v.file.get("sha256")
        parts.append(v.file["name"] + (f" (sha256 {sha[:12]}…)" if sha else ""))
    if v.studies:
        shown = ", ".join(v.studies[:6]) + (
            f", … {len(v.studies) - 6} more" if len(v.studies) > 6 else ""
        )
        parts.append(f"studies {shown}")
    if v.reviews:
        parts.append(f"reviews {', '.join(v.reviews)}")
    state = v.state
    parts.append(
        f"→ {state.get('studies', 0)} studies, {state.get('findings', 0)} findings, "
        f"{state.get('quotes', 0)} quotes"
    )
    return "; ".join(parts)


def _footer(found: History) -> str:
    kept = [v.number for v in found.versions if v.kept]
    head = (
        f"* kept, can be restored: {_ranges(kept) or 'none'} (the last {found.keep}; "
        f"{KEEP_ENV} sets how many); "
    )
    if isinstance(found, RemoteHistory):
        where = (
            f"their snapshots hold {found.snapshot_triples:,} triples in graphs on the server "
            "(urn:qikg:snapshot:...)"
        )
    else:
        where = (
            f"their checkpoints take {_size(found.disk_bytes)} on disk, "
            f"{_size(found.shared_bytes)} of it shared with the current database"
        )
    lines = [head + where]
    if found.unrecorded:
        lines.append(
            "note: the store holds a change not yet in its history (a write under way, or one "
            "stopped before it recorded it); the next write records it as 'unrecorded'"
        )
    return "\n".join(lines)


def _ranges(numbers: list[int]) -> str:
    """``1-3, 5``.

    >>> _ranges([1, 2, 3, 5])
    '1-3, 5'
    """
    runs: list[list[int]] = []
    for n in numbers:
        if runs and runs[-1][-1] == n - 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    out = [f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs]
    return ", ".join(out)


def _size(n: int) -> str:
    """Bytes, for people.

    >>> _size(1_500_000)
    '1.4 MB'
    """
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")


def _changed(result: Restored, verb: str) -> str:
    before, after = result.before, result.after
    counts = ", ".join(
        f"{name} {before.get(name, 0):,} → {after.get(name, 0):,}"
        for name in ("triples", "studies", "findings", "quotes")
    )
    return (
        f"{verb}: the store is back at version {result.target.number} "
        f"({_verb(result.target)}, {result.target.time}) as version {result.version}; {counts}"
    )


@click.command("undo")
@pass_context
def undo_command(ctx: Context) -> None:
    """Revert the latest change (an import, a removal, a reasoning run, a build, ...).

    The undo is itself a version: `qikg undo` again redoes it; `qikg restore` goes further back.

    \b
    Example:
      qikg import my-study.xlsx
      qikg undo       # the import is gone again
      qikg history
    """
    click.echo(_changed(ctx.store(build_if_empty=False).undo(), "undone"))


@click.command("restore")
@click.argument("version", type=int)
@pass_context
def restore_command(ctx: Context, version: int) -> None:
    """Return the store to VERSION (a kept version of `qikg history`), all or nothing.

    \b
    Example:
      qikg import my-study.xlsx
      qikg history       # version 1 is the store as first built, 2 the import
      qikg restore 1
    """
    click.echo(_changed(ctx.store(build_if_empty=False).restore(version), "restored"))


commands = [history_command, undo_command, restore_command]
