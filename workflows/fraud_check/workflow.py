"""Fraud: identifying and suspending a number (act 171 as amended, ch.3 p.116–120; p.52(4)).

``run`` reads like the paragraphs: the case is registered with its first report; the operator's own detection
is passed to the antifraud centre at once (p.118); the check takes 2 working days (p.119); confirmed →
services suspended and the centre informed, each within 2 working days, not confirmed → the centre informed
of that within 2 working days (p.120). A suspension is lifted only by a recorded back-office decision with its
reason; then the network restores the services and the centre is told. Reports that arrive after the outcome
open the next check (continue-as-new). A case whose history grows long while the check is awaited or the suspension
awaits its lift continues as new within the same check, its whole ``FraudState`` the next run's input.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.case import BEGUN_CASE_MEMO, ENDED_CASE_MEMO, INTAKE_MEMO
    from models.fraud_check import (
        FraudCaseInput,
        FraudCaseView,
        FraudState,
        InternalDetection,
        NetworkAction,
        NoticeKind,
        SubscriberRecord,
    )
    from rules import law
    from rules.law import cite
    from workflows.clock import Checkpoint

from workflows.fraud_check.base import ACT, Status
from workflows.fraud_check.decisions import BackOfficeDecisions
from workflows.fraud_check.intake import WaysIn
from workflows.fraud_check.network import NetworkOrders
from workflows.fraud_check.notices import NOTICES_CARRY_THE_SUBSCRIBER, NOTICES_RETRIED_BY_ACTIVITY

__all__ = ["CHECK_ENDS_ITS_CASE", "CONTINUES_WHEN_SUGGESTED", "FraudCheck"]

CHECK_ENDS_ITS_CASE = "fraud-check-ends-its-case"
"""``workflow.patched`` id, asked only when a check is done and reports wait for the next: the run says in its memo
(``ENDED_CASE_MEMO``) that it ended a case, and the next check's runs say in their start memo (``BEGUN_CASE_MEMO``,
beside the ``INTAKE_MEMO`` Temporal carried alone before) that they hold a case begun after it. Before it, the audit
tools took the run for the past of the next check, whose state carries nothing of it: the first check's decision,
term and notice were in no export, report or administrative case (an adversarial run, 2026-12-04)."""

CONTINUES_WHEN_SUGGESTED = "fraud-continues-as-new-when-suggested"
"""``workflow.patched`` id: when Temporal suggests it (the history is long: reports keep arriving), the case continues
as new within the same check while the check is awaited or the suspension awaits its lift, handing its whole
``FraudState`` to the next run. Decided at each run's first activation."""


