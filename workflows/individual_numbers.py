"""Subscriber numbers for an individual (act 171 as amended by 554/NK, p.55-1…55-6).

Up to ten numbers in total are registered on application (p.55-1). More than ten need the purposes,
the justification, the devices with their identification codes (incl. machine-to-machine) and a
confirmation of accuracy (p.55-2, 55-3); an employee reviews them within the p.57(16) term (data to
be confirmed, ``numbers.review``) and registers or refuses with the reason (p.55-4). A new
application after the reasons are removed refers to the refused one (p.55-5). Numbers are registered
on the basis of a contract (p.55-6): the signed application of the EDS signing procedure.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.documents import render_document
    from activities.numbers import NumbersRegisterActivities
    from activities.personal_account import PersonalAccountActivities
    from activities.sms import SmsActivities
    from models.case import EventDoesNotFit
    from models.individual_numbers import (
        LIMIT,
        REGISTER_REFUSED,
        ContractSignedRequest,
        NumbersApplicationInput,
        NumbersDecisionRecord,
        NumbersHeld,
        NumbersHeldRequest,
        NumbersResult,
        NumbersReviewDecision,
        PriorApplicationRequest,
        RegisterNumbersRequest,
        held_by_others,
        over_the_limit,
    )
    from models.procedure import EventSpec, Governs, ProcedureSpec, Role
    from models.sms import SMS_FROM_TEMPLATES, SmsRequest
    from rules import law
    from rules.law import cite, cite_range
    from rules.text import Sentence
    from workflows.case import CaseWorkflow
    from workflows.subscriber_common import cause_type, result_document

__all__ = ["ANSWER_DELIVERED", "LIMIT", "SPEC", "IndividualNumbers"]

ANSWER_DELIVERED = "numbers-answer-delivered"
"""``workflow.patched`` id: the answer (registered, or refused with its reason) is delivered to the applicant as a
document in the personal account and by SMS. Cases begun before it only recorded the answer."""


@workflow.defn
class IndividualNumbers(CaseWorkflow):
    """One individual's application to register subscriber numbers."""

    PROCEDURE = "individual_numbers"
    TERMS = ("numbers.review",)

    def __init__(self) -> None:
        super().__init__()
        self.inp: NumbersApplicationInput | None = None
        self.decision: NumbersReviewDecision | None = None
        self.in_review = False
        self.held_before = 0
        self.held: NumbersHeld | None = None
        self.result: NumbersResult | None = None
        # Decided once, at the case's first activation, so the patch marker always sits at the same place.
        self._answer_delivered = self.patches.patched(ANSWER_DELIVERED)
        self._sms_from_templates = self.patches.patched(SMS_FROM_TEMPLATES)

    @workflow.run
    async def run(self, inp: NumbersApplicationInput) -> NumbersResult:
        self.inp = inp
        await self.register("171", inp.received_at)
        if inp.refers_to_case_id:
            prior = await self.outside(
                NumbersRegisterActivities.prior_application,
                PriorApplicationRequest(case_id=inp.refers_to_case_id, iin=inp.iin),
                what="numbers_register",
            )
            if prior.outcome != "refused" or not prior.same_applicant:
                return await self._finish(
                    "refused",
                    "the application referred to is not a refused application of this applicant",
                    cite("171", "p.55-5"),
                )
        if not await self.outside(
            NumbersRegisterActivities.contract_signed,
            ContractSignedRequest(contract_case_id=inp.contract_case_id, iin=inp.iin),
            what="numbers_register",
        ):
            return await self._finish(
                "refused",
                "numbers are registered on the basis of a contract; no signed "
                "application to join the public contract of this applicant was found",
                cite("171", "p.55-6"),
            )
        held = await self._numbers_held()
        self.held_before = held.count
        if held.held_by_others:
            return await self._finish(
                "refused",
                held_by_others(len(held.held_by_others)),
                cite("171", "p.55-1"),
            )
        new = [n for n in inp.numbers if n not in held.already_held]
        total = held.count + len(new)
        if total <= LIMIT:
            return await self._finish("registered", None, cite("171", "p.55-1"), new)
        if inp.justification is None:
            return await self._finish(
                "refused",
                over_the_limit(total, LIMIT),
                cite("171", "p.55-2", "p.55-3"),
            )
        self.in_review = True
        self.set_status("review")
        await self.clock.open("review", "numbers.review", inp.received_at, label=f"review of more than {LIMIT} numbers")
        await self.clock.wait("review", lambda: self.decision is not None)
        self.in_review = False
        decision = self.decision
        assert decision is not None
        if decision.approve:
            return await self._finish("registered", None, cite("171", "p.55-4"), new)
        return await self._finish("refused", decision.reason, cite("171", "p.55-4"))

    async def _numbers_held(self) -> NumbersHeld:
        assert self.inp is not None
        self.held = await self.outside(
            NumbersRegisterActivities.numbers_held,
            NumbersHeldRequest(iin=self.inp.iin, numbers=list(self.inp.numbers)),
            what="numbers_register",
        )
        return self.held

    async def _deliver_answer(self, outcome: str, reason: str | None, cite: str, registered: list[str]) -> None:
        """The answer with its reason (p.55-4: "refuses stating the reason") to the applicant's personal account as
        a document, and by SMS to the applicant's number when the application gives one."""
        assert self.inp is not None
        held = self.held or await self._numbers_held()
        refused = outcome != "registered"
        title = "Refusal to register subscriber numbers" if refused else "Subscriber numbers registered"
        details = {"numbers applied for": str(len(self.inp.numbers)), "registered": ", ".join(registered) or "—"}
        doc = await result_document(
            self,
            kind="numbers_answer",
            title=title,
            outcome=outcome,
            reason=reason,
            cite=cite,
            recipient=held.applicant_ref,
            details=details,
        )
        self.documents.append(doc)
        if self.inp.phone is not None:
            why = f": {reason}" if reason else ""
            await self.outside(
                SmsActivities.send_sms,
                SmsRequest(
                    message_id=f"{workflow.info().workflow_id}/answer",
                    case_id=workflow.info().workflow_id,
                    to=self.inp.phone,
                    sender=str(law.item("almatel-eds", "sender.operator").value),
                    **(
                        {
                            "template": "numbers_answer",
                            "params": {
                                "outcome": outcome,
                                "count": str(len(self.inp.numbers)),
                                "reason": reason or "",
                                "cite": cite,
                            },
                        }
                        if self._sms_from_templates
                        else {
                            "text": f"Your application for {len(self.inp.numbers)} subscriber numbers: "
                            f"{outcome}{why} ({cite}). The answer is in your personal account."
                        }
                    ),
                ),
                what="sms_gateway",
            )

    async def _finish(self, outcome: str, reason: str | None, cite: str, new: list[str] | None = None) -> NumbersResult:
        assert self.inp is not None
        wid = workflow.info().workflow_id
        registered: list[str] = []
        if outcome == "registered" and new:
            try:
                registered = await self.outside(
                    NumbersRegisterActivities.register_numbers,
                    RegisterNumbersRequest(
                        case_id=wid,
                        iin=self.inp.iin,
                        numbers=new,
                        contract_case_id=self.inp.contract_case_id,
                        limit=None if self.decision is not None and self.decision.approve else LIMIT,
                    ),
                    what="numbers_register",
                    expected=(REGISTER_REFUSED,),
                )
            except ActivityError as exc:  # another application took a number, or the limit, meanwhile
                kind, message = cause_type(exc)
                if kind != REGISTER_REFUSED:
                    raise
                outcome, reason, cite = "refused", message, law.cite("171", "p.55-1")
        await self.outside(
            NumbersRegisterActivities.record_numbers_decision,
            NumbersDecisionRecord(
                case_id=wid,
                iin=self.inp.iin,
                outcome=outcome,
                reason=reason,
                refers_to_case_id=self.inp.refers_to_case_id,
            ),
            what="numbers_register",
        )
        if self._answer_delivered:
            await self._deliver_answer(outcome, reason, cite, registered)
        self.close(outcome, outcome)
        self.result = NumbersResult(
            outcome="registered" if outcome == "registered" else "refused",
            reason=reason,
            cite=cite,
            held_before=self.held_before,
            registered=registered,
            refers_to_case_id=self.inp.refers_to_case_id,
            decided_at=workflow.now(),
        )
        await self.handlers_finished()
        return self.result

    def pending_events(self) -> list[str]:
        return ["review_decision"] if self.in_review and self.decision is None else []

    def details(self) -> dict[str, Any]:
        """The answer and its reason once decided (p.55-4), for the case view of the API, console and CLI."""
        facts: dict[str, Any] = {"numbers_applied_for": len(self.inp.numbers) if self.inp else 0}
        if self.result is not None:
            facts.update(self.result.model_dump(mode="json", exclude={"refers_to_case_id"}))
        return facts

    @workflow.update
    def review_decision(self, decision: NumbersReviewDecision) -> str:
        """The employee registers the numbers or refuses with the reason (171 p.55-4)."""
        self.decision = decision
        return "registered" if decision.approve else "refused"

    @review_decision.validator
    def validate_review_decision(self, decision: NumbersReviewDecision) -> None:
        if not self.in_review or self.decision is not None:
            raise EventDoesNotFit(
                Sentence("the application is not under review (status: {status})", status=Sentence.word(self.status))
            )


