"""Fraud: identifying and suspending a number (act 171 as amended, ch.3 p.116–120; p.52(4)).

One case per suspect number (workflow id ``case_id("fraud_check", number)``, a keyed hash). Three ways in,
each an Update with a validator that also starts the case (update-with-start): a subscriber's report to
the reference service (p.52(4)), information from the National Bank antifraud centre incl. SIM boxes
(p.119), the operator's own detection (p.118), which informs the centre at once with the subscriber's
surname, name, patronymic, IIN and all numbers registered to the subscriber. Further reports join the open
case. The check takes 2 working days (p.119); confirmed → services suspended and the centre informed within
2 working days, not confirmed → the centre informed of that within 2 working days (p.120). A suspension is
lifted only by a recorded back-office decision with its reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.antifraud import AntifraudActivities
    from activities.network import NetworkActivities
    from activities.subscriber_registry import SubscriberRegisterActivities
    from infra.intake import act_in_force
    from infra.pseudonym import case_id
    from models.fraud_check import (
        AnyReport,
        CentreInformation,
        CentreMessage,
        CentreNotice,
        CheckOutcome,
        FraudCaseInput,
        FraudCaseView,
        IntakeAck,
        InternalDetection,
        LiftDecision,
        NetworkAction,
        NetworkOrder,
        NetworkResult,
        NoticeKind,
        RecordedReport,
        ReportAnswer,
        SubscriberLookup,
        SubscriberRecord,
        SubscriberReport,
    )
    from models.procedure import EventSpec, ProcedureSpec, Role, StartPolicy, ViewSpec
    from workflows.case import CaseWorkflow
    from workflows.outside import OUTSIDE_TIMEOUT

__all__ = ["PROCEDURE", "SPEC", "FraudCheck", "fraud_case_id", "opening_report"]

PROCEDURE = "fraud_check"
ACT = "171"

NOTICES_RETRIED_BY_ACTIVITY = "fraud-notices-retried-by-activity"
"""``workflow.patched`` id: a message to the centre is one activity retried by its own retry policy (attempts
in Temporal's pending-activity info). Cases begun before it retry in workflow code, one activity per attempt."""
# Cases begun before NOTICES_RETRIED_BY_ACTIVITY: one attempt per activity, the back-off slept in the
# workflow (30 s, 1 min, 2 min … at most 10 min apart), 11 history events per attempt.
NOTICE_FIRST_RETRY = timedelta(seconds=30)
NOTICE_MAX_RETRY = timedelta(minutes=10)
_ONE_ATTEMPT = RetryPolicy(maximum_attempts=1)
_FUTURE_TOLERANCE = timedelta(minutes=5)


def fraud_case_id(number: str) -> str:
    """The one workflow id of the case about ``number`` (a keyed hash: the number never appears in clear)."""
    return case_id(PROCEDURE, number)


def opening_report(inp: FraudCaseInput) -> tuple[str, AnyReport, str]:
    """The Update that carries a case's first report (its way in), the report, and its Update id (its ref)."""
    return inp.first.way_in.value, inp.first, inp.first.ref


class Status:
    CHECK = "check"
    SUSPENDING = "suspending"
    SUSPENDED = "suspended"
    NOT_CONFIRMED_NOTICE = "not_confirmed_notice"
    RESTORING = "restoring"
    CLOSED = "closed"


@workflow.defn
class FraudCheck(CaseWorkflow):
    """One suspect number: reports in, the check, suspension or the not-confirmed notice, a possible lift."""

    PROCEDURE = PROCEDURE

    @workflow.init
    def __init__(self, inp: FraudCaseInput) -> None:
        super().__init__()
        self.number = inp.first.suspect_number
        self.cycle = inp.cycle
        self.reports: list[RecordedReport] = []
        self._refs: set[str] = set()
        self._opening_ref = inp.first.ref
        self._opening_answered = False
        self.check_outcome: CheckOutcome | None = None
        self.outcome_at: datetime | None = None
        self.subscriber: SubscriberRecord | None = None
        self.suspension: NetworkResult | None = None
        self.lift: LiftDecision | None = None
        self.lift_at: datetime | None = None
        self.restoration: NetworkResult | None = None
        self.notices: list[CentreNotice] = []
        self._tasks: list[asyncio.Task[Any]] = []
        # Decided once, at the case's first activation, so the patch marker always sits at the same place.
        self._notices_by_activity = workflow.patched(NOTICES_RETRIED_BY_ACTIVITY)
        for report in [inp.first, *inp.carried]:
            self._record(report)

    # -- the procedure -------------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: FraudCaseInput) -> FraudCaseView:
        first = inp.first
        await self.register(ACT, first.received_at)
        self.set_status(Status.CHECK)
        if isinstance(first, InternalDetection):
            self._spawn(self._inform_of_detection(first))  # p.118: at once
        await self.clock.open("check", "fraud.check", first.received_at, label="check of the report (p.119)")
        await self.clock.wait("check", lambda: self.check_outcome is not None)
        assert self.check_outcome is not None
        if self.check_outcome.confirmed:
            await self._suspend()
            await workflow.wait_condition(lambda: self.lift is not None)
            await self._restore()
            self.close("suspension_lifted", Status.CLOSED)
        else:
            await self._inform_not_confirmed()
            self.close("not_confirmed", Status.CLOSED)
        return await self._finish()

    async def _suspend(self) -> None:
        """p.120: suspend services to the number and inform the centre, each within 2 working days."""
        assert self.outcome_at is not None and self.check_outcome is not None
        self.set_status(Status.SUSPENDING)
        await self.clock.open("suspension", "fraud.suspension", self.outcome_at, counted_from="day")
        await self.clock.open("suspension_notice", "fraud.suspension_notice", self.outcome_at, counted_from="day")
        notice = self._notice(NoticeKind.SUSPENSION, "171 p.120")
        self._spawn(self._network(NetworkAction.SUSPEND, "fraud confirmed (171 p.120)"))
        self._spawn(self._deliver(notice, self._message(notice, evidence=self.check_outcome.evidence)))
        await asyncio.gather(
            self.clock.wait("suspension", lambda: self.suspension is not None),
            self.clock.wait("suspension_notice", lambda: notice.delivered_at is not None),
        )

    async def _restore(self) -> None:
        """The lift decision: services restored and the centre told, by the decision's reason."""
        assert self.lift is not None
        self.set_status(Status.RESTORING)
        notice = self._notice(NoticeKind.RESTORATION, "171 p.120")
        self._spawn(self._network(NetworkAction.RESTORE, self.lift.reason))
        self._spawn(self._deliver(notice, self._message(notice, reason=self.lift.reason)))
        await workflow.wait_condition(lambda: self.restoration is not None and notice.delivered_at is not None)

    async def _inform_not_confirmed(self) -> None:
        """p.120: the centre is told within 2 working days that the signs were not confirmed."""
        assert self.outcome_at is not None and self.check_outcome is not None
        self.set_status(Status.NOT_CONFIRMED_NOTICE)
        await self.clock.open("not_confirmed_notice", "fraud.not_confirmed_notice", self.outcome_at, counted_from="day")
        notice = self._notice(NoticeKind.NOT_CONFIRMED, "171 p.120")
        self._spawn(self._deliver(notice, self._message(notice, evidence=self.check_outcome.evidence)))
        await self.clock.wait("not_confirmed_notice", lambda: notice.delivered_at is not None)

    async def _inform_of_detection(self, report: InternalDetection) -> None:
        """p.118: the centre learns of the operator's own detection with the subscriber's data and numbers."""
        notice = self._notice(NoticeKind.DETECTION, "171 p.118", suffix=report.ref)
        self.subscriber = await self.outside(
            SubscriberRegisterActivities.lookup_subscriber,
            SubscriberLookup(number=self.number),
            what="subscriber_register",
        )
        await self._deliver(notice, self._message(notice, subscriber=self.subscriber, reason=report.description))

    async def _finish(self) -> FraudCaseView:
        """Let running handlers and messages end; reports that need a new check open the next cycle."""
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and all(t.done() for t in self._tasks))
        for t in self._tasks:
            t.result()  # a failed task fails the case rather than being forgotten
        pending = [r.report for r in self.reports if r.needs_new_check]
        if pending:
            workflow.continue_as_new(FraudCaseInput(first=pending[0], cycle=self.cycle + 1, carried=pending[1:]))
        return self.view()

    # -- outside systems -----------------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[None]) -> None:
        self._tasks.append(asyncio.ensure_future(coro))

    def _notice(self, kind: NoticeKind, cite: str, suffix: str = "") -> CentreNotice:
        message_id = f"{workflow.info().workflow_id}:{self.cycle}:{kind.value}" + (f":{suffix}" if suffix else "")
        notice = CentreNotice(message_id=message_id, kind=kind, cite=cite, pending_since=workflow.now())
        self.notices.append(notice)
        return notice

    def _message(
        self,
        notice: CentreNotice,
        *,
        subscriber: SubscriberRecord | None = None,
        evidence: list[str] | None = None,
        reason: str = "",
    ) -> CentreMessage:
        return CentreMessage(
            message_id=notice.message_id,
            case_id=workflow.info().workflow_id,
            kind=notice.kind,
            number=self.number,
            cite=notice.cite,
            subscriber=subscriber,
            evidence=list(evidence or []),
            reason=reason,
        )

    async def _deliver(self, notice: CentreNotice, message: CentreMessage) -> None:
        """Send until the centre acknowledges: the activity's retry policy keeps trying through an outage.

        While it does, Temporal's pending-activity info under the notice's ``call_id`` (its message id) shows
        the attempts, the last error and the next attempt; the case keeps when the notice became pending.
        A permanent refusal blocks the case visibly until staff resume it.
        """
        if not self._notices_by_activity:
            await self._deliver_retrying_in_workflow(notice, message)
            return
        notice.call_id = notice.message_id
        receipt = await self.outside(
            AntifraudActivities.inform_antifraud_centre, message, what="antifraud_centre", call_id=notice.call_id
        )
        notice.attempts = receipt.attempt
        notice.delivered_at = receipt.received_at

    async def _deliver_retrying_in_workflow(self, notice: CentreNotice, message: CentreMessage) -> None:
        """Cases begun before ``NOTICES_RETRIED_BY_ACTIVITY``: one activity per attempt, back-off slept here."""
        delay = NOTICE_FIRST_RETRY
        while True:
            notice.attempts += 1
            notice.next_attempt_at = None
            try:
                receipt = await workflow.execute_activity_method(
                    AntifraudActivities.inform_antifraud_centre,
                    message,
                    start_to_close_timeout=OUTSIDE_TIMEOUT,
                    retry_policy=_ONE_ATTEMPT,
                )
            except ActivityError as exc:
                cause = exc.cause
                notice.last_error = str(getattr(cause, "message", None) or cause or exc)
                notice.next_attempt_at = workflow.now() + delay
                await workflow.sleep(delay)
                delay = min(delay * 2, NOTICE_MAX_RETRY)
                continue
            notice.delivered_at = receipt.received_at
            return

    async def _network(self, action: NetworkAction, reason: str) -> None:
        order = NetworkOrder(
            order_id=f"{workflow.info().workflow_id}:{self.cycle}:{action.value}",
            case_id=workflow.info().workflow_id,
            number=self.number,
            action=action,
            reason=reason,
        )
        result = await self.outside(NetworkActivities.apply_network_order, order, what="network")
        if action is NetworkAction.SUSPEND:
            self.suspension = result
            self.set_status(Status.SUSPENDED)  # the lift may come now, even while the centre is still unreachable
        else:
            self.restoration = result

    # -- reports (the three ways in) -----------------------------------------------------------------

    def _record(self, report: AnyReport) -> None:
        self._refs.add(report.ref)
        # After a not-confirmed outcome or a lift decision a new report deserves a check of its own.
        needs_new_check = self.check_outcome is not None and (not self.check_outcome.confirmed or self.lift is not None)
        self.reports.append(RecordedReport(report=report, recorded_at=workflow.now(), needs_new_check=needs_new_check))

    def _take(self, report: AnyReport) -> IntakeAck:
        if report.ref == self._opening_ref and not self._opening_answered:
            self._opening_answered = True
            answer = ReportAnswer.OPENED
        elif report.ref in self._refs:
            answer = ReportAnswer.DUPLICATE
        else:
            self._record(report)
            answer = ReportAnswer.JOINED
            if isinstance(report, InternalDetection):
                self._spawn(self._inform_of_detection(report))
        return IntakeAck(
            case_id=workflow.info().workflow_id, answer=answer, reports_in_case=len(self.reports), status=self.status
        )

    def _refuse_unless_fits(self, report: AnyReport) -> None:
        if report.suspect_number != self.number:
            raise ValueError("the report is about another number than this case")
        if report.received_at > workflow.now() + _FUTURE_TOLERANCE:
            raise ValueError("received_at is in the future")

    @workflow.update
    def subscriber_report(self, report: SubscriberReport) -> IntakeAck:
        """(a) A subscriber's report to the information-reference service (171 p.52(4))."""
        return self._take(report)

    @subscriber_report.validator
    def validate_subscriber_report(self, report: SubscriberReport) -> None:
        self._refuse_unless_fits(report)

    @workflow.update
    def centre_information(self, report: CentreInformation) -> IntakeAck:
        """(b) Information from the National Bank antifraud centre, incl. SIM boxes (171 p.119)."""
        return self._take(report)

    @centre_information.validator
    def validate_centre_information(self, report: CentreInformation) -> None:
        self._refuse_unless_fits(report)

    @workflow.update
    def internal_detection(self, report: InternalDetection) -> IntakeAck:
        """(c) The operator's own antifraud detection (171 p.118): the centre is informed at once."""
        return self._take(report)

    @internal_detection.validator
    def validate_internal_detection(self, report: InternalDetection) -> None:
        self._refuse_unless_fits(report)

    # -- back-office decisions -----------------------------------------------------------------------

    @workflow.update
    def record_check_outcome(self, outcome: CheckOutcome) -> FraudCaseView:
        """The analyst's outcome of the check with its evidence (171 p.119)."""
        self.check_outcome = outcome
        self.outcome_at = workflow.now()
        return self.view()

    @record_check_outcome.validator
    def validate_record_check_outcome(self, outcome: CheckOutcome) -> None:
        if self.check_outcome is not None:
            verdict = "confirmed" if self.check_outcome.confirmed else "not confirmed"
            raise ValueError(f"the check outcome is already recorded ({verdict})")
        if self.registration is None:
            raise ValueError("the case is still being registered; try again in a moment")

    @workflow.update
    def lift_suspension(self, decision: LiftDecision) -> FraudCaseView:
        """A back-office decision lifting the suspension, with its reason; network and centre follow."""
        self.lift = decision
        self.lift_at = workflow.now()
        return self.view()

    @lift_suspension.validator
    def validate_lift_suspension(self, decision: LiftDecision) -> None:
        if self.lift is not None:
            raise ValueError("the suspension is already lifted")
        if self.suspension is None:
            raise ValueError(f"there is no suspension to lift (the case is at '{self.status}')")

    # -- views ---------------------------------------------------------------------------------------

    def pending_events(self) -> list[str]:
        if self.closed:
            return []
        events = ["subscriber_report", "centre_information", "internal_detection"]
        if self.check_outcome is None:
            events.append("record_check_outcome")
        if self.suspension is not None and self.lift is None:
            events.append("lift_suspension")
        return events

    @workflow.query
    def fraud(self) -> FraudCaseView:
        """The reports, the outcome, the suspension and every message to the antifraud centre."""
        return self.view()

    def view(self) -> FraudCaseView:
        return FraudCaseView(
            case_id=workflow.info().workflow_id,
            number=self.number,
            cycle=self.cycle,
            status=self.status,
            reports=list(self.reports),
            outcome=self.check_outcome,
            outcome_at=self.outcome_at,
            subscriber=self.subscriber,
            suspension=self.suspension,
            lift=self.lift,
            lift_at=self.lift_at,
            restoration=self.restoration,
            notices=[n.model_copy() for n in self.notices],
        )


