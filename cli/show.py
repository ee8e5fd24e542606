"""Showing a case on the terminal: what every case answers (status, registration, blocked step, outside calls
waiting, events possible now, deadlines with their explanation, documents), then the procedure's own view.

A procedure whose spec has a view (``ProcedureSpec.view``) is shown by its renderer here when it has one,
else field by field. Imported when a ``show`` command runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from rich.table import Table
from rich.text import Text
from temporalio.client import Client

from cli.common import console, deadline_table, readable, when
from infra.calendar import current_calendar
from infra.cases import CaseError, PendingCall, case_view, pending_calls
from models.case import CaseView
from models.fraud_check import FraudCaseView
from models.mvno_permit import GROUNDS, PermitCaseView
from rules.calendar import ALMATY
from rules.law import cite
from workflows.catalogue import by_key

__all__ = ["VIEWS", "show_case"]


def _text(value: Any) -> str:
    if isinstance(value, datetime | str):
        return readable(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items() if v not in (None, False, [], {}, ""))
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    return str(value)


def _kv(title: str, rows: list[tuple[str, Any]]) -> Table:
    t = Table(title=title, show_header=False)
    t.add_column("", style="bold")
    t.add_column("", overflow="fold")
    for k, v in rows:
        if v not in (None, "", [], {}):
            t.add_row(k, _text(v))
    return t


async def show_case(client: Client, case_id: str, *, title: str = "Case", missing: str | None = None) -> CaseView:
    """Print the case and its procedure's own view; ``CaseError("not_found")`` (with ``missing``) otherwise."""
    try:
        v = await case_view(client, case_id)
    except CaseError as exc:
        raise CaseError(exc.kind, missing or exc.message) from None
    spec = by_key().get(v.procedure)
    own: BaseModel | None = None
    if spec is not None and spec.view is not None:
        own = await client.get_workflow_handle(case_id).query(spec.view.query, result_type=spec.view.model)
    render = VIEWS.get(type(own)) if own is not None else None

    rows: list[tuple[str, str]] = [
        ("status", v.status + (f" (outcome: {v.outcome})" if v.outcome else "") + (" (closed)" if v.closed else ""))
    ]
    if v.outcome_reason:
        rows.append(("why", v.outcome_reason + (f" ({v.outcome_cite})" if v.outcome_cite else "")))
    if v.registration:
        reg = v.registration
        rows.append(("registered on", f"{reg.registered_on} under {reg.act_version_id}"))
        if reg.after_hours_roll:
            rows.append(("", reg.after_hours_roll))
    if v.intake is not None:
        back = v.intake.backdated_working_days
        rows.append(
            (
                "started by",
                v.intake.started_by
                + (f"; back-dated: received {back} working days before" if v.intake.backdated else ""),
            )
        )
    if render is None:  # a renderer shows the procedure's facts itself
        rows += [(k.replace("_", " "), _text(x)) for k, x in v.details.items() if x not in (None, False, [], {})]
    if v.blocked:
        rows.append(("blocked", f"{v.blocked.what}: {v.blocked.error} (since {when(v.blocked.since)})"))
    calls = await pending_calls(client, case_id)
    for call in calls:
        rows.append(
            (
                "waiting on",
                f"{call.activity}: attempt {call.attempt}"
                + (f", last error: {call.last_error}" if call.last_error else "")
                + (f", next attempt {when(call.next_attempt_at)}" if call.next_attempt_at else ""),
            )
        )
    rows.append(("possible now", ", ".join(v.pending_events) or "nothing"))
    console.print(
        Text.assemble((f"{title} {v.case_id}", "bold"), f" — {v.procedure}" + (f": {spec.title}" if spec else ""))
    )
    for key, value in rows:
        console.print(f"  {key}: {value}" if key else f"    {value}")
    console.print(deadline_table(v.deadlines))
    for d in v.documents:
        signed = f", signed by {d.signed_by}" if d.signed_by else ""
        cite = f" ({d.cite})" if d.cite else ""
        console.print(
            f"document {d.doc_id} ({d.kind}, {when(d.created_at)}): {d.title}{cite}{signed}; sha256 {d.sha256[:12]}…"
        )
    if own is not None:
        if render is not None:
            render(own, v, calls)
        else:
            console.print(_kv(f"{spec.title if spec else v.procedure}", list(own.model_dump().items())))
    return v


# --- the procedures' own views ---------------------------------------------------------------------


