"""The permit's case: its whole state in one ``PermitState``, the timeline, the reports to the monitoring
system (665/NK p.8), the wait on a stage's term, and the case's own view.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any, NoReturn

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.monitoring import MonitoringActivities
    from models import search_attributes as sa
    from models.case import ActNotBefore, BlockedStep, DocumentRef, EventDoesNotFit, InstructionRecord, Registration
    from models.mvno_permit import (
        CaseEvent,
        NoticeDay,
        PermitApplication,
        PermitCaseView,
        PermitOutcome,
        PermitState,
        StageReport,
    )
    from models.procedure import Role
    from models.sms import SMS_FROM_TEMPLATES
    from rules.law import cite
    from rules.text import Sentence
    from workflows.case import CaseWorkflow

__all__ = [
    "ACT",
    "BASE_OPERATOR",
    "CONTINUES_WHEN_SUGGESTED",
    "HEARING_CALENDAR_ON_DEMAND",
    "PROCEDURE",
    "RESULTS_ON_THE_REGISTRATION_DAY",
    "SERVICE_TERM_BEFORE_REGISTRIES",
    "PermitCase",
    "permit_case_id",
]

PROCEDURE = "mvno_permit"
ACT = "665/NK"
BASE_OPERATOR = Role.operator("base_operator")
"""The role of a base operator's system: it reports the events of its own contracts with the permit (Annex 5)."""

RESULTS_ON_THE_REGISTRATION_DAY = "permit-results-on-the-registration-day"
"""``workflow.patched`` id: a result decided before the registration day's office opening (an application received
after hours, on a day off or a holiday, 665/NK p.6) is dated, signed and delivered at that opening: the case waits
for it, and a hearing notice decided earlier goes out then. Decided at the case's first activation."""
SERVICE_TERM_BEFORE_REGISTRIES = "permit-service-term-before-the-registries"
"""``workflow.patched`` id: the 7-working-day service term opens at registration, before the state registries are
asked, so a registry that refuses for good blocks the case visibly while its term runs (issue 16 item 5). Cases
begun before it asked the registries first. Decided at the case's first activation."""

CONTINUES_WHEN_SUGGESTED = "permit-continues-as-new-when-suggested"
"""``workflow.patched`` id: the case continues as new (its whole ``PermitState`` the next run's input) when Temporal
suggests it (``is_continue_as_new_suggested``, the history is long), at the points its next run takes up: the permit's
life and the complaint window after a refusal. Before it, only the yearly checkpoint of the permit's life did.
Decided at each run's first activation."""

HEARING_CALENDAR_ON_DEMAND = "hearing-calendar-only-for-a-hearing"
"""``workflow.patched`` id: the hearing calendar (``hearing_windows``, about 50 KB of history for 30 days) is computed
when a preliminary decision to refuse needs it, not when the qualification stage opens. Before it, every case
recorded it at the stage's start and kept it ahead until the decision, compliant or not. Decided at the case's first
activation."""

VALIDITY_CANCELLED_WITH_ITS_REASON = "permit-validity-cancelled-with-its-reason"
"""``workflow.patched`` id: a contract event that ends the permit's validity term records why in the term
(``cancel_reason``: the event's kind, Annex 5 conditions 1–3), which the case page and the command line show beside
"cancelled". Before it the term was cancelled without a reason. Asked only when a contract event comes."""


def permit_case_id(app: PermitApplication) -> str:
    """The same application (portal number + applicant's IIN/BIN) is always the same case (computed at the edge)."""
    from infra.pseudonym import case_id  # at the edge only: the key comes from settings

    return case_id(PROCEDURE, app.application_number, app.applicant.identifier)


