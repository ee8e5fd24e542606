"""Permit for a mobile virtual network operator (665/NK), from the application to the end of the permit.

Reads like the Rules: registration (p.6) → completeness check, 2 working days (p.6) → qualification
check, 3 working days (p.7) → the permit (Annex 5), or a preliminary decision to refuse with a hearing
notice → the hearing (p.7) → the permit or a reasoned refusal. The 7-working-day service term (Annex 1
item 4) runs beside it and its overrun is recorded. Every stage goes to the monitoring system (p.8),
permits to the state system of permits (p.9). After issue the same execution lives the permit's ten
years (Annex 1 item 11): contract events terminate or extend it, the validity timer expires it.
A refused case stays open for the complaint window so an upheld complaint can reopen it (p.10).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.documents import deliver_to_personal_account, render_document
    from activities.eds import sign_document
    from activities.hearing import hearing_windows
    from activities.law import ACT_NOT_IN_FORCE
    from activities.monitoring import report_stage
    from activities.permits_registry import enter_permit, record_permit_change
    from activities.sms import send_sms
    from activities.state_registry import lookup_applicant
    from infra import search_attributes as sa
    from infra.pseudonym import case_id as make_case_id
    from models.case import ComplaintInstruction, DocumentRef
    from models.deadlines import DeadlineStatus
    from models.documents import DeliverDocumentRequest, RenderDocumentRequest
    from models.eds import SignDocumentRequest
    from models.mvno_permit import (
        CONTRACT_CITES,
        GROUNDS,
        CaseEvent,
        CompletenessDecision,
        ContractEvent,
        ContractEventKind,
        DecisionReceipt,
        FinalDecision,
        HearingRecord,
        HearingWindowsRequest,
        NoticeDay,
        PermitApplication,
        PermitCaseView,
        PermitChange,
        PermitChangeRequest,
        PermitEntryRequest,
        PermitLife,
        PermitOutcome,
        PermitRecordView,
        Proposal,
        QualificationDecision,
        RefusalGround,
        RegistryData,
        RegistryLookupRequest,
        ReopenInstruction,
        ServiceTermOverrun,
        StageReport,
        propose_completeness,
        propose_qualification,
    )
    from models.procedure import EventSpec, ProcedureSpec, Role, ViewSpec
    from models.sms import SmsRequest
    from workflows.case import CaseWorkflow
    from workflows.outside import ACTIVITY_RETRY

__all__ = ["ACT", "PROCEDURE", "SPEC", "MvnoPermit", "permit_case_id"]

PROCEDURE = "mvno_permit"
ACT = "665/NK"
_OUTSIDE = timedelta(seconds=60)
_WINDOW_DAYS = 30
# The permit's life continues as new at least once a year (see docs/DESIGN-NOTES.md, "MVNO permit").
_CHECKPOINT = timedelta(days=365)


def permit_case_id(app: PermitApplication) -> str:
    """The same application (portal number + applicant's IIN/BIN) is always the same case."""
    return make_case_id(PROCEDURE, app.application_number, app.applicant.identifier)


@workflow.defn
class MvnoPermit(CaseWorkflow):
    """One application for the MVNO permit and, once issued, the permit's life."""

    PROCEDURE = PROCEDURE

    def __init__(self) -> None:
        super().__init__()
        self.app: PermitApplication | None = None
        self.applicant_registry: RegistryData | None = None
        self.round = 1
        self.accepting = ""  # the one Update that fits now ("" while the case is working)
        self.events: list[CaseEvent] = []
        self.completeness_proposal: Proposal | None = None
        self.qualification_proposal: Proposal | None = None
        self.windows: list[NoticeDay] = []
        self.overrun: ServiceTermOverrun | None = None
        self.permit: PermitRecordView | None = None
        self.contract_events: list[ContractEvent] = []
        self.reopen_request: ReopenInstruction | None = None
        self.reopened_at: datetime | None = None
        self.result_issued = False
        self.validity_n = 1
        self._reports = 0
        self._tasks: list[asyncio.Task[Any]] = []
        self._reset_round()

    def _reset_round(self) -> None:
        self.completeness: CompletenessDecision | None = None
        self.completeness_at: datetime | None = None
        self.qualification: QualificationDecision | None = None
        self.notice_day: NoticeDay | None = None
        self.notice_at: datetime | None = None
        self.hearing_record: HearingRecord | None = None
        self.final: FinalDecision | None = None
        self.decision_open = False

    # --- the procedure --------------------------------------------------------------------------

    @workflow.run
    async def run(self, app: PermitApplication, life: PermitLife | None = None) -> PermitOutcome:
        # The SDK applies type hints only when the payload count matches the parameters: a case started
        # with the application alone hands it over as plain JSON, validated here (already checked at the edge).
        app = app if isinstance(app, PermitApplication) else PermitApplication.model_validate(app)
        self.app = app
        if life is not None:  # a yearly checkpoint of an issued permit (continue-as-new)
            await self._restore(life)
            await self._permit_life()
            return self._outcome()
        try:
            reg = await self.register(ACT, app.received_at)
        except (ActivityError, ApplicationError) as exc:  # a local activity's failure may arrive unwrapped
            why = next(
                (e for e in (exc, exc.cause) if isinstance(e, ApplicationError) and e.type == ACT_NOT_IN_FORCE), None
            )
            if why is None:
                raise
            self._event("act_not_in_force", why.message, "665/NK")
            self.close("act_not_in_force", "act_not_in_force")
            return self._outcome()
        self.set_status("registered")
        self._event(
            "registered",
            f"registered on {reg.registered_on.isoformat()}, act version {reg.act_version_id}"
            + (f"; {reg.after_hours_roll}" if reg.after_hours_roll else ""),
            "665/NK p.6",
        )
        await self._report("registered")
        await self.outside(
            send_sms,
            SmsRequest(
                message_id=f"{self._id}/registered",
                case_id=self._id,
                to=app.applicant.phones[0],
                sender="EGOV",
                text=f"Application {app.application_number} for an MVNO permit is registered "
                f"on {reg.registered_on.isoformat()} (665/NK p.6). Decisions arrive in your personal account.",
            ),
            what="sms_gateway",
        )
        self.applicant_registry = await workflow.execute_activity(
            lookup_applicant,
            RegistryLookupRequest(
                case_id=self._id, kind=app.applicant.kind, identifier=app.applicant.identifier, at=workflow.now()
            ),
            start_to_close_timeout=_OUTSIDE,
            retry_policy=ACTIVITY_RETRY,
        )
        self._event(
            "state_registries",
            "registration data and court restrictions fetched through the e-government gateway",
            "665/NK p.6",
        )
        stage, start, counted_from = "completeness_check", app.received_at, "registration"
        while True:
            await self.clock.open(self._k("service_term"), "mvno.service_term", start, counted_from=counted_from)
            service_key = self._k("service_term")
            self._tasks.append(asyncio.create_task(self._watch(service_key, lambda: self.result_issued)))
            if stage == "completeness_check":
                if not await self._completeness_check(start, counted_from):
                    await self._refuse_to_consider()
                    if not await self._complaint_window():
                        return self._outcome()
                    stage, start, counted_from = self._next_round()
                    continue
                assert self.completeness_at is not None
                # A decision taken after hours or on a day off counts as taken on the next working day.
                start, counted_from = self.completeness_at, "registration"
            if await self._qualification_check(start, counted_from):
                await self._issue_permit()
                await self._permit_life()
                return self._outcome()
            if not await self._complaint_window():
                return self._outcome()
            stage, start, counted_from = self._next_round()

    async def _completeness_check(self, start: datetime, counted_from: str) -> bool:
        """665/NK p.6: within 2 working days of registration; the system proposes, the employee decides."""
        assert self.app is not None and self.registration is not None and self.applicant_registry is not None
        key = self._k("completeness_check")
        await self.clock.open(key, "mvno.completeness_check", start, counted_from=counted_from)
        self.completeness_proposal = propose_completeness(
            self.app, self.registration.registered_on, self.applicant_registry
        )
        await self._stage("completeness_check", "completeness_decision")
        await self._wait_stage(key, "completeness_check", lambda: self.completeness is not None)
        d = self.completeness
        assert d is not None
        self._event(
            "completeness_decision", "complete" if d.complete else "incomplete: " + "; ".join(d.reasons), "665/NK p.6"
        )
        return d.complete

    async def _refuse_to_consider(self) -> None:
        """665/NK p.6: reasoned refusal to consider further, signed by the head, to the personal account."""
        assert self.completeness is not None
        await self._document(
            "refusal_to_consider",
            "mvno_refusal_to_consider.html.j2",
            "Reasoned refusal to consider the application further",
            "665/NK p.6",
            "provider_head",
            {"reasons": list(self.completeness.reasons)},
        )
        self.result_issued = True
        self.close("refused_to_consider", "refused_to_consider")
        await self._report("refused_to_consider")

    async def _qualification_check(self, start: datetime, counted_from: str) -> bool:
        """665/NK p.7: qualification check in 3 working days; a preliminary refusal goes through a hearing.

        Returns True when the permit is to be issued, False after a reasoned refusal.
        """
        assert self.app is not None and self.applicant_registry is not None
        key = self._k("qualification_check")
        await self.clock.open(key, "mvno.qualification_check", start, counted_from=counted_from)
        self.qualification_proposal = propose_qualification(self.app, self.applicant_registry)
        await self._refresh_windows()
        self._tasks.append(asyncio.create_task(self._keep_windows()))
        await self._stage("qualification_check", "qualification_decision")
        await self._wait_stage(key, "qualification_check", lambda: self.qualification is not None)
        q = self.qualification
        assert q is not None
        if q.compliant:
            self._event("qualification_decision", "compliant, no ground for refusal", "665/NK p.7; Annex 4")
            return True
        return await self._hearing(q)

    async def _hearing(self, q: QualificationDecision) -> bool:
        """The preliminary decision and hearing notice, the hearing, then the decision (665/NK p.7)."""
        notice, notice_at = self.notice_day, self.notice_at
        assert notice is not None and notice_at is not None and q.hearing is not None
        self._event(
            "preliminary_refusal",
            "grounds: " + ", ".join(GROUNDS[g].cite for g in q.grounds),
            "665/NK p.7; Annex 1 item 10",
        )
        hearing_key = self._k("hearing")
        hearing_due = await self.clock.open(hearing_key, "mvno.hearing_after_notice", notice_at, counted_from="day")
        await self._document(
            "preliminary_refusal",
            "mvno_preliminary_refusal.html.j2",
            "Preliminary decision to refuse and hearing notice",
            "665/NK p.7; Annex 1 item 10",
            "authorised_person",
            {
                "grounds": self._grounds(q.grounds),
                "findings": q.findings or "",
                "hearing_at": q.hearing.at.isoformat(timespec="minutes"),
                "hearing_place": q.hearing.place or "",
                "hearing_means": q.hearing.means or "",
                "hearing_latest": hearing_due.due.isoformat(timespec="minutes"),
                "decision_not_before": notice.decision_not_before.date().isoformat(),
            },
        )
        service = self.clock.get(self._k("service_term"))
        if notice.decision_not_before > service.due:
            self.overrun = ServiceTermOverrun(
                service_term_due=service.due,
                decision_not_before=notice.decision_not_before,
                recorded_at=workflow.now(),
                explanation=(
                    f"the hearing notice of {notice.day.isoformat()} allows the decision no earlier than "
                    f"{notice.decision_not_before.date().isoformat()} (665/NK p.7), after the 7-working-day "
                    f"service term ending {service.due.isoformat(timespec='minutes')} (665/NK Annex 1 "
                    "item 4)"
                ),
            )
            workflow.upsert_memo({"service_term_overrun": self.overrun.model_dump(mode="json")})
            self._event("service_term_overrun", self.overrun.explanation, "665/NK Annex 1 item 4; p.7")
            await self._report("service_term_overrun", self.overrun.explanation)
        await self._stage("hearing_scheduled", "record_hearing")
        await self._wait_stage(hearing_key, "hearing", lambda: self.hearing_record is not None)
        assert self.hearing_record is not None
        self._event(
            "hearing",
            "held; applicant " + ("attended" if self.hearing_record.applicant_attended else "did not attend"),
            "665/NK p.7",
        )
        return await self._final_decision(notice, notice_at)

    async def _final_decision(self, notice: NoticeDay, notice_at: datetime) -> bool:
        self.accepting = ""
        self.set_status("decision_pending")
        wait = (notice.decision_not_before - workflow.now()).total_seconds()
        if wait > 0:  # the act is not adopted before notice + 3 working days (recorded instant)
            await asyncio.sleep(wait)
        self.decision_open = True
        await self._stage("decision_pending", "final_decision")
        service = self.clock.get(self._k("service_term"))
        if self.overrun is not None:
            key = self._k("decision")
            await self.clock.open(key, "mvno.decision_after_notice", notice_at, counted_from="day")
            await self._wait_stage(key, "decision_pending", lambda: self.final is not None)
        else:  # the decision is due within the service term; its breach is the service term's
            await workflow.wait_condition(lambda: self.final is not None or service.status is DeadlineStatus.BREACHED)
            if self.final is None:
                self.set_status("decision_pending_overdue")
                await self._report("decision_pending_overdue", "the service term passed without the decision")
                await workflow.wait_condition(lambda: self.final is not None)
        final = self.final
        assert final is not None
        if final.grant:
            self._event("final_decision", "permit after the hearing", "665/NK p.7")
            return True
        self._event(
            "final_decision",
            "reasoned refusal: " + ", ".join(GROUNDS[g].cite for g in final.grounds),
            "665/NK p.7; Annex 1 item 10",
        )
        hr = self.hearing_record
        assert hr is not None
        await self._document(
            "reasoned_refusal",
            "mvno_reasoned_refusal.html.j2",
            "Reasoned refusal to provide the public service",
            "665/NK p.7; Annex 1 item 10",
            "authorised_person",
            {
                "grounds": self._grounds(final.grounds),
                "reasons": final.reasons or "",
                "hearing_held_at": hr.held_at.isoformat(timespec="minutes"),
                "applicant_position": hr.applicant_position or "did not attend / не явился / келмеді",
            },
        )
        self.result_issued = True
        self.close("refused", "refused")
        await self._report("refused")
        return False

    async def _issue_permit(self) -> None:
        """The permit (Annex 5): entered in the permits registry (p.9), signed by the head, delivered."""
        assert self.app is not None and self.registration is not None
        validity = await self.clock.open(
            self._validity_key(1), "mvno.permit_validity", workflow.now(), counted_from="day"
        )
        a = self.app.applicant
        head = a.head_name if a.kind == "legal_entity" else None
        self.permit = await workflow.execute_activity(
            enter_permit,
            PermitEntryRequest(
                case_id=self._id,
                application_number=self.app.application_number,
                holder_name=a.display_name,
                holder_id=a.identifier,
                holder_kind=a.kind,
                head_name=head,
                issued_at=validity.deadline.start,
                valid_until=validity.due,
                basis=f"665/NK p.7 ({self.registration.act_basis}); application {self.app.application_number}",
            ),
            start_to_close_timeout=_OUTSIDE,
            retry_policy=ACTIVITY_RETRY,
        )
        p = self.permit
        contracts = "; ".join(
            f"{c.base_operator}, contract {c.contract_number} of {c.signed_on.isoformat()}"
            for c in self.app.qualification.contracts
        )
        await self._document(
            "permit",
            "mvno_permit.html.j2",
            f"MVNO permit {p.permit_number}",
            "665/NK Annex 5; Annex 1 item 11",
            "provider_head",
            {
                "permit_number": p.permit_number,
                "holder_name": p.holder_name,
                "holder_id": p.holder_id,
                "issued_on": p.issued_on.isoformat(),
                "valid_through": p.valid_through.isoformat(),
                "head_name": head or "—",
                "basis": p.basis,
                "additional_info": contracts,
            },
        )
        self.result_issued = True
        self.outcome = "permit_issued"
        self._event(
            "permit_issued",
            f"{p.permit_number}, valid through {p.valid_through.isoformat()}",
            "665/NK p.7, p.9; Annex 5",
        )
        await self._stage("permit_valid", "contract_event")

    async def _permit_life(self) -> None:
        """Ten years (Annex 1 item 11): expiry by the recorded validity instant, or a contract event.

        At most a year is waited in one run: then the case continues as new with its state (``PermitLife``).
        """
        assert self.permit is not None
        while True:
            key = self._validity_key(self.validity_n)
            remaining = (self.clock.get(key).due - workflow.now()).total_seconds()
            checkpoint = min(remaining, _CHECKPOINT.total_seconds())
            try:
                if remaining <= 0:
                    raise TimeoutError
                await workflow.wait_condition(lambda: bool(self.contract_events), timeout=checkpoint)
            except TimeoutError:
                if remaining > checkpoint:
                    await self._continue_as_new()
                self.clock.met(key)
                await self._permit_change(
                    PermitChange.EXPIRED,
                    f"validity-{self.validity_n}",
                    None,
                    "the 10-year validity ended",
                    "665/NK Annex 1 item 11",
                )
                self.close("permit_expired", "permit_expired")
                await self._report("permit_expired")
                return
            ev = self.contract_events.pop(0)
            cite = CONTRACT_CITES[ev.kind]
            self.clock.cancel(key)
            if ev.kind is not ContractEventKind.EXTENDED_COMPLIANCE_CONFIRMED:
                await self._permit_change(
                    PermitChange.TERMINATED,
                    f"contract-{len(self.events)}",
                    None,
                    f"contract {ev.contract_number}: {ev.kind.value} on {ev.occurred_on.isoformat()}",
                    cite,
                )
                self.close("permit_terminated", "permit_terminated")
                await self._report("permit_terminated", ev.kind.value)
                return
            self.validity_n += 1
            new = await self.clock.open(
                self._validity_key(self.validity_n), "mvno.permit_validity", workflow.now(), counted_from="day"
            )
            await self._permit_change(
                PermitChange.EXTENDED,
                f"extension-{self.validity_n}",
                new.due,
                f"contract {ev.contract_number} extended to "
                f"{ev.contract_valid_until.isoformat() if ev.contract_valid_until else '?'}, "
                "compliance confirmed",
                cite,
            )
            await self._stage("permit_valid", "contract_event", f"extended ({cite})")

    async def _continue_as_new(self) -> None:
        """A yearly checkpoint: the permit's case continues as new, carrying its record."""
        assert self.app is not None and self.registration is not None and self.applicant_registry is not None
        assert self.permit is not None
        self.accepting = ""
        await workflow.wait_condition(workflow.all_handlers_finished)
        life = PermitLife(
            registration=self.registration,
            applicant_registry=self.applicant_registry,
            deadlines=list(self.clock.states.values()),
            documents=list(self.documents),
            events=list(self.events),
            permit=self.permit,
            validity_n=self.validity_n,
            round=self.round,
            reports=self._reports,
            status=self.status,
            outcome=self.outcome,
            contract_events=list(self.contract_events),
            completeness_proposal=self.completeness_proposal,
            qualification_proposal=self.qualification_proposal,
            overrun=self.overrun,
            hearing_record=self.hearing_record,
        )
        workflow.continue_as_new(args=[self.app, life])

    async def _restore(self, life: PermitLife) -> None:
        """Take up an issued permit's case where the previous run left it."""
        self.registration, self.applicant_registry = life.registration, life.applicant_registry
        self.documents, self.events, self.permit = list(life.documents), list(life.events), life.permit
        self.validity_n, self.round, self._reports = life.validity_n, life.round, life.reports
        self.outcome, self.contract_events = life.outcome, list(life.contract_events)
        self.completeness_proposal = life.completeness_proposal
        self.qualification_proposal = life.qualification_proposal
        self.overrun, self.hearing_record = life.overrun, life.hearing_record
        self.result_issued = True
        key = self._validity_key(self.validity_n)
        validity = next(d for d in life.deadlines if d.key == key)
        self.clock.states = {d.key: d for d in life.deadlines if d.key != key}
        await self.clock.open(key, "mvno.permit_validity", validity.deadline.start, counted_from="day")
        workflow.upsert_search_attributes(
            [sa.PROCEDURE.value_set(self.PROCEDURE), sa.ACT_VERSION.value_set(life.registration.act_version_id)]
        )
        self._event("checkpoint", "the permit's case continued as new (yearly checkpoint)", "")
        self.set_status(life.status)
        self.accepting = "contract_event"

    async def _permit_change(
        self, change: PermitChange, suffix: str, valid_until: datetime | None, reason: str, cite: str
    ) -> None:
        assert self.permit is not None
        self.permit = await workflow.execute_activity(
            record_permit_change,
            PermitChangeRequest(
                change_id=f"{self._id}/{suffix}",
                permit_number=self.permit.permit_number,
                change=change,
                effective_at=workflow.now(),
                valid_until=valid_until,
                reason=reason,
                cite=cite,
            ),
            start_to_close_timeout=_OUTSIDE,
            retry_policy=ACTIVITY_RETRY,
        )
        self._event(f"permit_{change.value}", reason, cite)

    async def _complaint_window(self) -> bool:
        """After a refusal the case waits for an upheld complaint's instruction (665/NK p.10). True: reopened."""
        key = self._k("complaint_window")
        state = await self.clock.open(key, "mvno.complaint_window", workflow.now(), counted_from="day")
        self.accepting = "reopen"
        try:
            await workflow.wait_condition(
                lambda: self.reopen_request is not None, timeout=max(1.0, (state.due - workflow.now()).total_seconds())
            )
        except TimeoutError:
            self.accepting = ""
            self.clock.cancel(key)
            self._event("complaint_window_closed", "no instruction to reopen the case", state.deadline.cite)
            return False
        self.clock.met(key)
        return True

    def _next_round(self) -> tuple[str, datetime, str]:
        instr, at = self.reopen_request, self.reopened_at
        assert instr is not None and at is not None and instr.stage is not None
        self.round += 1
        self._reset_round()
        self.reopen_request = None
        self.closed, self.outcome, self.result_issued, self.overrun = False, None, False, None
        self._event("reopened", f"complaint {instr.complaint_id}: {instr.reason}; back to {instr.stage}", "665/NK p.10")
        return instr.stage, at, "registration"

    # --- helpers ----------------------------------------------------------------------------------

    @property
    def _id(self) -> str:
        return workflow.info().workflow_id

    def _k(self, key: str) -> str:
        return key if self.round == 1 else f"{key}#{self.round}"

    @staticmethod
    def _validity_key(n: int) -> str:
        return "permit_validity" if n == 1 else f"permit_validity_{n}"

    def _event(self, kind: str, detail: str = "", cite: str = "") -> None:
        self.events.append(CaseEvent(at=workflow.now(), kind=kind, detail=detail, cite=cite))

    def _outcome(self) -> PermitOutcome:
        return PermitOutcome(
            outcome=self.outcome or self.status,
            status=self.status,
            permit_number=self.permit.permit_number if self.permit else None,
            documents=[d.doc_id for d in self.documents],
        )

    @staticmethod
    def _grounds(grounds: list[RefusalGround]) -> list[dict[str, str]]:
        return [GROUNDS[g].model_dump() for g in grounds]

    async def _stage(self, status: str, accepting: str, detail: str = "") -> None:
        self.set_status(status)
        self.accepting = accepting
        await self._report(status, detail)

    async def _wait_term(self, key: str, done: Callable[[], bool]) -> bool:
        """Wait for ``done()`` or the term's recorded instant; True when done in time, else the breach is recorded.

        Unlike ``clock.wait`` it wakes only for its own term (done, or its instant recomputed by a calendar
        correction), not for every change of another deadline: deadlines share 18:30 instants, and waking
        one wait when another breaches cancels a timer that may already have fired on the server (the
        time-skipping test server then rejects the workflow task).
        """
        while not done():
            due = self.clock.get(key).due
            remaining = (due - workflow.now()).total_seconds()
            if remaining <= 0:
                break
            try:
                await workflow.wait_condition(
                    lambda d=due: done() or self.clock.get(key).due != d,  # type: ignore[misc]
                    timeout=remaining,
                )
            except TimeoutError:
                break
        if done():
            return self.clock.met(key).status is DeadlineStatus.MET
        await self.clock.breach(key)
        return False

    async def _watch(self, key: str, done: Callable[[], bool]) -> None:
        """A term that runs beside the stages (the service term): breach recorded, then met when done."""
        if not await self._wait_term(key, done):
            await workflow.wait_condition(done)
            self.clock.met(key)

    async def _wait_stage(self, key: str, status: str, done: Callable[[], bool]) -> None:
        """Wait for the employee; past the deadline the breach is recorded, escalated and shown in the status."""
        if await self._wait_term(key, done) or done():
            return
        self.set_status(f"{status}_overdue")
        await self._report(f"{status}_overdue", f"{key} breached; supervisor notified")
        await workflow.wait_condition(done)
        self.clock.met(key)

    async def _report(self, stage: str, detail: str = "") -> None:
        """Every stage to the public-services monitoring system (665/NK p.8), once per report id."""
        self._reports += 1
        await workflow.execute_activity(
            report_stage,
            StageReport(
                report_id=f"{self._id}/{self._reports:03d}",
                case_id=self._id,
                procedure=PROCEDURE,
                stage=stage,
                status=self.status,
                at=workflow.now(),
                detail=detail,
            ),
            start_to_close_timeout=_OUTSIDE,
            retry_policy=ACTIVITY_RETRY,
        )

    async def _document(
        self, kind: str, template: str, title: str, cite: str, role: str, context: dict[str, Any]
    ) -> DocumentRef:
        """Render (Kazakh and Russian), sign with the provider's EDS, deliver to the personal account."""
        assert self.app is not None and self.registration is not None and self.applicant_registry is not None
        a = self.app.applicant
        doc_id = f"{self._id}/r{self.round}/{kind}"
        base = {
            "applicant_name": a.display_name,
            "applicant_id": a.identifier,
            "id_label_kk": "ЖСН" if a.kind == "individual" else "БСН",
            "id_label_ru": "ИИН" if a.kind == "individual" else "БИН",
            "application_number": self.app.application_number,
            "registered_on": self.registration.registered_on.isoformat(),
            "signer_role": role,
        }
        ref = await workflow.execute_activity(
            render_document,
            RenderDocumentRequest(
                doc_id=doc_id,
                case_id=self._id,
                kind=kind,
                title=title,
                template=template,
                cite=cite,
                context={**base, **context},
            ),
            start_to_close_timeout=_OUTSIDE,
            retry_policy=ACTIVITY_RETRY,
        )
        check = await workflow.execute_activity(
            sign_document,
            SignDocumentRequest(doc_id=doc_id, role=role),
            start_to_close_timeout=_OUTSIDE,
            retry_policy=ACTIVITY_RETRY,
        )
        await workflow.execute_activity(
            deliver_to_personal_account,
            DeliverDocumentRequest(doc_id=doc_id, case_id=self._id, recipient=self.applicant_registry.recipient),
            start_to_close_timeout=_OUTSIDE,
            retry_policy=ACTIVITY_RETRY,
        )
        ref = ref.model_copy(update={"signed_by": check.subject})
        self.documents.append(ref)
        self._event(f"document:{kind}", f"{title}; signed ({role}) and delivered to the personal account", cite)
        return ref

    async def _refresh_windows(self) -> None:
        self.windows = await workflow.execute_local_activity(
            hearing_windows,
            HearingWindowsRequest(start=workflow.now(), days=_WINDOW_DAYS),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ACTIVITY_RETRY,
        )

    async def _keep_windows(self) -> None:
        """Keep the recorded hearing calendar ahead of now while the qualification decision is awaited."""
        round_, key = self.round, self._k("qualification_check")

        def version() -> str:
            return self.clock.get(key).deadline.calendar_version

        while self.round == round_ and self.qualification is None:
            refresh_at, seen = self.windows[-7].starts_at, version()

            def corrected(seen: str = seen) -> bool:  # a calendar correction reached the case's open term
                return version() != seen

            try:
                await workflow.wait_condition(
                    lambda: self.qualification is not None or self.round != round_ or corrected(),
                    timeout=max(1.0, (refresh_at - workflow.now()).total_seconds()),
                )
                if self.qualification is None and self.round == round_:
                    await self._refresh_windows()
            except TimeoutError:
                await self._refresh_windows()

    def _window(self, at: datetime) -> NoticeDay | None:
        return next((w for w in self.windows if w.starts_at <= at < w.ends_at), None)

    def _refuse(self, update: str) -> None:
        if self.accepting == update:
            return
        why = ""
        if update == "final_decision" and self.notice_day is not None and not self.decision_open:
            why = (
                f"; the decision may not be adopted before {self.notice_day.decision_not_before.isoformat()}"
                f" (hearing notice of {self.notice_day.day.isoformat()} + 3 working days, 665/NK p.7)"
            )
            if self.hearing_record is None:
                why += "; the hearing has not been recorded yet"
        fits = self.accepting or "no decision (the case is working)"
        raise ValueError(f"{update} does not fit now: the case is {self.status}; it accepts {fits}{why}")

    # --- Updates (each with a validator) ---------------------------------------------------------

    @workflow.update
    def completeness_decision(self, d: CompletenessDecision) -> DecisionReceipt:
        """The employee's completeness check result (665/NK p.6)."""
        self.accepting = ""
        self.completeness, self.completeness_at = d, workflow.now()
        return DecisionReceipt(
            accepted_at=workflow.now(),
            update="completeness_decision",
            note="qualification check next" if d.complete else "refusal to consider further",
        )

    @completeness_decision.validator
    def _check_completeness(self, d: CompletenessDecision) -> None:
        self._refuse("completeness_decision")

    @workflow.update
    def qualification_decision(self, d: QualificationDecision) -> DecisionReceipt:
        """Compliant → the permit; not compliant → preliminary refusal and hearing notice (665/NK p.7)."""
        self.accepting = ""
        self.qualification = d
        if not d.compliant:
            self.notice_at = workflow.now()
            self.notice_day = self._window(self.notice_at)
        return DecisionReceipt(
            accepted_at=workflow.now(),
            update="qualification_decision",
            note="permit next" if d.compliant else "preliminary refusal and hearing notice sent",
        )

    @qualification_decision.validator
    def _check_qualification(self, d: QualificationDecision) -> None:
        self._refuse("qualification_decision")
        if d.compliant or d.hearing is None:
            return
        now = workflow.now()
        w = self._window(now)
        if w is None:
            raise ValueError("the hearing calendar does not cover this moment yet; retry in a minute")
        if d.hearing.at <= now:
            raise ValueError(f"hearing.at {d.hearing.at.isoformat()} is not after the notice ({now.isoformat()})")
        if d.hearing.at > w.hearing_due.due:
            raise ValueError(
                f"hearing.at {d.hearing.at.isoformat()} is too late: the hearing is held no later than 2 working "
                f"days from the notice sent on {w.day.isoformat()}, i.e. by {w.hearing_due.due.isoformat()} "
                f"({w.hearing_due.cite})"
            )

    @workflow.update
    def record_hearing(self, h: HearingRecord) -> DecisionReceipt:
        """The hearing as held and the applicant's position (665/NK p.7)."""
        self.accepting = ""
        self.hearing_record = h
        nb = self.notice_day.decision_not_before.isoformat() if self.notice_day else ""
        return DecisionReceipt(
            accepted_at=workflow.now(), update="record_hearing", note=f"the decision may be adopted from {nb}"
        )

    @record_hearing.validator
    def _check_hearing(self, h: HearingRecord) -> None:
        self._refuse("record_hearing")
        assert self.notice_at is not None
        if h.held_at > workflow.now():
            raise ValueError(f"held_at {h.held_at.isoformat()} is in the future: record a hearing once it is held")
        if h.held_at < self.notice_at:
            raise ValueError(f"held_at {h.held_at.isoformat()} is before the notice ({self.notice_at.isoformat()})")

    @workflow.update
    def final_decision(self, d: FinalDecision) -> DecisionReceipt:
        """After the hearing: the permit or a reasoned refusal (665/NK p.7)."""
        self.accepting = ""
        self.final = d
        return DecisionReceipt(
            accepted_at=workflow.now(), update="final_decision", note="permit" if d.grant else "reasoned refusal"
        )

    @final_decision.validator
    def _check_final(self, d: FinalDecision) -> None:
        self._refuse("final_decision")

    @workflow.update
    def contract_event(self, ev: ContractEvent) -> DecisionReceipt:
        """A base-operator contract ended, was terminated early, or was extended with compliance confirmed."""
        self.accepting = ""
        self.contract_events.append(ev)
        return DecisionReceipt(accepted_at=workflow.now(), update="contract_event", note=CONTRACT_CITES[ev.kind])

    @contract_event.validator
    def _check_contract(self, ev: ContractEvent) -> None:
        self._refuse("contract_event")
        assert self.app is not None
        known = [c.contract_number for c in self.app.qualification.contracts]
        if ev.contract_number not in known:
            raise ValueError(
                f"contract_number {ev.contract_number!r} is not a contract of this permit ({', '.join(known)})"
            )
        if ev.contract_valid_until is not None and ev.contract_valid_until <= ev.occurred_on:
            raise ValueError("contract_valid_until must be after occurred_on")

    def _default_stage(self) -> str:
        """Where a reopened case goes when the instruction names no stage: the stage that refused."""
        return "completeness_check" if self.outcome == "refused_to_consider" else "qualification_check"

    @workflow.update
    def reopen(self, instr: ReopenInstruction) -> DecisionReceipt:
        """An upheld complaint's instruction: the case is reopened for a new decision (665/NK p.10)."""
        stage = self._accept_reopen(instr)
        return DecisionReceipt(accepted_at=workflow.now(), update="reopen", note=f"back to {stage}")

    def _accept_reopen(self, instr: ReopenInstruction) -> str:
        self.accepting = ""
        if instr.stage is None:
            instr = instr.model_copy(update={"stage": self._default_stage()})
        self.reopen_request, self.reopened_at = instr, workflow.now()
        return str(instr.stage)

    async def on_complaint_instruction(self, instruction: ComplaintInstruction) -> str:
        """An upheld complaint's "reopen" instruction reopens a refused case for a new decision."""
        if instruction.action != "reopen":
            return "recorded; staff act on it"
        if self.accepting != "reopen":
            return f"recorded; the case is {self.status} and cannot be reopened now, staff act on it"
        stage = self._accept_reopen(
            ReopenInstruction(complaint_id=instruction.complaint_id, stage=None, reason=instruction.reasons[:2000])
        )
        return f"reopened for a new decision at {stage}"

    @reopen.validator
    def _check_reopen(self, instr: ReopenInstruction) -> None:
        self._refuse("reopen")

    # --- queries ---------------------------------------------------------------------------------

    def pending_events(self) -> list[str]:
        return [self.accepting] if self.accepting else []

    @workflow.query
    def permit_case(self) -> PermitCaseView:
        """The procedure's own view: proposals, hearing limits, overrun, the permit and the timeline."""
        return self._view()

    def details(self) -> dict[str, Any]:
        """Procedure-specific facts for the foundation's ``case`` query (main's ``details`` hook)."""
        return self._view().model_dump(mode="json") if self.app is not None else {}

    def _view(self) -> PermitCaseView:
        assert self.app is not None
        q = self.qualification
        return PermitCaseView(
            status=self.status,
            round=self.round,
            application_number=self.app.application_number,
            applicant_kind=self.app.applicant.kind,
            completeness_proposal=self.completeness_proposal,
            qualification_proposal=self.qualification_proposal,
            hearing=q.hearing if q else None,
            notice_sent_at=self.notice_at,
            hearing_latest=self.notice_day.hearing_due.due if self.notice_day else None,
            decision_not_before=self.notice_day.decision_not_before if self.notice_day else None,
            hearing_record=self.hearing_record,
            overrun=self.overrun,
            permit=self.permit,
            events=list(self.events),
            pending_events=self.pending_events(),
        )


_STAFF = frozenset({Role.STAFF})
SPEC = ProcedureSpec(
    key=PROCEDURE,
    title="Permit for a mobile virtual network operator",
    act_key=ACT,
    workflow=MvnoPermit,
    run=MvnoPermit.run,
    input_model=PermitApplication,
    case_id=permit_case_id,
    start_roles=frozenset({Role.STAFF, Role.operator("egov_portal")}),
    events=(
        EventSpec("completeness_decision", CompletenessDecision, _STAFF, "Completeness check result", "665/NK p.6"),
        EventSpec(
            "qualification_decision",
            QualificationDecision,
            _STAFF,
            "Qualification check: compliant, or preliminary refusal with the hearing",
            "665/NK p.7; Annex 4",
        ),
        EventSpec("record_hearing", HearingRecord, _STAFF, "The hearing and the applicant's position", "665/NK p.7"),
        EventSpec("final_decision", FinalDecision, _STAFF, "Decision after the hearing", "665/NK p.7"),
        EventSpec(
            "contract_event",
            ContractEvent,
            frozenset({Role.STAFF, Role.operator("base_operator")}),
            "Base-operator contract terminated, ended or extended",
            "665/NK Annex 5",
        ),
        EventSpec(
            "reopen",
            ReopenInstruction,
            frozenset({Role.SUPERVISOR, Role.operator("complaints")}),
            "Reopen after an upheld complaint",
            "665/NK p.10",
        ),
    ),
    result_model=PermitOutcome,
    # The default start policy: a resubmitted application joins its running case; a closed case is never
    # restarted under the same id.
    view=ViewSpec("permit_case", PermitCaseView),
    activities=(
        send_sms,
        lookup_applicant,
        report_stage,
        enter_permit,
        record_permit_change,
        hearing_windows,
        render_document,
        sign_document,
        deliver_to_personal_account,
    ),
)
