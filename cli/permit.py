"""``starter.py permit``: the MVNO permit procedure (665/NK) for back-office staff.

Start a case from the portal's JSON, record each decision (every one an Update with a validator: a
decision that does not fit the case or breaks a rule is refused with the reason), show a case with its
deadlines and documents, list cases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from cli import cases
from cli.common import console, deadline_table, load_json_model, run_async, with_client
from infra.cases import StartAnswer, start_case
from infra.store import load_document
from models.case import CaseView
from models.mvno_permit import (
    GROUNDS,
    CompletenessDecision,
    ContractEvent,
    ContractEventKind,
    DecisionReceipt,
    FinalDecision,
    HearingProposal,
    HearingRecord,
    PermitApplication,
    PermitCaseView,
    QualificationDecision,
    RefusalGround,
    ReopenInstruction,
)
from workflows.mvno_permit import PROCEDURE, SPEC, MvnoPermit

__all__ = ["app", "build_qualification", "parse_instant"]

app = typer.Typer(no_args_is_help=True, help=__doc__)

GROUND_HELP = "; ".join(f"{g.value} = {t.cite}" for g, t in GROUNDS.items())


def parse_instant(value: str, name: str) -> datetime:
    """An ISO instant with its offset; a naive time is refused (which zone would it be?)."""
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not an ISO date-time: {value!r}", param_hint=name) from None
    if at.tzinfo is None:
        raise typer.BadParameter("give the offset, e.g. 2027-03-19T15:00:00+05:00", param_hint=name)
    return at


def build_qualification(
    compliant: bool,
    grounds: list[str],
    findings: str | None,
    hearing_at: str | None,
    place: str | None,
    means: str | None,
    by: str,
) -> QualificationDecision:
    """The qualification decision from command-line options (validated by the model)."""
    hearing = None
    if hearing_at is not None:
        hearing = HearingProposal(at=parse_instant(hearing_at, "--hearing-at"), place=place, means=means)
    return QualificationDecision(
        compliant=compliant,
        grounds=[RefusalGround(g) for g in grounds],
        findings=findings,
        hearing=hearing,
        decided_by=by,
    )


def _receipt(r: DecisionReceipt) -> None:
    console.print(f"[green]accepted[/green] {r.update} at {r.accepted_at.isoformat(timespec='seconds')}: {r.note}")


@app.command("start")
@run_async
async def start(
    file: Path = typer.Argument(..., help="the application as the portal hands it over (JSON)"),
    received_now: bool = typer.Option(False, "--received-now", help="take the application as received now"),
    id_only: bool = typer.Option(False, "--id-only", help="print only the case id (for scripts)"),
) -> None:
    """Start the case of an application; the same application again joins its existing case."""
    application = load_json_model(file, PermitApplication)
    if received_now:
        application = application.model_copy(update={"received_at": datetime.now(UTC)})
    started = await start_case(await with_client(), SPEC, application)
    if started.answer is StartAnswer.CLOSED:
        raise ValueError(
            f"application {application.application_number} was already decided in case "
            f"{started.case_id} (closed); the same application is not started again"
        )
    if id_only:
        print(started.case_id)
        return
    console.print(f"case [bold]{started.case_id}[/bold] (application {application.application_number})")
    console.print(f"next: python starter.py permit show {started.case_id}")


@app.command("completeness")
@run_async
async def completeness(
    case_id: str,
    complete: bool = typer.Option(..., "--complete/--incomplete", help="the package is complete or not"),
    reason: list[str] = typer.Option([], "--reason", help="why incomplete / which document expired (repeat)"),
    by: str = typer.Option(..., "--by", help="the employee who decided"),
) -> None:
    """Record the completeness check (665/NK p.6); incomplete → reasoned refusal to consider further."""
    decision = CompletenessDecision(complete=complete, reasons=reason, decided_by=by)
    handle = (await with_client()).get_workflow_handle_for(MvnoPermit.run, case_id)
    _receipt(await handle.execute_update(MvnoPermit.completeness_decision, decision))


@app.command("qualification")
@run_async
async def qualification(
    case_id: str,
    compliant: bool = typer.Option(..., "--compliant/--not-compliant"),
    ground: list[str] = typer.Option([], "--ground", help=f"refusal ground (repeat): {GROUND_HELP}"),
    findings: str | None = typer.Option(None, help="what was found (the preliminary decision is reasoned)"),
    hearing_at: str | None = typer.Option(None, help="time and date of the hearing, e.g. 2027-03-24T15:00:00+05:00"),
    place: str | None = typer.Option(None, help="place of the hearing"),
    means: str | None = typer.Option(None, help="means of the hearing, e.g. a video-conference link"),
    by: str = typer.Option(..., "--by"),
) -> None:
    """Record the qualification check (665/NK p.7): compliant → permit; otherwise preliminary refusal + hearing."""
    decision = build_qualification(compliant, ground, findings, hearing_at, place, means, by)
    handle = (await with_client()).get_workflow_handle_for(MvnoPermit.run, case_id)
    _receipt(await handle.execute_update(MvnoPermit.qualification_decision, decision))


@app.command("hearing")
@run_async
async def hearing(
    case_id: str,
    held_at: str = typer.Option(..., help="when the hearing was held (ISO with offset)"),
    position: str | None = typer.Option(None, help="the applicant's position"),
    absent: bool = typer.Option(False, "--absent", help="the applicant did not attend"),
    by: str = typer.Option(..., "--by"),
) -> None:
    """Record the hearing and the applicant's position (665/NK p.7)."""
    record = HearingRecord(
        held_at=parse_instant(held_at, "--held-at"),
        applicant_attended=not absent,
        applicant_position=position,
        recorded_by=by,
    )
    handle = (await with_client()).get_workflow_handle_for(MvnoPermit.run, case_id)
    _receipt(await handle.execute_update(MvnoPermit.record_hearing, record))