class PermitCase(CaseWorkflow):
    """What every stage of the permit's case shares. All the case's state is ``self.state``."""

    PROCEDURE = PROCEDURE
    TERMS = (  # 665/NK p.6–10
        "mvno.completeness_check",
        "mvno.qualification_check",
        "mvno.hearing_notice_lead",
        "mvno.hearing_after_notice",
        "mvno.decision_after_notice",
        "mvno.service_term",
        "mvno.permit_validity",
        "mvno.complaint_window",
    )

    def __init__(self, state: PermitState) -> None:
        self.state = PermitState(application=state.application)  # takes CaseWorkflow's initial record ...
        super().__init__()
        self.state = state  # ... then the case's own: new, or handed over by the previous run
        self.clock.states = state.deadlines
        self._tasks: list[asyncio.Task[Any]] = []  # waits that run beside the stages
        # Decided once, at the case's first activation, so the patch marker always sits at the same place.
        self._results_on_registration_day = self.patches.patched(RESULTS_ON_THE_REGISTRATION_DAY)
        self._service_term_before_registries = self.patches.patched(SERVICE_TERM_BEFORE_REGISTRIES)
        self._hearing_calendar_on_demand = self.patches.patched(HEARING_CALENDAR_ON_DEMAND)
        self._continues_when_suggested = self.patches.patched(CONTINUES_WHEN_SUGGESTED)
        self._sms_from_templates = self.patches.patched(SMS_FROM_TEMPLATES)
        self._windows_seen = ""
        """The qualification term's calendar version when the hearing calendar was computed (on demand only): a
        calendar correction that recomputes the term makes the calendar stale."""

    # CaseWorkflow's record is kept in the state, so continue-as-new carries it with the rest.

    @property
    def registration(self) -> Registration | None:
        return self.state.registration

    @registration.setter
    def registration(self, value: Registration | None) -> None:
        self.state.registration = value

    @property
    def status(self) -> str:
        return self.state.status

    @status.setter
    def status(self, value: str) -> None:
        self.state.status = value

    @property
    def closed(self) -> bool:
        return self.state.closed

    @closed.setter
    def closed(self, value: bool) -> None:
        self.state.closed = value

    @property
    def outcome(self) -> str | None:
        return self.state.outcome

    @outcome.setter
    def outcome(self, value: str | None) -> None:
        self.state.outcome = value

    @property
    def documents(self) -> list[DocumentRef]:
        return self.state.documents

    @documents.setter
    def documents(self, value: list[DocumentRef]) -> None:
        self.state.documents = value

    @property
    def instructions(self) -> list[InstructionRecord]:
        return self.state.instructions

    @instructions.setter
    def instructions(self, value: list[InstructionRecord]) -> None:
        self.state.instructions = value

    @property
    def blocked_steps(self) -> list[BlockedStep]:
        return self.state.blocked_steps

    @blocked_steps.setter
    def blocked_steps(self, value: list[BlockedStep]) -> None:
        self.state.blocked_steps = value

    # --- the case's steps ---------------------------------------------------------------------------

    async def _continue_as_new(self) -> NoReturn:
        """The yearly checkpoint, or Temporal's suggestion: the next run takes the whole state, once no Update is still
        being handled."""
        self.state.accepting = ""
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self.state)

    def _took_up(self, why: str) -> None:
        """A continued run took the case up: visible in the timeline and the case's search attributes."""
        s = self.state
        assert s.registration is not None
        self.upsert_search_attributes(
            [sa.PROCEDURE.value_set(self.PROCEDURE), sa.ACT_VERSION.value_set(s.registration.act_version_id)]
        )
        self._event("checkpoint", why, "")
        self.set_status(s.status)
        if self._continues_when_suggested:  # runs continued before wrote no record of the case
            self.publish_record()

    def _checkpoint(self) -> bool:
        """Whether the case should continue as new at a point its next run takes up (``CONTINUES_WHEN_SUGGESTED``)."""
        return self._continues_when_suggested and workflow.info().is_continue_as_new_suggested()

    @property
    def _id(self) -> str:
        return workflow.info().workflow_id

    def _k(self, key: str) -> str:
        """A term's key in this round: ``hearing``, then ``hearing#2`` after a reopening (p.10)."""
        return key if self.state.round == 1 else f"{key}#{self.state.round}"

    @staticmethod
    def _validity_key(n: int) -> str:
        return "permit_validity" if n == 1 else f"permit_validity_{n}"

    def _event(self, kind: str, detail: str = "", cite: str = "") -> None:
        self.state.events.append(CaseEvent(at=workflow.now(), kind=kind, detail=detail, cite=cite))

    async def _report(self, stage: str, detail: str = "") -> None:
        """Every stage to the public-services monitoring system (665/NK p.8), once per report id."""
        self.state.reports += 1
        await self.outside(
            MonitoringActivities.report_stage,
            StageReport(
                report_id=f"{self._id}/{self.state.reports:03d}",
                case_id=self._id,
                procedure=PROCEDURE,
                stage=stage,
                status=self.status,
                at=workflow.now(),
                detail=detail,
            ),
            what="monitoring",
        )

    async def _stage(self, status: str, accepting: str, detail: str = "") -> None:
        """The case enters a stage: its status, the one Update that fits, the report (p.8)."""
        self.set_status(status)
        self.state.accepting = accepting
        await self._report(status, detail)

    async def _wait_stage(self, key: str, status: str, done: Callable[[], bool]) -> None:
        """Wait for the employee within the stage's term; past it the breach is recorded and escalated, the
        status shows ``<status>_overdue`` and the case keeps waiting (recording how late the act came)."""
        if await self.clock.wait(key, done, keep_waiting=False, own_due_only=True) or done():
            return
        self.set_status(f"{status}_overdue")
        await self._report(f"{status}_overdue", f"{key} breached; supervisor notified")
        await self.clock.late(key, done)

    def _ensure_accepting(self, update: str) -> None:
        """Refuse ``update`` before the application's receipt, or unless it is the one that fits now, saying what
        fits and why."""
        if self.state.registration is None:
            raise EventDoesNotFit(
                Sentence(
                    "{update} does not fit now: the case is still being registered; try again in a moment",
                    update=update,
                )
            )
        received_at = self.state.application.received_at
        if workflow.now() < received_at:
            raise ValueError(
                Sentence(
                    "{update} is refused: the application is received at {at} ({cite}); nothing is decided in its "
                    "case before it exists",
                    update=update,
                    at=self._almaty(received_at),
                    cite=cite("665/NK", "p.6"),
                )
            )
        if self.state.accepting == update:
            return
        d = self.state.decisions
        fits = self.state.accepting or Sentence("no decision (the case is working)")
        said = Sentence(
            "{update} does not fit now: the case is {status}; it accepts {fits}",
            update=update,
            status=Sentence.word(self.status),
            fits=fits,
        )
        if update == "final_decision" and d.notice_day is not None and not d.decision_open:
            said = Sentence("{refusal}; {why}", refusal=said, why=self._earliest_decision(d.notice_day))
            if d.hearing_record is None:
                said = Sentence("{refusal}; the hearing has not been recorded yet", refusal=said)
        raise EventDoesNotFit(said)

    @staticmethod
    def _earliest_decision(notice: NoticeDay) -> Sentence:
        """Why the decision after the hearing may not come before its earliest lawful day (665/NK p.7)."""
        term = notice.decision_term
        day = notice.decision_not_before.date().isoformat()
        if notice.notice_lead is None:  # a calendar recorded before the backward reading
            how = Sentence("hearing notice of {day} + {n} working days", day=notice.day.isoformat(), n=str(term.amount))
        else:
            how = Sentence(
                "the hearing notice of {day} goes out no later than {n} working days before the act",
                day=notice.day.isoformat(),
                n=str(term.amount),
            )
        return Sentence(
            "the decision may not be adopted before {day} ({how}, {cite})", day=day, how=how, cite=term.cite
        )

    def _local(self, instant: datetime) -> datetime | None:
        """``instant`` in Asia/Almaty, read with the offset the registration recorded (workflow code builds no time
        zone); ``None`` in cases registered before that was recorded."""
        reg = self.state.registration
        tz = reg.results_from.tzinfo if reg is not None and reg.results_from is not None else None
        return instant.astimezone(tz) if tz is not None else None

    def _almaty(self, instant: datetime) -> str:
        """``instant`` as Asia/Almaty wall-clock time for a message (with its own offset in cases registered before
        the registration recorded Asia/Almaty's)."""
        local = self._local(instant)
        return instant.isoformat(timespec="minutes") if local is None else f"{local:%Y-%m-%d %H:%M} Asia/Almaty"

    def _results_from(self) -> datetime | None:
        """The earliest instant a result of this case may be issued: the office's opening on the registration day
        (665/NK p.6); ``None`` for cases started before this rule was kept, or when it has passed."""
        reg = self.state.registration
        if not self._results_on_registration_day or reg is None or reg.results_from is None:
            return None
        return reg.results_from if workflow.now() < reg.results_from else None

    async def _on_the_registration_day(self, what: str) -> None:
        """A result is not issued before the registration day (665/NK p.6): a decision recorded earlier is dated,
        signed and delivered when the office opens that day; the case waits for it, visibly."""
        at = self._results_from()
        if at is None:
            return
        self._event(
            "result_held",
            f"{what} is issued on the registration day: the case waits until {self._almaty(at)}",
            cite("665/NK", "p.6"),
        )
        await self.clock.not_before(at)

    def _outcome(self) -> PermitOutcome:
        return PermitOutcome(
            outcome=self.outcome or self.status,
            status=self.status,
            permit_number=self.state.permit.permit_number if self.state.permit else None,
            documents=[d.doc_id for d in self.documents],
        )

    # --- queries ------------------------------------------------------------------------------------

    def pending_events(self) -> list[str]:
        return [self.state.accepting] if self.state.accepting else []

    @workflow.query
    def permit_case(self) -> PermitCaseView:
        """The procedure's own view: proposals, hearing limits, overrun, the permit and the timeline."""
        return self._view()

    def details(self) -> dict[str, Any]:
        """The permit's own facts in the ``case`` query."""
        return self._view().model_dump(mode="json")

    def _view(self) -> PermitCaseView:
        s, d = self.state, self.state.decisions
        preliminary = d.qualification if d.qualification is not None and not d.qualification.compliant else None
        return PermitCaseView(
            status=self.status,
            round=s.round,
            application_number=s.application.application_number,
            applicant_kind=s.application.applicant.kind,
            applicant_name=s.application.applicant.display_name,
            applicant_identifier=s.application.applicant.identifier,
            applicant_registry=s.applicant_registry,
            completeness_proposal=s.completeness_proposal,
            qualification_proposal=s.qualification_proposal,
            preliminary_grounds=list(preliminary.grounds) if preliminary else [],
            preliminary_findings=preliminary.findings if preliminary else None,
            hearing=d.qualification.hearing if d.qualification else None,
            notice_sent_at=d.notice_at,
            hearing_latest=d.notice_day.hearing_due.due if d.notice_day else None,
            decision_not_before=d.notice_day.decision_not_before if d.notice_day else None,
            decision_not_before_why=self._earliest_decision(d.notice_day) if d.notice_day else None,
            hearing_record=d.hearing_record,
            overrun=s.overrun,
            permit=s.permit,
            events=list(s.events),
            pending_events=self.pending_events(),
            not_before=self._not_before(),
        )

    def _not_before(self) -> list[ActNotBefore]:
        """What 665/NK p.7 forbids yet in this round: recording the hearing before its notified time, and the decision
        after it before the first working day the notice precedes by the notice term (from the recorded calendar)."""
        d = self.state.decisions
        hearing = d.qualification.hearing if d.qualification else None
        if hearing is None or d.notice_at is None or d.final is not None:
            return []
        out = []
        if d.hearing_record is None:
            why = Sentence(
                "the hearing is recorded once held, not before its notified time {at}", at=self._almaty(hearing.at)
            )
            out.append(
                ActNotBefore(
                    event="record_hearing",
                    not_before=hearing.at,
                    because="notified_time",
                    since=d.notice_at,
                    cite=cite("665/NK", "p.7"),
                    why=why,
                    why_said=why.data(),
                )
            )
        if d.notice_day is not None and not d.decision_open:
            term = d.notice_day.decision_term
            earliest = self._earliest_decision(d.notice_day)
            out.append(
                ActNotBefore(
                    event="final_decision",
                    not_before=d.notice_day.decision_not_before,
                    because="notice_lead" if d.notice_day.notice_lead is not None else "after_notice",
                    since=d.notice_at,
                    amount=term.amount,
                    cite=term.cite,
                    why=earliest,
                    why_said=earliest.data(),
                )
            )
        return out
