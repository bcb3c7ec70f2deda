"""``qikg import`` and ``qikg validate``: coded findings in, checked."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar  # what click.progressbar returns

from kg.cli.common import Context, pass_context
from kg.errors import DataProblem
from kg.importer import check_path, import_path

_IN = click.Path(path_type=Path)


class RowProgress:
    """A progress bar on the terminal while a large sheet's findings are checked (none when piped).

    ``then`` is said when the last finding is checked: what the command does next.
    """

    def __init__(self, then: str | None = None) -> None:
        self.then = then
        self._bar: ProgressBar[int] | None = None
        self._closed = False

    def __call__(self, done: int, total: int) -> None:
        if total < 1000 or not sys.stderr.isatty() or self._closed:
            return
        if self._bar is None:
            self._bar = click.progressbar(length=total, label="checking findings", file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(done - self._bar.pos)
        if done == total:
            self.__exit__()
            if self.then:
                click.echo(self.then, err=True)

    def __enter__(self) -> "RowProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None and not self._closed:
            self._bar.__exit__(None, None, None)
        self._closed = True


@click.command("import")
@click.argument("path", type=_IN)
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option("--replace", is_flag=True, help="Replace studies (or findings) already in the graph.")
@pass_context
def import_(ctx: Context, path: Path, dry_run: bool, replace: bool) -> None:
    """Import a coding sheet (.xlsx, folder or .zip of CSVs) or an RDF file (.ttl, .trig, .jsonld).

    The import is all or nothing: any violation and nothing is written.

    \b
    Example:
      qikg import my-study.xlsx --dry-run
      qikg import my-study.xlsx
    """
    try:
        with RowProgress(None if dry_run else "writing to the graph…") as progress:
            result = import_path(
                ctx.store(), path, replace=replace, dry_run=dry_run, progress=progress
            )
    except DataProblem as exc:
        report = getattr(exc, "report", None)
        if report is not None:
            click.echo(report.to_text(infos=False), err=True)
        raise
    if any(p.severity != "info" for p in result.report.problems):
        click.echo(result.report.to_text(infos=False), err=True)
    verb = "would import" if dry_run else "imported"
    parts = []
    if result.studies or not result.reviews:
        parts.append(
            f"{len(result.studies)} stud{'y' if len(result.studies) == 1 else 'ies'} "
            f"({_some(result.studies)}) with {result.findings} findings"
        )
    if result.reviews:
        parts.append(f"{len(result.reviews)} review finding(s) ({_some(result.reviews)})")
    click.echo(f"{verb} {' and '.join(parts)}")
    for changed in result.changes:  # what it changes in studies that were already there
        click.echo(f"  {changed.to_text()}")


def _some(ids: list[str], shown: int = 10) -> str:
    """The ids, the first few of them when there are many.

    >>> _some(["a", "b", "c"], shown=2)
    'a, b, … 1 more'
    """
    more = f", … {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


@click.command("validate")
@click.argument("path", type=_IN)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "ttl"]), default="text", show_default=True
)
@click.option("--replace", is_flag=True, help="Check it as `import --replace` would take it.")
@pass_context
def validate_command(ctx: Context, path: Path, fmt: str, replace: bool) -> None:
    """Check a coding sheet or RDF file as `qikg import --dry-run` does, without importing it:
    the shapes, and what the graph already holds (a study already there needs --replace).

    Exit 0 when it conforms, 1 when it has violations, 2 when it cannot be read.

    \b
    Example:
      qikg validate my-study.xlsx
      qikg validate my-study.xlsx --format json
    """
    import json

    with RowProgress() as progress:
        report = check_path(ctx.store(), path, progress, replace=replace)
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    elif fmt == "ttl":
        click.echo(report.to_turtle())
    else:
        click.echo(report.to_text())
    if not report.conforms:
        sys.exit(1)


commands = [import_, validate_command]