@app.command("decide")
@run_async
async def decide(
    case_id: str,
    grant: bool = typer.Option(..., "--grant/--refuse"),
    ground: list[str] = typer.Option([], "--ground", help=f"refusal ground (repeat): {GROUND_HELP}"),
    reasons: str | None = typer.Option(None, help="the reasons of a refusal"),
    by: str = typer.Option(..., "--by"),
) -> None:
    """The decision after the hearing: the permit or a reasoned refusal (not before notice + 3 working days)."""
    decision = FinalDecision(grant=grant, grounds=[RefusalGround(g) for g in ground], reasons=reasons, decided_by=by)
    handle = (await with_client()).get_workflow_handle_for(MvnoPermit.run, case_id)
    _receipt(await handle.execute_update(MvnoPermit.final_decision, decision))


@app.command("contract")
@run_async
async def contract(
    case_id: str,
    kind: ContractEventKind = typer.Argument(..., help="what happened to the base-operator contract"),
    contract_number: str = typer.Option(..., "--contract"),
    occurred_on: datetime = typer.Option(..., "--on", formats=["%Y-%m-%d"]),
    until: datetime | None = typer.Option(None, "--until", formats=["%Y-%m-%d"], help="new end of an extension"),
    note: str | None = typer.Option(None),
    by: str = typer.Option(..., "--by"),
) -> None:
    """A contract event after issue (665/NK Annex 5): terminated early, ended without compliance, extended."""
    event = ContractEvent(
        kind=kind,
        contract_number=contract_number,
        occurred_on=occurred_on.date(),
        contract_valid_until=until.date() if until else None,
        note=note,
        reported_by=by,
    )
    handle = (await with_client()).get_workflow_handle_for(MvnoPermit.run, case_id)
    _receipt(await handle.execute_update(MvnoPermit.contract_event, event))


@app.command("reopen")
@run_async
async def reopen(
    case_id: str,
    complaint: str = typer.Option(..., help="the upheld complaint's id"),
    reason: str = typer.Option(...),
    stage: str | None = typer.Option(
        None, help="completeness_check | qualification_check (default: the stage that refused)"
    ),
) -> None:
    """Reopen a refused case for a new decision on an upheld complaint's instruction (665/NK p.10)."""
    instr = ReopenInstruction.model_validate({"complaint_id": complaint, "stage": stage, "reason": reason})
    handle = (await with_client()).get_workflow_handle_for(MvnoPermit.run, case_id)
    _receipt(await handle.execute_update(MvnoPermit.reopen, instr))


def _kv(title: str, rows: list[tuple[str, Any]]) -> Table:
    t = Table(title=title, show_header=False)
    t.add_column("", style="bold")
    t.add_column("", overflow="fold")
    for k, v in rows:
        if v not in (None, "", []):
            t.add_row(k, str(v))
    return t