@workflow.defn
class FraudCheck(WaysIn, NetworkOrders, BackOfficeDecisions):
    """One suspect number: reports in, the check, suspension or the not-confirmed notice, a possible lift."""

    @workflow.init
    def __init__(self, inp: FraudCaseInput) -> None:
        super().__init__(inp)
        # Decided once, at the case's first activation, so the patch markers always sit at the same place.
        self._notices_by_activity = self.patches.patched(NOTICES_RETRIED_BY_ACTIVITY)
        self._notices_carry_subscriber = self.patches.patched(NOTICES_CARRY_THE_SUBSCRIBER)
        self._continues_when_suggested = self.patches.patched(CONTINUES_WHEN_SUGGESTED)
        self._subscriber_lookup = None
        if inp.state is not None:
            self._take_over(inp.state)
        else:
            for report in [inp.first, *inp.carried]:
                self._record(report)

    # -- the procedure -------------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: FraudCaseInput) -> FraudCaseView:
        first = inp.first
        if inp.state is None:
            await self.register(ACT, first.received_at)
            self.set_status(Status.CHECK)
            if isinstance(first, InternalDetection):
                self._spawn(self._inform_of_detection(first))  # p.118: at once
            await self.clock.open("check", "fraud.check", first.received_at, label="check of the report (p.119)")
        else:  # a run continued as new within the check: its search attributes are carried, its memo is not
            self.publish_record()
        while True:
            try:
                await self._check_and_after()
                break
            except Checkpoint:  # a long history: continue as new where the case waits, unless the act came
                await self._settle()
                if self._at_checkpoint():
                    state = self._state().within_budget(workflow.info().run_id)
                    workflow.continue_as_new(FraudCaseInput(first=first, cycle=self.cycle, state=state))
        return await self._finish()

    async def _check_and_after(self) -> None:
        """p.119-120 from the check on; taken up again from the recorded state after a checkpoint."""
        await self.clock.wait("check", lambda: self.check_outcome is not None, checkpoint=self._checkpoint)
        assert self.check_outcome is not None
        if self.check_outcome.confirmed:
            if "suspension" not in self.clock.states:
                await self._suspend()
            await workflow.wait_condition(lambda: self.lift is not None or self._checkpoint())
            if self.lift is None:
                raise Checkpoint
            await self._restore()
            self.close("suspension_lifted", Status.CLOSED)
        else:
            await self._inform_not_confirmed()
            self.close("not_confirmed", Status.CLOSED)

    # -- continuing as new within the check ------------------------------------------------------------

    def _checkpoint(self) -> bool:
        """Whether to continue as new at a point the next run takes up (``CONTINUES_WHEN_SUGGESTED``)."""
        return self._continues_when_suggested and workflow.info().is_continue_as_new_suggested()

    def _at_checkpoint(self) -> bool:
        """The case waits where a next run takes it up: for the check's outcome, or (suspended) for the lift."""
        if self.check_outcome is None:
            return True
        return self.check_outcome.confirmed and self.suspension is not None and self.lift is None

    async def _settle(self) -> None:
        """Let running handlers and messages end (nothing in flight is handed over)."""
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and all(t.done() for t in self._tasks))
        for t in self._tasks:
            t.result()  # a failed task fails the case rather than being forgotten

    def _state(self) -> FraudState:
        assert self.registration is not None
        return FraudState(
            registration=self.registration,
            status=self.status,
            reports=list(self.reports),
            opening_answered=self._opening_answered,
            check_outcome=self.check_outcome,
            outcome_at=self.outcome_at,
            subscriber=self.subscriber,
            suspension=self.suspension,
            notices=list(self.notices),
            deadlines=dict(self.clock.states),
            documents=list(self.documents),
            instructions=list(self.instructions),
            complaints=list(self.complaints),
            blocked_steps=list(self.blocked_steps),
        )

    def _take_over(self, s: FraudState) -> None:
        """The state the previous run handed over (its first activation)."""
        self.registration, self.status, self._status_underneath = s.registration, s.status, s.status
        self.reports = list(s.reports)
        self._refs = {r.report.ref for r in s.reports}
        self._refs_by_way_in = {(r.report.way_in.value, r.report.ref) for r in s.reports}
        self._opening_answered = s.opening_answered
        self.check_outcome, self.outcome_at, self.suspension = s.check_outcome, s.outcome_at, s.suspension
        self.notices = list(s.notices)
        self.clock.states = dict(s.deadlines)
        self.documents, self.instructions, self.complaints = list(s.documents), list(s.instructions), s.complaints
        self.blocked_steps, self._blocks_seen = list(s.blocked_steps), len(s.blocked_steps)
        self.subscriber = s.subscriber
        if s.subscriber is not None:  # looked up once per check: the next run asks the registry no more
            looked_up: asyncio.Future[SubscriberRecord] = asyncio.get_running_loop().create_future()
            looked_up.set_result(s.subscriber)
            self._subscriber_lookup = looked_up

    async def _suspend(self) -> None:
        """p.120: suspend services to the number and inform the centre, each within 2 working days."""
        assert self.outcome_at is not None and self.check_outcome is not None
        self.set_status(Status.SUSPENDING)
        await self.clock.open("suspension", "fraud.suspension", self.outcome_at, counted_from="day")
        await self.clock.open("suspension_notice", "fraud.suspension_notice", self.outcome_at, counted_from="day")
        notice = self._notice(NoticeKind.SUSPENSION, cite("171", "p.120"))
        self._spawn(self._network(NetworkAction.SUSPEND, f"fraud confirmed ({cite('171', 'p.120')})"))
        evidence = self.check_outcome.evidence
        self._spawn(self._send(notice, evidence=evidence))
        await asyncio.gather(
            self.clock.wait("suspension", lambda: self.suspension is not None),
            self.clock.wait("suspension_notice", lambda: notice.delivered_at is not None),
        )

    async def _restore(self) -> None:
        """The lift decision: services restored and the centre told, by the decision's reason."""
        assert self.lift is not None
        self.set_status(Status.RESTORING)
        # p.120 speaks of suspending, not of restoring: no paragraph governs it, and the citation says so
        restoration = law.item(ACT, "fraud.restoration").reference if self._notices_carry_subscriber else None
        notice = self._notice(NoticeKind.RESTORATION, restoration or cite("171", "p.120"))
        reason = self.lift.reason
        self._spawn(self._network(NetworkAction.RESTORE, reason))
        self._spawn(self._send(notice, reason=reason))
        await workflow.wait_condition(lambda: self.restoration is not None and notice.delivered_at is not None)

    async def _inform_not_confirmed(self) -> None:
        """p.120: the centre is told within 2 working days that the signs were not confirmed."""
        assert self.outcome_at is not None and self.check_outcome is not None
        self.set_status(Status.NOT_CONFIRMED_NOTICE)
        await self.clock.open("not_confirmed_notice", "fraud.not_confirmed_notice", self.outcome_at, counted_from="day")
        notice = self._notice(NoticeKind.NOT_CONFIRMED, cite("171", "p.120"))
        evidence = self.check_outcome.evidence
        self._spawn(self._send(notice, evidence=evidence))
        await self.clock.wait("not_confirmed_notice", lambda: notice.delivered_at is not None)

    async def _finish(self) -> FraudCaseView:
        """Let running handlers and messages end; reports that need a new check open the next cycle."""
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and all(t.done() for t in self._tasks))
        for t in self._tasks:
            t.result()  # a failed task fails the case rather than being forgotten
        pending = [r.report for r in self.reports if r.needs_new_check]
        if pending:
            following = FraudCaseInput(first=pending[0], cycle=self.cycle + 1, carried=pending[1:])
            if workflow.patched(CHECK_ENDS_ITS_CASE):
                workflow.upsert_memo({ENDED_CASE_MEMO: {"check": self.cycle}})
                begun = {"check": following.cycle, "after_run": workflow.info().run_id}
                intake = workflow.memo_value(INTAKE_MEMO, None)
                workflow.continue_as_new(
                    following, memo={BEGUN_CASE_MEMO: begun} | ({} if intake is None else {INTAKE_MEMO: intake})
                )
            workflow.continue_as_new(following)
        return self.view()

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
