"""``qikg reason``."""

import click

from kg.cli.common import Context, pass_context
from kg.errors import BadInput, DataProblem
from kg.reasoning import DEFAULT_ENGINE, ENGINES, check, compare, materialise
from kg.store import Store

#: How many clashes the one-line error names before it says how many more there are.
SHOWN_CLASHES = 5


@click.command("reason")
@click.option(
    "--check-only", is_flag=True, help="Only check consistency with HermiT; write nothing."
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=DEFAULT_ENGINE,
    show_default=True,
    help="What computes the inferred graph (see docs/reasoning.md).",
)
@click.option(
    "--skip-check", is_flag=True, help="Skip the HermiT check (stores too large for HermiT)."
)
@click.option(
    "--compare",
    "compare_engines",
    is_flag=True,
    help="Run every engine, write nothing, and show where their answers differ "
    "(small stores only: owlrl does not scale).",
)
@pass_context
def command(
    ctx: Context, check_only: bool, engine: str, skip_check: bool, compare_engines: bool
) -> None:
    """Check the coded data against the ontology, then materialise what it entails.

    HermiT (Java 17) checks that the ontology and every study graph are consistent; a clash is
    named in plain words and exits 1. Then the entailments researchers query on (class
    membership, inverse and super-properties, SKOS broader closure, CFIR alignments) replace the
    inferred graph, which queries include unless `qikg query --no-inferred`.

    \b
    Example:
      qikg reason
      qikg reason --check-only
      qikg reason --skip-check --engine sparql
      qikg reason --compare
    """
    if check_only and skip_check:
        raise BadInput("--check-only and --skip-check leave nothing to do; use one of them")
    store = ctx.store()
    if compare_engines:
        _show_comparison(store)
        return
    if not skip_check:
        click.echo("qikg: checking the ontology and data with HermiT…", err=True)
        result = check(store)
        if not result.consistent:
            more = len(result.clashes) - SHOWN_CLASHES
            shown = "; ".join(result.clashes[:SHOWN_CLASHES])
            raise DataProblem(f"inconsistent: {shown}" + (f"; and {more} more" if more > 0 else ""))
        if result.unsatisfiable:
            raise DataProblem(
                "incoherent: the ontology leaves these classes without possible members: "
                + ", ".join(result.unsatisfiable)
            )
        click.echo(
            f"consistent: the ontology and {result.graphs} data graphs "
            f"({result.triples:,} triples), HermiT in {result.seconds:.1f} s"
        )
    if check_only:
        return
    summary = materialise(store, engine)
    click.echo(
        f"inferred: {summary.triples:,} new triples with the {summary.engine} engine in "
        f"{summary.seconds:.1f} s (graph inferred; leave them out with `qikg query --no-inferred`)"
    )
    for name, count in list(summary.counts.items())[:12]:
        click.echo(f"  {name:<40} {count:>9,}")


def _show_comparison(store: Store) -> None:
    runs = compare(store)
    click.echo(f"{'engine':<11} {'triples':>9} {'seconds':>8}  differences from {DEFAULT_ENGINE}")
    for run in runs:
        extra = ", ".join(f"+{n} {p}" for p, n in run.extra.items())
        missing = ", ".join(f"-{n} {p}" for p, n in run.missing.items())
        click.echo(
            f"{run.engine:<11} {run.triples:>9,} {run.seconds:>8.2f}  "
            + ("; ".join(x for x in (extra, missing) if x) or "none")
        )
