"""``qikg suggest-synthesis``, ``qikg soqf``, ``qikg nanopub`` and ``qikg export-reviews``:
qualitative evidence synthesis with GRADE-CERQual (docs/synthesis.md)."""

import json
import textwrap
from dataclasses import asdict
from pathlib import Path

import click

from kg.cli.common import Context, pass_context
from kg.errors import BadInput
from kg.sheets.write import write_tables
from kg.synthesis.crate import write_crate
from kg.synthesis.model import REVIEW_COLUMNS
from kg.synthesis.nanopub import nanopublications_trig
from kg.synthesis.reviews import review_finding, review_findings
from kg.synthesis.soqf import FORMATS, format_for
from kg.synthesis.suggest import SKELETON_COLUMNS, skeleton_rows, suggest

_FILE = click.Path(dir_okay=False, path_type=Path)
_SHEET = click.Path(path_type=Path)


def _write(path: Path, data: bytes) -> None:
    """Write a whole file or nothing (a half-written file never replaces a good one)."""
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BadInput(f"cannot write {path}: {exc.strerror}") from None


@click.command("suggest-synthesis")
@click.option(
    "--min-studies",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Fewest studies a group's findings must come from.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "-o",
    "--output",
    type=_SHEET,
    help="Also write the groups as a reviews-sheet skeleton (.xlsx, .zip or a folder name).",
)
@pass_context
def suggest_command(ctx: Context, min_studies: int, as_json: bool, output: Path | None) -> None:
    """Propose candidate review findings: findings of different studies that share concepts.

    Sharing follows the hierarchy and the CFIR alignment, as in `qikg related`. Accept a group
    by writing it into a reviews sheet: -o writes every group as a row with its supporting
    findings filled in; write the statement and the GRADE-CERQual judgements, delete the rows
    you reject, and `qikg import` the sheet.

    \b
    Example:
      qikg suggest-synthesis --min-studies 3 -o my-review.xlsx
    """
    found = suggest(ctx.store(), min_studies)
    if output is not None:
        write_tables({"reviews": (SKELETON_COLUMNS, skeleton_rows(found))}, output)
        click.echo(f"wrote {len(found)} suggestions as a reviews sheet to {output}", err=True)
    if as_json:
        click.echo(json.dumps([asdict(s) for s in found], indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo(f"no concept is shared by findings of {min_studies}+ studies")
    for n, s in enumerate(found, start=1):
        click.echo(
            f"S{n}  {len(s.studies)} studies, {len(s.members)} findings, score {s.score:.2f}; "
            f"shared: {', '.join(s.shared)}"
        )
        for m in s.members:
            click.echo(f"      {m.ref:<22} {textwrap.shorten(m.statement, 90)}")


@click.command("soqf")
@click.option("-o", "--output", type=_FILE, required=True, help="The file to write.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    help="md, csv, docx or html. Default: from the file's suffix.",
)
@click.option("--review", metavar="ID", help="Only the review findings of this review.")
@pass_context
def soqf_command(ctx: Context, output: Path, fmt: str | None, review: str | None) -> None:
    """Write the GRADE-CERQual Summary of Qualitative Findings table and Evidence Profile.

    The SoQF table lists each review finding with its contributing studies, its CERQual
    assessment of confidence and the explanation; the Evidence Profile follows, with each
    component's concerns and their explanation.

    \b
    Example:
      qikg soqf -o soqf.docx
      qikg soqf -o soqf.html --review bundled
    """
    chosen = format_for(output, fmt)
    findings = review_findings(ctx.store(), review)
    if not findings:
        where = f'in review "{review}"' if review else "in the graph"
        raise BadInput(f"no review findings {where}: import a reviews sheet first")
    _write(output, FORMATS[chosen](findings))
    click.echo(f"wrote the SoQF table of {len(findings)} review findings to {output}", err=True)


@click.command("nanopub")
@click.argument("review_finding_id", required=False)
@click.option("--all", "every", is_flag=True, help="Every review finding, one nanopub each.")
@click.option("-o", "--output", type=_FILE, help="The .trig file to write; default: print it.")
@pass_context
def nanopub_command(
    ctx: Context, review_finding_id: str | None, every: bool, output: Path | None
) -> None:
    """Export a review finding as a nanopublication (TriG): head, assertion, provenance and
    publication info graphs, so the synthesised claim can be cited and retracted on its own.

    \b
    Example:
      qikg nanopub RF1 -o RF1.trig
      qikg nanopub --all -o review.trig
    """
    if every == bool(review_finding_id):
        raise BadInput("give either a REVIEW_FINDING_ID or --all")
    store = ctx.store()
    # the check above leaves an id exactly when --all is not given
    findings = (
        [review_finding(store, review_finding_id)] if review_finding_id else review_findings(store)
    )
    data = nanopublications_trig(store, findings)
    if output is None:
        click.echo(data.decode(), nl=False)
        return
    _write(output, data)
    click.echo(f"wrote {len(findings)} nanopublication(s) to {output}", err=True)


@click.command("export-reviews")
@click.option("-o", "--output", type=_SHEET, required=True, help=".xlsx, .zip, or a folder name.")
@click.option("--review", metavar="ID", help="Only the review findings of this review.")
@click.option(
    "--ro-crate",
    "ro_crate",
    is_flag=True,
    help="Write the review as an RO-Crate into the new or empty folder -o (needs --review).",
)
@pass_context
def export_reviews_command(ctx: Context, output: Path, review: str | None, ro_crate: bool) -> None:
    """Write the review findings in the graph back to a reviews sheet (round-trips with
    `qikg import --replace`).

    With --ro-crate, -o is a folder that receives the review as an RO-Crate 1.1, ready to
    deposit (e.g. on Zenodo): the reviews sheet, the review's graph and the graph of every study
    it cites (TriG), the SoQF (HTML, CSV, Word), and ro-crate-metadata.json naming each file's
    size, SHA-256 and licence, the studies' DOIs and the graph, ontology and qikg versions.

    \b
    Example:
      qikg export-reviews --review bundled -o reviews.xlsx
      qikg export-reviews --review bundled -o bundled-crate/ --ro-crate
    """
    if ro_crate:
        if not review:
            raise BadInput("--ro-crate exports one review: name it with --review")
        crate = write_crate(ctx.store(), review, output)
        version = (
            "" if crate.graph_version is None else f", qikg graph version {crate.graph_version}"
        )
        click.echo(
            f"wrote the RO-Crate of review {review} to {output}: {len(crate.files)} files, "
            f"{len(crate.studies)} cited studies{version}",
            err=True,
        )
        return
    findings = review_findings(ctx.store(), review)
    rows = [f.row() for f in findings]
    extra = sorted({c for r in rows for c in r} - set(REVIEW_COLUMNS))
    write_tables({"reviews": (REVIEW_COLUMNS + extra, rows)}, output)
    click.echo(f"wrote {len(rows)} review findings to {output}", err=True)


commands = [suggest_command, soqf_command, nanopub_command, export_reviews_command]
