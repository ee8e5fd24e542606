"""Commands that work on any case: terms and deadlines, listing, showing deadlines, calendar corrections."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import typer
from rich.table import Table
from rich.text import Text

from cli import case
from cli.common import console, deadline_table, run_async, when, with_client

if TYPE_CHECKING:
    from cli.law_changes import CaseMoves, Outcome

app = typer.Typer(no_args_is_help=True)


@app.command("terms")
def terms() -> None:
    """Every legal term the engine counts, with its citation."""
    from rules.terms import TERMS

    t = Table(title="Legal terms")
    for col in ("key", "term", "governs"):
        t.add_column(col, overflow="fold")
    for term in TERMS.values():
        flag = (" (to be confirmed)", "yellow") if term.to_be_confirmed else ""
        t.add_row(term.key, Text.assemble(term.describe(), flag), term.text)
    console.print(t)


@app.command("deadline")
def deadline(
    term_key: str = typer.Argument(..., help="a key from `starter.py cases terms`, e.g. mvno.completeness_check"),
    received_at: datetime = typer.Argument(
        ..., help="ISO instant, e.g. 2027-03-19T17:00:00+05:00 (without an offset: Asia/Almaty)"
    ),
    act: str | None = typer.Option(None, help="the act, for a term two acts declare (complaint terms: 58 or 665/NK)"),
) -> None:
    """Compute one deadline with the calendar in force and the term's value on the governing day, and explain it."""
    from activities.deadlines import compute
    from infra.calendar import current_calendar
    from models.deadlines import DeadlineRequest
    from rules import law
    from rules.calendar import ALMATY, HOLIDAY_YEARS

    if received_at.tzinfo is None:  # typed without an offset: Asia/Almaty time
        received_at = received_at.replace(tzinfo=ALMATY)
    if received_at.year not in HOLIDAY_YEARS:
        raise typer.BadParameter(
            f"the calendar knows Kazakhstan's days off for {HOLIDAY_YEARS.start}–{HOLIDAY_YEARS.stop - 1} only",
            param_hint="RECEIVED_AT",
        )
    cal = current_calendar()
    try:
        acts = [act] if act else law.book().acts_declaring(term_key)
        if not acts:
            raise KeyError(f"unknown term {term_key!r}; see `starter.py cases terms`")
        day = law.governing_day(acts[0], received_at, cal)
        value = law.term(term_key, on=day, act=act)
    except law.AmbiguousTerm as exc:
        choices = " or ".join(f"--act {a}" for a in exc.acts)
        raise typer.BadParameter(f"{exc}: {choices}", param_hint="'--act'") from None
    except KeyError as exc:
        raise typer.BadParameter(str(exc).strip("'\""), param_hint="TERM_KEY") from None
    except ValueError as exc:  # the act or the term not in force on the day the receipt governs
        raise typer.BadParameter(str(exc).strip("'\""), param_hint="RECEIVED_AT") from None
    try:
        d = compute(cal, DeadlineRequest(term_key=term_key, start=received_at, term=value, act=value.act))
    except ValueError as exc:  # the term runs past the years the calendar knows
        raise typer.BadParameter(str(exc), param_hint="RECEIVED_AT") from None
    console.print(Text.assemble((when(d.due), "bold"), f"\n{d.explain()} [law {value.version}]"))