_INTAKE = (
    Role.STAFF,
    Role.operator("reference_service"),
    Role.operator("antifraud_centre"),
    Role.operator("antifraud_system"),
)

SPEC = ProcedureSpec(
    key=PROCEDURE,
    title="Fraud: identifying and suspending a number",
    act_key=ACT,
    workflow=FraudCheck,
    run=FraudCheck.run,
    input_model=FraudCaseInput,
    case_id=lambda inp: fraud_case_id(inp.first.suspect_number),
    start_roles=frozenset(_INTAKE),
    events=(
        EventSpec(
            "subscriber_report",
            SubscriberReport,
            frozenset({Role.STAFF, Role.operator("reference_service")}),
            "Subscriber's report to the reference service",
            "171 p.52(4), p.119",
            result_model=IntakeAck,
        ),
        EventSpec(
            "centre_information",
            CentreInformation,
            frozenset({Role.operator("antifraud_centre")}),
            "Information from the National Bank antifraud centre",
            "171 p.119",
            result_model=IntakeAck,
        ),
        EventSpec(
            "internal_detection",
            InternalDetection,
            frozenset({Role.STAFF, Role.operator("antifraud_system")}),
            "Operator's own antifraud detection",
            "171 p.118",
            result_model=IntakeAck,
        ),
        EventSpec(
            "record_check_outcome",
            CheckOutcome,
            frozenset({Role.STAFF}),
            "Outcome of the check, with evidence",
            "171 p.119, p.120",
        ),
        EventSpec(
            "lift_suspension",
            LiftDecision,
            frozenset({Role.STAFF}),
            "Lift the suspension (decision with reason)",
            "171 p.120",
        ),
    ),
    result_model=FraudCaseView,
    # A report opens the case of its number or joins the running one in one call (update-with-start); after
    # the case closed (not confirmed, or the suspension lifted) the next report opens a new run (p.119).
    start=StartPolicy(
        id_conflict=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        with_update=opening_report,
    ),
    view=ViewSpec("fraud", FraudCaseView),
    intake_check=lambda inp: act_in_force(ACT, inp.first.received_at),
    activities=(
        SubscriberRegisterActivities.lookup_subscriber,
        AntifraudActivities.inform_antifraud_centre,
        NetworkActivities.apply_network_order,
    ),
)
