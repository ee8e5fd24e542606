"""The back office's decisions (171 p.119–120): the outcome of the check with its evidence, and the lift of a
suspension with its reason, which an upheld complaint's ``lift_suspension`` instruction gives too.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.case import (
        ACTION_NOTHING_TO_LIFT,
        ACTION_RECORDED,
        ACTION_SUSPENSION_LIFTED,
        ComplaintInstruction,
        EventDoesNotFit,
    )
    from models.fraud_check import CheckOutcome, FraudCaseView, LiftDecision
    from rules.text import Sentence

from workflows.fraud_check.base import FraudCase

__all__ = ["INSTRUCTION_LIFTS_SUSPENSION", "BackOfficeDecisions"]

INSTRUCTION_LIFTS_SUSPENSION = "fraud-instruction-lifts-suspension"
"""``workflow.patched`` id, asked only when an upheld complaint's ``lift_suspension`` instruction arrives: the
instruction lifts the suspension as the back office's decision does. Before it, the case only recorded it (an
adversarial run, 2026-12-05: the README said a suspension is lifted)."""


class BackOfficeDecisions(FraudCase):
    """171 p.119 (the check's outcome), p.120 (a suspension is lifted only by a recorded decision)."""

    @workflow.update
    def record_check_outcome(self, outcome: CheckOutcome) -> FraudCaseView:
        """The analyst's outcome of the check with its evidence (171 p.119)."""
        self.check_outcome = outcome
        self.outcome_at = workflow.now()
        return self.view()

    @record_check_outcome.validator
    def validate_record_check_outcome(self, outcome: CheckOutcome) -> None:
        if self.check_outcome is not None:
            verdict = Sentence("confirmed") if self.check_outcome.confirmed else Sentence("not confirmed")
            raise EventDoesNotFit(Sentence("the check outcome is already recorded ({verdict})", verdict=verdict))
        if self.registration is None:
            raise EventDoesNotFit(Sentence("the case is still being registered; try again in a moment"))

    @workflow.update
    def lift_suspension(self, decision: LiftDecision) -> FraudCaseView:
        """A back-office decision lifting the suspension, with its reason; network and centre follow."""
        self.lift = decision
        self.lift_at = workflow.now()
        return self.view()

    @lift_suspension.validator
    def validate_lift_suspension(self, decision: LiftDecision) -> None:
        if self.lift is not None:
            raise EventDoesNotFit(Sentence("the suspension is already lifted"))
        if self.suspension is None:
            raise EventDoesNotFit(
                Sentence(
                    "there is no suspension to lift (the case is at '{status}')", status=Sentence.word(self.status)
                )
            )

    async def on_complaint_instruction(self, instruction: ComplaintInstruction) -> str:
        """An upheld complaint's ``lift_suspension`` instruction lifts the suspension of a confirmed case (its reasons
        the lift's), one still being put in place once it is; another instruction, or one with nothing to lift (no
        confirmed outcome, lifted already), is recorded for staff."""
        if instruction.action != "lift_suspension" or not workflow.patched(INSTRUCTION_LIFTS_SUSPENSION):
            return ACTION_RECORDED
        confirmed = self.check_outcome is not None and self.check_outcome.confirmed
        if not confirmed or self.lift is not None or self.closed:
            return ACTION_NOTHING_TO_LIFT.format(status=self.status)
        # confirmed and still being suspended (the network slow): the lift waits for the suspension, then restores
        self.lift = LiftDecision(
            reason=instruction.reasons[:2000],
            decided_by=f"upheld complaint {instruction.complaint_id}"[:200],
            complaint_ref=instruction.complaint_id[:200],
        )
        self.lift_at = workflow.now()
        return ACTION_SUSPENSION_LIFTED
