"""``qikg remove``: withdraw a study and everything that came from it (undoable)."""

import click

from kg.cli.common import Context, pass_context
from kg.remove import remove_study


@click.command("remove")
@click.argument("study_id")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; write nothing.")
@click.option("--force", is_flag=True, help="Remove it even if review findings cite its findings.")
@pass_context
def command(ctx: Context, study_id: str, dry_run: bool, force: bool) -> None:
    """Remove a study: its findings, quotes, QDA codings and what was inferred about them.

    Refused (exit 1) if a review finding cites one of its findings, unless --force. `qikg undo`
    brings it back.

    \b
    Example:
      qikg import my-study.xlsx          # study hansen2025, from its coding sheet
      qikg remove hansen2025 --dry-run
      qikg remove hansen2025
      qikg remove carstensen2024         # refused: review findings cite it (exit 1)
    """
    result = remove_study(ctx.store(build_if_empty=False), study_id, force=force, dry_run=dry_run)
    if result.citing:
        click.echo(
            f"review findings left citing findings of {study_id} that are gone: "
            + ", ".join(result.citing),
            err=True,
        )
    click.echo(result.summary())
    if result.committed:
        click.echo("undo with `qikg undo`; the inferred graph is marked stale (`qikg reason`)")
