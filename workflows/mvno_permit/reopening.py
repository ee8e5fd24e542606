"""After a refusal the case stays open for a complaint (665/NK p.10): an upheld complaint's instruction reopens
it for a new decision at the stage it names (by default the stage that refused), as a new round. The window does
not close while a complaint about the case is still being considered: it is held open until the complaint's
outcome (the complaint tells the case through the ``complaint_notice`` Update every case takes).
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.case import (
        ACTION_NOT_REOPENABLE,
        ACTION_RECORDED_FOR_STAFF,
        ACTION_REOPENED,
        ComplaintInstruction,
        ComplaintRecord,
    )
    from models.deadlines import DeadlineStatus
    from models.mvno_permit import DecisionReceipt, ReopenInstruction, RoundDecisions
    from rules.law import cite
    from workflows.clock import Woke

from workflows.mvno_permit.base import PermitCase

__all__ = ["Reopening"]


class Reopening(PermitCase):
    """665/NK p.10."""

    @property
    def complaints(self) -> list[ComplaintRecord]:
        return self.state.complaints

    @complaints.setter
    def complaints(self, value: list[ComplaintRecord]) -> None:
        self.state.complaints = value

    async def _complaint_window(self) -> bool:
        """Wait for an upheld complaint's instruction within the complaint window, held open past its due instant
        while a complaint about the case is pending (until the complaint's outcome). True: reopened."""
        key = self._k("complaint_window")
        state = self.clock.states.get(key)  # open already when a run continued as new in the window takes it up
        if state is None:
            state = await self.clock.open(key, "mvno.complaint_window", workflow.now(), counted_from="day")
        self.state.accepting = "reopen"
        woke = await self.clock.within(key, lambda: self.state.reopen_request is not None, checkpoint=self._checkpoint)
        if woke is Woke.CHECKPOINT:  # a long history: the next run waits in the window
            await self._continue_as_new()
        reopened = woke is Woke.DONE
        held = ""
        if not reopened and self.pending_complaints():  # no command unless a complaint is pending at the due instant
            due = state.due
            pending = ", ".join(c.complaint_id for c in self.pending_complaints())
            self._event(
                "complaint_window_held",
                f"due {due.isoformat()}; held open while complaint {pending} is considered",
                state.deadline.cite,
            )
            await workflow.wait_condition(
                lambda: self.state.reopen_request is not None or not self.pending_complaints()
            )
            reopened = self.state.reopen_request is not None
            held = ", ".join(  # every complaint considered after the due instant, with its outcome so far
                f"{c.complaint_id} ({c.outcome or 'pending'})"
                for c in self.complaints
                if c.concluded_at is None or c.concluded_at > due
            )
            self.clock.extend(key, f"held open by complaint {held} until its outcome")
        if not reopened:
            self.state.accepting = ""
            self.clock.cancel(key)
            why = "no instruction to reopen the case" + (f"; held open by complaint {held}" if held else "")
            self._event("complaint_window_closed", why, state.deadline.cite)
            return False
        self.clock.met(key)
        return True

    def _in_complaint_window(self) -> bool:
        """Whether the run takes up a case continued as new while waiting in its complaint window."""
        window = self.clock.states.get(self._k("complaint_window"))
        return self.state.permit is None and window is not None and window.status is DeadlineStatus.OPEN

    def _next_round(self) -> tuple[str, datetime, str]:
        """A new round at the instructed stage: new terms (``#2`` keys), new documents (``r2/``)."""
        s = self.state
        instr, at = s.reopen_request, s.reopened_at
        assert instr is not None and at is not None and instr.stage is not None
        s.round += 1
        s.decisions = RoundDecisions()
        s.reopen_request = None
        self.closed, self.outcome, s.result_issued, s.overrun = False, None, False, None
        self._event(
            "reopened", f"complaint {instr.complaint_id}: {instr.reason}; back to {instr.stage}", cite("665/NK", "p.10")
        )
        return instr.stage, at, "registration"

    @workflow.update
    def reopen(self, instr: ReopenInstruction) -> DecisionReceipt:
        """An upheld complaint's instruction: the case is reopened for a new decision (665/NK p.10)."""
        stage = self._accept_reopen(instr)
        return DecisionReceipt(accepted_at=workflow.now(), update="reopen", note=f"back to {stage}")

    @reopen.validator
    def validate_reopen(self, instr: ReopenInstruction) -> None:
        self._ensure_accepting("reopen")

    async def on_complaint_instruction(self, instruction: ComplaintInstruction) -> str:
        """An upheld complaint's "reopen" instruction reopens a refused case for a new decision."""
        if instruction.action != "reopen":
            return ACTION_RECORDED_FOR_STAFF
        if self.state.accepting != "reopen":
            return ACTION_NOT_REOPENABLE.format(status=self.status)
        stage = self._accept_reopen(
            ReopenInstruction(complaint_id=instruction.complaint_id, stage=None, reason=instruction.reasons[:2000])
        )
        return ACTION_REOPENED.format(stage=stage)

    def _accept_reopen(self, instr: ReopenInstruction) -> str:
        self.state.accepting = ""
        if instr.stage is None:  # the stage that refused
            stage = "completeness_check" if self.outcome == "refused_to_consider" else "qualification_check"
            instr = instr.model_copy(update={"stage": stage})
        self.state.reopen_request, self.state.reopened_at = instr, workflow.now()
        return str(instr.stage)
