"""``starter.py fraud``: the three ways in (171 p.52(4), p.118, p.119), the analyst's outcome, lifting a
suspension, bulk intake of a centre's sweep, showing a case, and rehearsing an antifraud-centre outage.

A case is named by its suspect number (the workflow id is a keyed hash of it) or by its case id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from activities.subscriber_registry import DEMO_SUBSCRIBERS, seed_demo_subscribers
from cli.common import console, deadline_table, run_async, with_client
from cli.fraud_intake import bulk_intake, submit
from infra.cases import pending_calls
from models.case import CaseView
from models.fraud_check import (
    AnyReport,
    CentreInformation,
    CheckOutcome,
    FraudCaseView,
    IntakeAck,
    InternalDetection,
    LiftDecision,
    SubscriberReport,
)
from rules.calendar import ALMATY
from rules.identifiers import kz_mobile
from workflows.fraud_check import PROCEDURE, FraudCheck, fraud_case_id

app = typer.Typer(no_args_is_help=True)

_SWEEP_ID = re.compile(r"^[A-Za-z0-9._-]{1,80}$")


def _case_id(number_or_case: str) -> str:
    if number_or_case.startswith(f"{PROCEDURE}-"):
        return number_or_case
    return fraud_case_id(kz_mobile(number_or_case))


def _handle(client: Client, number_or_case: str) -> WorkflowHandle[FraudCheck, FraudCaseView]:
    return client.get_workflow_handle_for(FraudCheck.run, _case_id(number_or_case))


@contextmanager
def _case_exists() -> Iterator[None]:
    try:
        yield
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise ValueError("no case for this number (a report, centre-info or detect opens one)") from None
        raise


def _local(at: datetime) -> str:
    return at.astimezone(ALMATY).isoformat(timespec="minutes")


def _received(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    if at.tzinfo is None:
        raise typer.BadParameter("give the offset, e.g. 2026-11-23T10:00:00+05:00", param_hint="--received-at")
    return at


def _ref(prefix: str, ref: str | None) -> str:
    return ref or f"{prefix}:{uuid.uuid4().hex[:16]}"


async def _take(report: AnyReport) -> None:
    ack: IntakeAck = await submit(await with_client(), report, source="starter")
    said = {"opened": "opened case", "joined": "joined the open case", "duplicate": "already taken in:"}
    console.print(
        f"{said[ack.answer.value]} [bold]{ack.case_id}[/bold]"
        + (f" ({ack.reports_in_case} report(s), status {ack.status})" if ack.reports_in_case else "")
    )


_NUMBER = typer.Argument(..., help="the suspect number, e.g. +77011234567")
_TEXT = typer.Option(..., "--text", help="the SMS text or a description of the call")
_SIGNAL = typer.Option("sms", help="sms, call or network")
_REF = typer.Option(None, help="the sender's reference (the same reference is never taken in twice)")
_AT = typer.Option(None, "--received-at", help="ISO instant with offset; default now")


@app.command("report")
@run_async
async def report(
    number: str = _NUMBER,
    reporter: str = typer.Option(..., help="the reporting subscriber's number"),
    text: str = _TEXT,
    signal: str = _SIGNAL,
    ref: str | None = _REF,
    received_at: datetime | None = _AT,
) -> None:
    """(a) A subscriber's report to the information-reference service (p.52(4))."""
    await _take(
        SubscriberReport(
            ref=_ref("ref-service", ref),
            suspect_number=number,
            reporter_number=reporter,
            received_at=_received(received_at),
            signal=signal,
            description=text,
        )
    )


@app.command("centre-info")
@run_async
async def centre_info(
    number: str = _NUMBER,
    text: str = _TEXT,
    signal: str = typer.Option("call"),
    simbox: bool = typer.Option(False, help="a SIM-box (GSM gateway) finding"),
    ref: str | None = _REF,
    received_at: datetime | None = _AT,
) -> None:
    """(b) Information from the National Bank antifraud centre (p.119)."""
    await _take(
        CentreInformation(
            ref=_ref("nb-afc", ref),
            suspect_number=number,
            received_at=_received(received_at),
            signal=signal,
            simbox=simbox,
            description=text,
        )
    )


@app.command("detect")
@run_async
async def detect(
    number: str = _NUMBER,
    text: str = _TEXT,
    signal: str = typer.Option("call"),
    simbox: bool = typer.Option(False, help="detected as a SIM box (GSM gateway)"),
    ref: str | None = _REF,
    received_at: datetime | None = _AT,
) -> None:
    """(c) The operator's own detection (p.118): the centre is informed at once with the subscriber's data."""
    await _take(
        InternalDetection(
            ref=_ref("afs", ref),
            suspect_number=number,
            received_at=_received(received_at),
            signal=signal,
            simbox=simbox,
            description=text,
        )
    )


@app.command("decide")
@run_async
async def decide(
    number: str = typer.Argument(..., help="suspect number or case id"),
    confirmed: bool = typer.Option(..., "--confirmed/--not-confirmed"),
    evidence: list[str] = typer.Option(..., help="one piece of evidence (repeat the option)"),
    analyst: str = typer.Option(..., help="who checked"),
    note: str = typer.Option(""),
) -> None:
    """The analyst's outcome of the check with its evidence (p.119, p.120)."""
    outcome = CheckOutcome(confirmed=confirmed, evidence=evidence, analyst=analyst, note=note)
    with _case_exists():
        v = await _handle(await with_client(), number).execute_update(FraudCheck.record_check_outcome, outcome)
    console.print(
        f"recorded: {'confirmed → suspension' if confirmed else 'not confirmed → centre informed'} ({v.case_id})"
    )