def _case_id(inp: NumbersApplicationInput) -> str:
    """The keyed case id, computed at the edge (the API's start path), never by workflow code."""
    from infra.pseudonym import case_id  # at the edge only: the key comes from settings

    return case_id("individual_numbers", inp.iin, inp.received_at.isoformat(), *inp.numbers)


SPEC = ProcedureSpec(
    key=IndividualNumbers.PROCEDURE,
    title=f"Subscriber numbers for an individual ({cite_range('171', 'p.55-1', 'p.55-6')})",
    act_key="171",
    workflow=IndividualNumbers,
    run=IndividualNumbers.run,
    input_model=NumbersApplicationInput,
    case_id=_case_id,
    start_roles=frozenset({Role.STAFF, Role.operator("almatel")}),
    designated=frozenset({Role.operator("almatel")}),  # the operator's own system
    events=(
        EventSpec(
            "review_decision",
            NumbersReviewDecision,
            frozenset({Role.STAFF}),
            f"Register more than {LIMIT} numbers or refuse with the reason",
            cite("171", "p.55-4"),
            terms=("numbers.review",),
        ),
    ),
    # 55-1: up to ten numbers; more only on an application with purposes and evidence (55-2, 55-3)
    governs=lambda inp: Governs(
        "171", ("p.55-1", "p.55-6", *(("p.55-2", "p.55-3") if inp.justification else ())), inp.received_at
    ),
    activities=(
        NumbersRegisterActivities.prior_application,
        NumbersRegisterActivities.contract_signed,
        NumbersRegisterActivities.numbers_held,
        NumbersRegisterActivities.register_numbers,
        NumbersRegisterActivities.record_numbers_decision,
        render_document,
        PersonalAccountActivities.deliver_to_personal_account,
        SmsActivities.send_sms,
    ),
    result_model=NumbersResult,
    statuses=("review", "registered", "refused"),
)
