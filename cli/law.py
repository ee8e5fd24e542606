"""``starter.py law``: the law as dated data (``rules/data/law/``): terms and paragraphs in force on a day,
law migrations of running cases (with a dry run), and the law coverage report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from cli.common import console, run_async, with_client

app = typer.Typer(no_args_is_help=True)


def _day(value: str | None) -> date:
    if value is None:
        from datetime import UTC, datetime

        from rules.calendar import ALMATY

        return datetime.now(UTC).astimezone(ALMATY).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not a date: {value!r} (YYYY-MM-DD)", param_hint="--on") from None


@app.command("terms")
def terms(
    act: str | None = typer.Option(None, help="only this act, e.g. 171"),
    on: str | None = typer.Option(None, help="the day whose law to show (YYYY-MM-DD); default today"),
) -> None:
    """Every term in force on a day, by act: its value, what it is counted from, and its reference."""
    from rules import law

    day = _day(on)
    t = Table(title=f"Terms in force on {day.isoformat()}")
    for col in ("act", "version", "key", "term", "counted from", "governs"):
        t.add_column(col, overflow="fold")
    for key in [act] if act else sorted(law.acts()):
        try:
            values = law.terms_of(key, day)
        except ValueError as exc:  # the act does not apply that day
            t.add_row(key, "", "", Text(str(exc), style="yellow"), "", "")
            continue
        for v in values.values():
            flag = (" (to be confirmed)", "yellow") if v.to_be_confirmed else ""
            counted = "receipt (after-hours roll)" if v.rolls else f"{v.counts_from.value} (the day after)"
            t.add_row(key, v.version, v.key, Text.assemble(v.describe(), flag), counted, v.text)
    console.print(t)


@app.command("paragraph")
def paragraph(
    act: str = typer.Argument(..., help="e.g. 171"),
    pid: str = typer.Argument(..., help="e.g. p.119"),
    on: str | None = typer.Option(None, help="the day (YYYY-MM-DD); default today"),
) -> None:
    """Is a paragraph in force on a day, and in which wording? Exit code 1 when it is not."""
    from rules import law

    try:
        p = law.paragraph(act, pid, on=_day(on))
    except (KeyError, LookupError, ValueError) as exc:
        console.print(Text.assemble(("refused:", "red"), f" {str(exc).strip(chr(39))}"))
        raise typer.Exit(1) from None
    executed = "executed by the engine" if p.executed else f"not executed ({p.reason})"
    console.print(
        f"{p.citation}: {p.title}\nwording of {p.wording_of} (in force from {p.in_force_from.isoformat()}); {executed}"
    )


@app.command("migrate")
@run_async
async def migrate(
    act: str = typer.Option(..., help="the act, e.g. 171"),
    to: str = typer.Option(..., "--to", help="the version to move running cases onto, e.g. 171/554-NK-2025"),
    reason: str = typer.Option("", help="why (the amending order); required unless --dry-run"),
    by: str = typer.Option("", "--by", help="who decided; required unless --dry-run"),
    dry_run: bool = typer.Option(False, "--dry-run", help="list what would move; send nothing (drafts allowed)"),
) -> None:
    """Move running cases of an act onto another version, deliberately and on the record.

    A dry run lists every running case of the act and each due instant's old and new value, before anything
    is sent (a what-if for a draft amendment marked ``expected`` in the law file). Without it, each case of the
    act gets the ``migrate_law`` Update and records the old and the new instants.
    """
    from rich.progress import Progress

    from cli.cases import _print_moves, _report
    from cli.law_changes import check_may_migrate_to, law_dry_run, send_law_migration
    from infra.calendar import current_calendar
    from models.case import LawMigration

    if not dry_run and (not reason.strip() or not by.strip()):
        raise typer.BadParameter("a migration needs --reason and --by (or use --dry-run)")
    if not dry_run:
        check_may_migrate_to(act, to)
    client = await with_client()
    try:
        plan, seen = await law_dry_run(client, current_calendar(), act, to)
    except KeyError as exc:
        raise ValueError(str(exc).strip("'\"")) from None
    _print_moves([c for c in plan if c.moves], title=f"Law migration to {to}: what moves")
    for c in plan:
        if c.problem:
            console.print(Text.assemble((c.case_id, "red"), f" ({c.procedure}) {c.problem}"))
    moving = sum(1 for c in plan if c.moves)
    refusing = sum(1 for c in plan if c.problem)
    console.print(
        f"{seen} running cases looked at; {len(plan)} under act {act} elsewhere; {moving} would move"
        + (f"; {refusing} would refuse it (not sent)" if refusing else "")
    )
    plan = [c for c in plan if not c.problem]
    if dry_run or not plan:
        console.print("dry run: nothing sent" if dry_run else "no running case of the act to migrate")
        if refusing and not dry_run:
            raise typer.Exit(1)  # every case of the act would refuse it: the migration did not happen
        return
    migration = LawMigration(to_version=to, reason=reason, decided_by=by)
    with Progress(console=console) as progress:
        task = progress.add_task("migrating", total=len(plan))
        outcomes = await send_law_migration(
            client, [c.case_id for c in plan], migration, lambda: progress.advance(task)
        )
    _report(outcomes, "moved")


@app.command("coverage")
def coverage(
    act: str | None = typer.Option(None, help="only this act"),
    html: Path | None = typer.Option(None, help="also write the report as HTML to this file"),
) -> None:
    """Every paragraph of every seed act: the code that executes it, the tests and golden histories that
    exercise it, or why it is deliberately not executed."""
    from cli.law_coverage import coverage_rows, render_html

    rows = coverage_rows(act)
    t = Table(title="Law coverage")
    for col in ("paragraph", "executed", "code", "tests", "golden histories", "why not"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(
            r.citation,
            "yes" if r.executed else "no",
            ", ".join(r.code[:4]) + (" …" if len(r.code) > 4 else ""),
            ", ".join(r.tests[:3]) + (" …" if len(r.tests) > 3 else ""),
            str(len(r.goldens)) if r.goldens else "",
            r.reason,
        )
    console.print(t)
    executed = [r for r in rows if r.executed]
    untested = [r.citation for r in executed if not r.tests]
    console.print(
        f"{len(rows)} paragraphs: {len(executed)} executed ({len(executed) - len(untested)} with tests), "
        f"{len(rows) - len(executed)} deliberately not executed"
    )
    if html is not None:
        html.write_text(render_html(rows), encoding="utf-8")
        console.print(f"written {html}")