def _permit(view: BaseModel, case: CaseView, calls: list[PendingCall]) -> None:
    """MVNO permit (665/NK): the application, the system's pre-checks, the hearing, an overrun, the permit."""
    assert isinstance(view, PermitCaseView)
    v = view
    console.print(
        _kv(
            "MVNO permit (665/NK)",
            [("application", v.application_number), ("applicant", v.applicant_kind), ("round", v.round)],
        )
    )
    for prop in (v.completeness_proposal, v.qualification_proposal):
        if prop is not None:
            verdict = ("passes", "green") if prop.passes else ("does not pass", "yellow")
            console.print(Text.assemble((f"System pre-check, {prop.stage}:", "bold"), " ", verdict))
            for f in prop.findings:
                console.print(f"  - {f}")
            if prop.grounds:
                console.print("  proposed grounds: " + ", ".join(GROUNDS[g].cite for g in prop.grounds))
    if v.hearing is not None:
        record = v.hearing_record
        console.print(
            _kv(
                f"Hearing ({cite('665/NK', 'p.7')})",
                [
                    ("notice sent", v.notice_sent_at),
                    ("hearing at", v.hearing.at),
                    ("place", v.hearing.place),
                    ("means", v.hearing.means),
                    ("held no later than", v.hearing_latest),
                    ("decision not before", v.decision_not_before),
                    ("why", v.decision_not_before_why),
                    ("held", record.held_at if record else None),
                    ("applicant's position", record.applicant_position if record else None),
                ],
            )
        )
    if (at := v.hearing_on_a_day_off(current_calendar())) is not None:
        said = f"set for {when(at)}, a day off under the calendar in force ({cite('665/NK', 'Annex 1 item 8')})"
        console.print(Text.assemble(("Hearing on a day off:", "yellow"), f" {said}"))
    if v.overrun is not None:  # said from its instants: its recorded text gave them in ISO before 2026-12-04
        o = v.overrun
        possible = o.decision_not_before.astimezone(ALMATY).date().isoformat()
        said = f"the decision is possible from {possible}, after the service term ending {when(o.service_term_due)}"
        console.print(
            Text.assemble(("Service term overrun:", "yellow"), f" {said} ({cite('665/NK', 'Annex 1 item 4', 'p.7')})")
        )
    if v.permit is not None:
        p = v.permit
        console.print(
            _kv(
                f"Permit ({cite('665/NK', 'Annex 5')})",
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
    events = Table(title="Timeline")
    for col in ("at", "event", "detail", "cite"):
        events.add_column(col, overflow="fold")
    for e in v.events:
        events.add_row(when(e.at), e.kind, e.detail, e.cite)
    console.print(events)


def _local(at: datetime) -> str:
    return when(at)


def _fraud(view: BaseModel, case: CaseView, calls: list[PendingCall]) -> None:
    """Fraud (171 p.116–120): the reports, the outcome with its evidence, the suspension, the centre's messages."""
    assert isinstance(view, FraudCaseView)
    v = view
    console.print(
        Text.assemble(
            (v.case_id, "bold"),
            f" {v.number} — status ",
            (case.status, "bold"),
            (f", outcome {case.outcome}" if case.outcome else "") + f" (check no. {v.cycle})",
        )
    )
    reports = Table(title="Reports")
    for col in ("received (Asia/Almaty)", "way in", "ref", "signal", "description"):
        reports.add_column(col, overflow="fold")
    for r in v.reports:
        reports.add_row(
            _local(r.report.received_at),
            r.report.way_in.value,
            r.report.ref,
            r.report.signal,
            Text.assemble(r.report.description, (" (for the next check)", "yellow") if r.needs_new_check else ""),
        )
    console.print(reports)
    if v.outcome:
        verdict = "confirmed" if v.outcome.confirmed else "not confirmed"
        console.print(
            Text.assemble(
                "check outcome: ",
                (verdict, "bold"),
                f" by {v.outcome.analyst}; evidence: " + "; ".join(v.outcome.evidence),
            )
        )
    if v.suspension:
        console.print(f"services suspended {_local(v.suspension.done_at)}")
    if v.lift:
        console.print(f"suspension lifted by {v.lift.decided_by}: {v.lift.reason}")
    if v.restoration:
        console.print(f"services restored {_local(v.restoration.done_at)}")
    by_id = {c.activity_id: c for c in calls}
    for n in v.notices:
        call = by_id.get(n.call_id or "") if not n.delivered_at else None
        if call is not None:  # the activity's retry policy is at it: Temporal counts the attempts
            n = n.with_pending_call(call.attempt, call.last_error, call.next_attempt_at)
        colour = "green" if n.delivered_at else "yellow"
        console.print(Text.assemble(f"antifraud centre, {n.kind.value} ({n.cite}): ", (n.describe(), colour)))


VIEWS: dict[type[BaseModel], Callable[[BaseModel, CaseView, list[PendingCall]], None]] = {
    PermitCaseView: _permit,
    FraudCaseView: _fraud,
}
"""Renderers of procedures' own views, by the view's model; any other view is shown field by field."""
