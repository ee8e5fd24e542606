"""The stand-in cases the workflow tests run: small on purpose. The worker's sandbox imports a workflow's module
afresh for every case it starts, so a probe defined in a test module re-ran that whole module (its tests, its
fixtures, its calendar) for each case: the clock, complaint and race tests spent 16 s of CPU, 11 s here."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow

from models.case import BEGUN_CASE_MEMO, ENDED_CASE_MEMO, ComplaintInstruction
from models.deadlines import DeadlineState
from models.sms import SmsRequest
from workflows.case import CaseWorkflow

with workflow.unsafe.imports_passed_through():
    from activities.sms import SmsActivities

__all__ = ["AppealedCase", "AppealedInput", "DeadlineProbe", "MetricsProbe", "ProbeInput", "TwoTermsProbe"]


class ProbeInput(BaseModel):
    received_at: datetime


@workflow.defn
class DeadlineProbe(CaseWorkflow):
    """A case with one 2-working-day term and an event that may or may not come."""

    PROCEDURE = "probe"

    def __init__(self) -> None:
        super().__init__()
        self.decided = False

    @workflow.run
    async def run(self, inp: ProbeInput) -> DeadlineState:
        await self.register("171", inp.received_at)
        await self.clock.open("check", "fraud.check", inp.received_at)
        await self.clock.wait("check", lambda: self.decided)
        return self.clock.get("check")

    @workflow.update
    def decide(self) -> None:
        self.decided = True


@workflow.defn
class TwoTermsProbe(CaseWorkflow):
    """A case with two terms open side by side; the first is met, the status is set again to the same value."""

    PROCEDURE = "probe"

    def __init__(self) -> None:
        super().__init__()
        self.decided = False

    @workflow.run
    async def run(self, inp: ProbeInput) -> None:
        await self.register("171", inp.received_at)
        self.set_status("check")
        await self.clock.open("check", "fraud.check", inp.received_at)
        await self.clock.open("later", "fraud.check", inp.received_at + timedelta(days=7))
        self.set_status("check")  # the same status again: nothing to publish
        await self.clock.wait("check", lambda: self.decided)
        self.clock.cancel("later")

    @workflow.update
    def decide(self) -> None:
        self.decided = True


class AppealedInput(BaseModel):
    received_at: datetime
    runs_left: int = 0
    """How many times the case continues as new once refused, the same case going on (a permit's yearly run)."""
    next_case_on_signal: bool = False
    """Once refused, it waits for the signal ``next_case`` and continues as new into the next case of its chain, as a
    fraud case's check before the next does (``BEGUN_CASE_MEMO``)."""


@workflow.defn
class AppealedCase(CaseWorkflow):
    """A stand-in for any procedure's case: it registers, has a deadline, and obeys instructions."""

    PROCEDURE = "appealed_probe"

    def __init__(self) -> None:
        super().__init__()
        self.reopened = False
        self.next_case = False

    @workflow.run
    async def run(self, inp: AppealedInput) -> str:
        await self.register("665/NK", inp.received_at)
        self.set_status("refused")
        await self.clock.open("completeness", "mvno.completeness_check", inp.received_at)
        self.clock.met("completeness")
        if inp.runs_left:
            workflow.continue_as_new(inp.model_copy(update={"runs_left": inp.runs_left - 1}))
        await workflow.wait_condition(lambda: self.reopened or self.next_case)
        if self.next_case:
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.upsert_memo({ENDED_CASE_MEMO: {"check": 1}})
            begun = {"check": 2, "after_run": workflow.info().run_id}
            workflow.continue_as_new(
                inp.model_copy(update={"next_case_on_signal": False}), memo={BEGUN_CASE_MEMO: begun}
            )
        return "reopened"

    @workflow.signal
    def go_on_to_the_next_case(self) -> None:
        self.next_case = True

    async def on_complaint_instruction(self, instruction: ComplaintInstruction) -> str:
        self.reopened = instruction.action == "reopen"
        self.set_status("completeness_check")
        return "reopened for a new decision" if self.reopened else "recorded"


@workflow.defn
class MetricsProbe(DeadlineProbe):
    """``DeadlineProbe``'s term and decision, then an SMS once decided."""

    PROCEDURE = "metrics_probe"

    @workflow.run
    async def run(self, inp: ProbeInput) -> DeadlineState:
        await super().run(inp)
        wid = workflow.info().workflow_id
        sms = SmsRequest(message_id=f"{wid}/sms", case_id=wid, to="+77011234567", sender="1414", text="decided")
        await self.outside(SmsActivities.send_sms, sms, what="sms_gateway")
        return self.clock.get("check")
