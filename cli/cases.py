"""Commands that work on any case: terms and deadlines, listing, showing deadlines, calendar corrections."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Table

from cli import case
from cli.common import console, deadline_table, run_async, with_client

app = typer.Typer(no_args_is_help=True)


@app.command("terms")
def terms() -> None:
    """Every legal term the engine counts, with its citation."""
    from rules.terms import TERMS

    t = Table(title="Legal terms")
    for col in ("key", "term", "governs"):
        t.add_column(col, overflow="fold")
    for term in TERMS.values():
        flag = " [yellow](to be confirmed)[/yellow]" if term.to_be_confirmed else ""
        t.add_row(term.key, term.describe() + flag, term.text)
    console.print(t)


@app.command("deadline")
def deadline(
    term_key: str = typer.Argument(..., help="a key from `starter.py terms`, e.g. mvno.completeness_check"),
    received_at: datetime = typer.Argument(..., help="ISO instant with offset, e.g. 2027-03-19T17:00:00+05:00"),
) -> None:
    """Compute one deadline with the calendar in force and explain it."""
    from activities.deadlines import compute
    from infra.calendar import current_calendar
    from models.deadlines import DeadlineRequest
    from rules.terms import TERMS

    if received_at.tzinfo is None:
        raise typer.BadParameter("give the offset, e.g. 2027-03-19T17:00:00+05:00", param_hint="RECEIVED_AT")
    if term_key not in TERMS:
        raise typer.BadParameter("unknown term; see `starter.py terms`", param_hint="TERM_KEY")
    d = compute(current_calendar(), DeadlineRequest(term_key=term_key, start=received_at))
    console.print(f"[bold]{d.due.isoformat()}[/bold]\n{d.explain()}")


def _query(procedure: str | None, status: str | None, overdue: bool, running: bool) -> str:
    from infra import search_attributes as sa

    parts = [f"{sa.PROCEDURE.name} IS NOT NULL" if procedure is None else f"{sa.PROCEDURE.name} = '{procedure}'"]
    if status:
        parts.append(f"{sa.STATUS.name} = '{status}'")
    if overdue:
        parts.append(f"{sa.OVERDUE.name} = true")
    if running:
        parts.append("ExecutionStatus = 'Running'")
    return " AND ".join(parts)


@app.command("list")
@run_async
async def list_cases(
    procedure: str | None = typer.Option(None, help="e.g. mvno_permit"),
    status: str | None = typer.Option(None, help="the case status, e.g. completeness_check"),
    overdue: bool = typer.Option(False, help="only cases with an outstanding breach"),
    all_: bool = typer.Option(False, "--all", help="closed cases too"),
) -> None:
    """List cases through Temporal visibility (no personal data is searchable)."""
    from infra import search_attributes as sa

    client = await with_client()
    t = Table(title="Cases")
    for col in ("case", "procedure", "status", "next deadline", "overdue", "state"):
        t.add_column(col, overflow="fold")
    async for wf in client.list_workflows(_query(procedure, status, overdue, not all_)):
        attrs = wf.typed_search_attributes
        nxt = attrs.get(sa.NEXT_DEADLINE)
        t.add_row(
            wf.id,
            attrs.get(sa.PROCEDURE) or "",
            attrs.get(sa.STATUS) or "",
            nxt.isoformat(timespec="minutes") if nxt else "",
            "yes" if attrs.get(sa.OVERDUE) else "",
            wf.status.name.lower() if wf.status else "",
        )
    console.print(t)


@app.command("deadlines")
@run_async
async def show_deadlines(case_id: str) -> None:
    """Every legal term of a case: due instant, citation, outcome and why the instant is what it is."""
    from models.deadlines import DeadlineState

    client = await with_client()
    states = await client.get_workflow_handle(case_id).query("deadlines", result_type=list[DeadlineState])
    console.print(deadline_table(states, title=f"Deadlines of {case_id}"))


app.command(
    "show",
    help="Any case: status, details, blocked step, outside calls waiting, terms and documents. "
    "Alias of `starter.py case show CASE`.",
)(case.show_command)


@app.command("calendar-correction")
@run_async
async def calendar_correction(reason: str = typer.Option(..., help="what changed, e.g. the resolution")) -> None:
    """Tell every running case that the calendar changed; each records old and new instants."""
    from rich.progress import Progress

    from models.deadlines import CalendarCorrection

    correction = CalendarCorrection(reason=reason)
    client = await with_client()
    ids = [wf.id async for wf in client.list_workflows(_query(None, None, False, True))]
    changed = 0
    with Progress(console=console) as progress:
        task = progress.add_task("correcting open deadlines", total=len(ids))
        for case_id in ids:
            handle = client.get_workflow_handle(case_id)
            result = await handle.execute_update("apply_calendar_correction", correction)
            changed += len(result["changed"]) if isinstance(result, dict) else len(result.changed)
            progress.advance(task)
    console.print(f"{len(ids)} running cases told; {changed} deadlines moved (old and new instants recorded)")