@app.command("show")
@run_async
async def show(case_id: str) -> None:
    """A case: status, what it waits for, deadlines with their explanation, hearing, overrun, documents."""
    handle = (await with_client()).get_workflow_handle_for(MvnoPermit.run, case_id)
    c: CaseView = await handle.query(MvnoPermit.case)
    v: PermitCaseView = await handle.query(MvnoPermit.permit_case)
    reg = c.registration
    registered = None
    if reg is not None:
        registered = f"{reg.registered_on} ({reg.act_version_id})"
        if reg.after_hours_roll:
            registered += f"; {reg.after_hours_roll}"
    console.print(
        _kv(
            f"Case {c.case_id}",
            [
                ("status", c.status + (" (closed)" if c.closed else "")),
                ("waits for", ", ".join(c.pending_events)),
                ("application", v.application_number),
                ("applicant", v.applicant_kind),
                ("round", v.round),
                ("registered on", registered),
            ],
        )
    )
    console.print(deadline_table(c.deadlines, title="Deadlines"))
    for prop in (v.completeness_proposal, v.qualification_proposal):
        if prop is not None:
            verdict = "[green]passes[/green]" if prop.passes else "[yellow]does not pass[/yellow]"
            console.print(f"[bold]System pre-check, {prop.stage}:[/bold] {verdict}")
            for f in prop.findings:
                console.print(f"  - {f}")
            if prop.grounds:
                console.print("  proposed grounds: " + ", ".join(GROUNDS[g].cite for g in prop.grounds))
    if v.hearing is not None:
        console.print(
            _kv(
                "Hearing (665/NK p.7)",
                [
                    ("notice sent", v.notice_sent_at),
                    ("hearing at", v.hearing.at),
                    ("place", v.hearing.place),
                    ("means", v.hearing.means),
                    ("held no later than", v.hearing_latest),
                    ("decision not before", v.decision_not_before),
                    ("held", v.hearing_record.held_at if v.hearing_record else None),
                    ("applicant's position", v.hearing_record.applicant_position if v.hearing_record else None),
                ],
            )
        )
    if v.overrun is not None:
        console.print(f"[yellow]Service term overrun:[/yellow] {v.overrun.explanation}")
    if v.permit is not None:
        p = v.permit
        console.print(
            _kv(
                "Permit (665/NK Annex 5)",
                [
                    ("number", p.permit_number),
                    ("holder", p.holder_name),
                    ("BIN/IIN", p.holder_id),
                    ("issued on", p.issued_on),
                    ("valid through", p.valid_through),
                    ("status", p.status),
                ],
            )
        )
    docs = Table(title="Documents")
    for col in ("kind", "title", "cite", "signed by", "doc id"):
        docs.add_column(col, overflow="fold")
    for d in c.documents:
        docs.add_row(d.kind, d.title, d.cite, d.signed_by or "", d.doc_id)
    console.print(docs)
    events = Table(title="Timeline")
    for col in ("at", "event", "detail", "cite"):
        events.add_column(col, overflow="fold")
    for e in v.events:
        events.add_row(e.at.isoformat(timespec="minutes"), e.kind, e.detail, e.cite)
    console.print(events)


@app.command("document")
def document(
    doc_id: str = typer.Argument(..., help="a doc id from `permit show`"),
    out: Path = typer.Option(Path("."), help="directory to write <name>.html and <name>.p7s into"),
) -> None:
    """Export a document and its detached CMS signature (check it with `openssl cms -verify`)."""
    doc = load_document(doc_id)
    if doc is None:
        console.print(f"[red]no document {doc_id}[/red]")
        raise typer.Exit(1)
    out.mkdir(parents=True, exist_ok=True)
    name = doc_id.replace("/", "_")
    (out / f"{name}.html").write_bytes(doc.content)
    if doc.signature is not None:
        (out / f"{name}.p7s").write_bytes(doc.signature)
    console.print(f"{out / name}.html{' + .p7s, signed by ' + (doc.signer_subject or '') if doc.signature else ''}")


@app.command("list")
def list_permits(
    status: str | None = typer.Option(None, help="e.g. completeness_check, hearing_scheduled, permit_valid"),
    overdue: bool = typer.Option(False, help="only cases with an outstanding breach"),
    all_: bool = typer.Option(False, "--all", help="closed cases too"),
) -> None:
    """List MVNO permit cases by status (visibility; no personal data is searchable)."""
    cases.list_cases(procedure=PROCEDURE, status=status, overdue=overdue, all_=all_)