def _query(procedure: str | None, status: str | None, overdue: bool, running: bool) -> str:
    from models import search_attributes as sa

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
    from models import search_attributes as sa

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
            when(nxt) if nxt else "",
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
async def calendar_correction(
    reason: str = typer.Option(..., help="what changed, e.g. the Government resolution"),
    dry_run: bool = typer.Option(False, "--dry-run", help="list what would move; send nothing"),
) -> None:
    """Tell the running cases that the calendar changed (the override file, a newer `holidays`).

    The override file is checked first (a mistake names the line; nothing is sent). A dry run lists every
    running case whose due instants would move, old and new; then only those cases get the correction, each
    recording old and new instants and calendar versions. A case where nothing moves records nothing.
    """
    from rich.progress import Progress

    from cli.law_changes import calendar_dry_run, send_calendar_correction
    from infra.calendar import current_calendar
    from models.deadlines import CalendarCorrection

    try:
        cal = current_calendar()
    except ValueError as exc:
        raise ValueError(f"{exc}; nothing sent") from None
    correction = CalendarCorrection(reason=reason, calendar_version=cal.version)
    client = await with_client()
    plan = await calendar_dry_run(client, cal)
    moving = [c for c in plan if c.moves]
    _print_moves(moving, title=f"Calendar {cal.version}: what moves")
    for c in plan:  # what no Update moves: a person acts on it
        for warning in c.warnings:
            console.print(Text.assemble((c.case_id, "yellow"), f" ({c.procedure}): {warning}"))
    console.print(f"{len(plan)} running cases looked at; {len(moving)} would move")
    if dry_run or not moving:
        console.print("0 moved: nothing sent" if not moving else "dry run: nothing sent")
        return
    with Progress(console=console) as progress:
        task = progress.add_task("correcting open deadlines", total=len(moving))
        outcomes = await send_calendar_correction(
            client, [c.case_id for c in moving], correction, lambda: progress.advance(task)
        )
    _report(outcomes, "moved")


def _print_moves(cases: list[CaseMoves], *, title: str) -> None:
    t = Table(title=title)
    for col in ("case", "procedure", "term", "cite", "now due", "would be due"):
        t.add_column(col, overflow="fold")
    for c in cases:
        for m in c.moves:
            t.add_row(c.case_id, c.procedure, m.key, m.cite, _local(m.old_due), _local(m.new_due))
    if cases:
        console.print(t)


def _local(at: datetime) -> str:
    return when(at)


def _report(outcomes: list[Outcome], what: str) -> None:
    failed = [o for o in outcomes if o.error]
    for o in failed:
        console.print(Text.assemble((o.case_id, "red"), f": {o.error}"))
    moved = sum(o.moved for o in outcomes)
    console.print(f"{len(outcomes) - len(failed)} cases took it, {len(failed)} did not; {moved} deadlines {what}")
    if failed:
        raise typer.Exit(1)


@app.command("reindex")
@run_async
async def reindex_cases(
    procedure: list[str] = typer.Option(None, "--procedure", help="only these procedures (repeatable); default all"),
    case_ids: list[str] = typer.Option(
        None, "--case", help="only these cases (repeatable); for a server without visibility listing"
    ),
) -> None:
    """Write the console's search index for cases started before it existed (keyed hashes, from their inputs
    decrypted here); idempotent: a re-run writes nothing new."""
    from temporalio.service import RPCError, RPCStatusCode

    from infra.reindex import ReindexReport, reindex
    from workflows.catalogue import PROCEDURES, by_key

    known = by_key()
    unknown = [p for p in procedure or [] if p not in known]
    if unknown:
        raise typer.BadParameter(
            f"unknown procedure {unknown[0]!r}; known: {', '.join(known)}", param_hint="--procedure"
        )
    specs = [known[p] for p in procedure] if procedure else list(PROCEDURES)
    client = await with_client()

    def progress(r: ReindexReport) -> None:
        if r.runs % 50 == 0:
            console.print(f"… {r.line()}")

    try:
        report = await reindex(client, specs, progress, case_ids or None)
    except RPCError as exc:
        if exc.status is RPCStatusCode.UNIMPLEMENTED:
            console.print("refused: this Temporal server cannot list workflows: name the cases with --case")
            raise typer.Exit(1) from None
        raise
    for case_id, error in report.failed:
        console.print(f"not indexed: {case_id} ({error})")
    console.print(report.line())
    if report.failed:
        raise typer.Exit(1)
