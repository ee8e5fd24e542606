"""The completeness check (665/NK p.6): within 2 working days of registration the employee decides, on the
system's proposal, whether the package is complete; if not, a reasoned refusal to consider it further.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.mvno_permit import CompletenessDecision, DecisionReceipt, propose_completeness
    from rules.law import cite

from workflows.mvno_permit.documents import PermitDocuments

__all__ = ["CompletenessCheck"]


class CompletenessCheck(PermitDocuments):
    """665/NK p.6."""

    async def _completeness_check(self, start: datetime, counted_from: str) -> bool:
        """The system proposes, the employee decides within the term; True when the package is complete."""
        s = self.state
        assert s.registration is not None and s.applicant_registry is not None
        key = self._k("completeness_check")
        await self.clock.open(key, "mvno.completeness_check", start, counted_from=counted_from)
        registered_on = s.registration.registered_on
        s.completeness_proposal = propose_completeness(s.application, registered_on, s.applicant_registry)
        await self._stage("completeness_check", "completeness_decision")
        await self._wait_stage(key, "completeness_check", lambda: self.state.decisions.completeness is not None)
        d = s.decisions.completeness
        assert d is not None
        self._event(
            "completeness_decision",
            "complete" if d.complete else "incomplete: " + "; ".join(d.reasons),
            cite("665/NK", "p.6"),
        )
        return d.complete

    async def _refuse_to_consider(self) -> None:
        """Reasoned refusal to consider further, signed by the head, to the personal account (p.6), on the
        registration day at the earliest (p.6)."""
        d = self.state.decisions.completeness
        assert d is not None
        await self._on_the_registration_day("the refusal to consider the application further")
        await self._send_refusal_to_consider(d.reasons)
        self.state.result_issued = True
        self.close("refused_to_consider", "refused_to_consider")
        await self._report("refused_to_consider")

    @workflow.update
    def completeness_decision(self, d: CompletenessDecision) -> DecisionReceipt:
        """The employee's completeness check result (665/NK p.6)."""
        self.state.accepting = ""
        self.state.decisions.completeness, self.state.decisions.completeness_at = d, workflow.now()
        return DecisionReceipt(
            accepted_at=workflow.now(),
            update="completeness_decision",
            note="qualification check next" if d.complete else "refusal to consider further",
        )

    @completeness_decision.validator
    def validate_completeness_decision(self, d: CompletenessDecision) -> None:
        self._ensure_accepting("completeness_decision")