@app.command("lift")
@run_async
async def lift(
    number: str = typer.Argument(..., help="suspect number or case id"),
    reason: str = typer.Option(..., help="why the suspension is lifted"),
    decided_by: str = typer.Option(..., "--by", help="who decided"),
    complaint_ref: str | None = typer.Option(None, help="the complaint it answers, if any"),
) -> None:
    """Lift a suspension by a recorded decision with its reason; network and centre follow."""
    decision = LiftDecision(reason=reason, decided_by=decided_by, complaint_ref=complaint_ref)
    with _case_exists():
        v = await _handle(await with_client(), number).execute_update(FraudCheck.lift_suspension, decision)
    console.print(f"suspension lifted: services are being restored and the centre told ({v.case_id})")


@app.command("bulk")
@run_async
async def bulk(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV: number,signal,simbox,text"),
    sweep_id: str | None = typer.Option(None, help="the centre's sweep reference; default the file name"),
    concurrency: int = typer.Option(32, min=1, max=256, help="cases started or joined at a time"),
    received_at: datetime | None = _AT,
) -> None:
    """Bulk intake of a centre's sweep: every line validated, one case per number, safe to re-run."""
    sweep = sweep_id or path.stem
    if not _SWEEP_ID.match(sweep):
        raise typer.BadParameter("letters, digits, '.', '_' and '-' only", param_hint="--sweep-id")
    client = await with_client()
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"sweep {sweep}", total=None)
        result = await bulk_intake(
            client,
            path,
            sweep_id=sweep,
            received_at=_received(received_at),
            concurrency=concurrency,
            progress=lambda n: progress.advance(task, n),
            on_total=lambda n: progress.update(task, total=n),
        )
    console.print(
        f"{result.opened} cases opened, {result.joined} joined open cases, "
        f"{result.already} already taken in; {len(result.bad)} bad lines, "
        f"{len(result.repeated)} repeated numbers, {len(result.failed)} failed"
    )
    for line, why in result.bad:
        console.print(f"[red]line {line}:[/red] {why}")
    for line, first in result.repeated:
        console.print(f"[yellow]line {line}:[/yellow] same number as line {first} (taken once)")
    for line, why in result.failed:
        console.print(f"[red]line {line} not taken in:[/red] {why} (re-run the file to retry)")
    if result.failed:
        raise typer.Exit(1)


@app.command("show")
@run_async
async def show(number: str = typer.Argument(..., help="suspect number or case id")) -> None:
    """A case: status, reports, outcome, suspension, messages to the centre, deadlines."""
    client = await with_client()
    handle = _handle(client, number)
    with _case_exists():
        case: CaseView = await handle.query(FraudCheck.case)
        v = await handle.query(FraudCheck.fraud)
        calls = {c.activity_id: c for c in await pending_calls(client, handle.id)}
    console.print(
        f"[bold]{v.case_id}[/bold] {v.number} — status [bold]{case.status}[/bold]"
        + (f", outcome {case.outcome}" if case.outcome else "")
        + f" (check no. {v.cycle})"
    )
    if case.pending_events:
        console.print("accepts: " + ", ".join(case.pending_events))
    reports = Table(title="Reports")
    for col in ("received (Asia/Almaty)", "way in", "ref", "signal", "description"):
        reports.add_column(col, overflow="fold")
    for r in v.reports:
        reports.add_row(
            _local(r.report.received_at),
            r.report.way_in.value,
            r.report.ref,
            r.report.signal,
            r.report.description + (" [yellow](for the next check)[/yellow]" if r.needs_new_check else ""),
        )
    console.print(reports)
    if v.outcome:
        verdict = "confirmed" if v.outcome.confirmed else "not confirmed"
        console.print(
            f"check outcome: [bold]{verdict}[/bold] by {v.outcome.analyst}; evidence: " + "; ".join(v.outcome.evidence)
        )
    if v.suspension:
        console.print(f"services suspended {_local(v.suspension.done_at)}")
    if v.lift:
        console.print(f"suspension lifted by {v.lift.decided_by}: {v.lift.reason}")
    if v.restoration:
        console.print(f"services restored {_local(v.restoration.done_at)}")
    for n in v.notices:
        call = calls.get(n.call_id or "") if not n.delivered_at else None
        if call is not None:  # the activity's retry policy is at it: Temporal counts the attempts
            n = n.with_pending_call(call.attempt, call.last_error, call.next_attempt_at)
        colour = "green" if n.delivered_at else "yellow"
        console.print(f"antifraud centre, {n.kind.value} ({n.cite}): [{colour}]{n.describe()}[/{colour}]")
    console.print(deadline_table(case.deadlines, title="Deadlines"))


@app.command("subscribers")
def subscribers() -> None:
    """The demo subscriber registry (seeded on first use): whose numbers a detection reports (p.118)."""
    seed_demo_subscribers()
    t = Table(title="Demo subscriber registry")
    for col in ("surname", "name", "patronymic", "numbers"):
        t.add_column(col)
    for d in DEMO_SUBSCRIBERS:
        t.add_row(d.surname, d.name, d.patronymic or "", ", ".join(d.numbers))
    console.print(t)
