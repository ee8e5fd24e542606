"""Complaint appeal against a procedure's decision, action or inaction (58 p.10; 665/NK p.10;
Law "On public services" art. 25 p.2; APPC art. 91 p.5).

Read top to bottom like the law: registered by the calendar, and the appealed case told it is under complaint;
within 3 working days the provider fully satisfies the complaint (which instructs the appealed case) or forwards it
with the administrative case (automatically at the deadline if nobody acts); the considering body decides within 5
(provider, art. 25 p.2) or 15 (quality body, 58 p.10 / 665/NK p.10) working days of registration; an upheld decision
instructs the appealed case; the appealed case is told the complaint is concluded; the complainant gets the decision
as a signed document in the personal account and an SMS; then a court appeal is allowed. A withdrawal ends the
complaint without a review.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.complaints import (
        build_administrative_case,
        complainant_account,
        describe_appealed_case,
        forward_to_review_body,
        instruct_appealed_case,
        tell_appealed_case,
    )
    from activities.documents import render_document
    from activities.eds import EdsActivities
    from activities.personal_account import PersonalAccountActivities
    from activities.sms import SmsActivities
    from models.case import ComplaintNotice, DocumentRef
    from models.complaint import (
        COMPLAINT_ACTS,
        DEFAULT_COMPLAINT_ACT,
        WITHDRAWAL_IS_NOT_A_REVIEW,
        AddressedTo,
        Appealed,
        AppealedCase,
        ComplaintInput,
        ForwardRequest,
        InstructionOutcome,
        InstructRequest,
        NoticeRequest,
        ReviewDecision,
        ReviewOutcome,
        Satisfaction,
        Withdrawal,
    )
    from models.deadlines import DeadlineStatus
    from models.documents import DeliverDocumentRequest, RenderDocumentRequest
    from models.eds import SignDocumentRequest
    from models.procedure import EventSpec, Governs, ProcedureSpec, Role
    from models.sms import SMS_FROM_TEMPLATES, SmsRequest
    from rules.law import cite, item
    from rules.text import Sentence
    from workflows.case import CaseWorkflow
    from workflows.outside import CASE_FILE_HEARTBEAT

__all__ = [
    "DOCUMENTS_CITE_THEIR_ACT",
    "DOCUMENTS_SIGNED_AND_DELIVERED",
    "RESULTS_ON_THE_REGISTRATION_DAY",
    "SATISFACTION_INSTRUCTS",
    "SPEC",
    "TELLS_APPEALED_CASE",
    "WITHDRAWAL_IS_NOT_A_REVIEW",
    "Complaint",
]
_REVIEW_TERM = {
    AddressedTo.PROVIDER: "complaint.review_provider",
    AddressedTo.QUALITY_BODY: "complaint.review_quality_body",
}
_COURT_LAW = item("665/NK", "complaint.court").law
"""The outside law of the court appeal after the pre-trial appeal (the data's ``complaint.court`` item): APPC."""
_APPEAL = "; ".join((cite("58", "p.10"), cite("665/NK", "p.10")))
"""The appeal paragraphs of both acts a complaint is filed under."""

# workflow.patched ids, decided once at the case's first activation (``Complaint.__init__``), so their markers always
# sit in the first workflow task, but for those whose text says when they are asked (only on the path that needs
# them); complaints started before them replay the old path. WITHDRAWAL_IS_NOT_A_REVIEW
# (from ``models.complaint``, the compliance report reads it): a withdrawal cancels the review term (withdrawn).
DOCUMENTS_CITE_THEIR_ACT = "complaint-documents-cite-their-act"
"""A complaint's documents cite the p.10 of its own act (58 or 665/NK), where they cited both (an adversarial run,
2026-12-03: a letter under 58 cited 665/NK too). Asked when the first document is rendered."""
SATISFACTION_INSTRUCTS = "complaint-satisfaction-instructs-appealed-case"
"""The provider's full satisfaction reaches the appealed case as an instruction, as an upheld decision does."""
DOCUMENTS_SIGNED_AND_DELIVERED = "complaint-documents-signed-and-delivered"
"""Satisfaction, decision and withdrawal documents are signed (CMS) and delivered to the personal account."""
TELLS_APPEALED_CASE = "complaint-tells-appealed-case"
"""The appealed case is told when the complaint is registered and when it is concluded (its complaint window)."""
FORWARD_TERM_PASSED_ESCALATED = "complaint-forward-term-passed-escalated"
"""Asked only when the provider's forwarding term had passed before the case could forward it (a complaint registered
late, received days before): the breach is recorded and escalated before the automatic forwarding, as every breach
is. Before it the term was only recorded as met late, with no escalation and nothing in the supervisors' inbox (an
adversarial run, 2026-12-04)."""
RESULTS_ON_THE_REGISTRATION_DAY = "complaint-results-on-the-registration-day"
"""Asked only when the provider satisfies a complaint before the office opens on its registration day (a complaint
received after hours is registered on the next working day, 665/NK p.6): the satisfaction is taken and carried out
(its letter dated, signed and delivered) when the office opens that day. Complaints before it issued the letter at
once, dated before the registration it names (an adversarial run, 2026-12-03). A forwarding goes at once: it is the
provider's act towards the considering body, whose review counts from its own receipt."""
QUALITY_BODY_REVIEW_FROM_ITS_RECEIPT = "complaint-quality-body-review-from-its-receipt"
"""Asked only for a complaint addressed to the quality body, at its registration: the body's 15 working days count
from its own registration of the complaint, which it receives when the provider forwards it (58 p.10: "received by
the authorized body ... within 15 working days from the date of its registration"), and the term opens then. Before
it they counted from the provider's registration, so a complaint the provider forwarded late reached the body with
its term breached on arrival (an adversarial run, 2026-12-04). The provider's 5 (art. 25 p.2) are its own review,
from its registration, as before."""
_SIGNER = {"satisfied": "provider_head", "decision": "complaint_body"}
"""Who signs each document: the provider's head its own decision satisfying the complaint, the considering body's
official its decision; a withdrawal is acknowledged by whoever holds the complaint (``_withdrawal_signer``)."""


@workflow.defn
class Complaint(CaseWorkflow):
    """One complaint, from registration to the court-appeal notice."""

    PROCEDURE = "complaint"
    TERMS = ("complaint.forward", "complaint.review_provider", "complaint.review_quality_body")  # 58 p.10; 665/NK p.10

    def __init__(self) -> None:
        super().__init__()
        self.inp: ComplaintInput | None = None
        self.appealed_case: AppealedCase | None = None
        self.satisfaction: Satisfaction | None = None
        self.forward_request: ForwardRequest | None = None
        self.forwarded_at: datetime | None = None
        self.forward_receipt_at: datetime | None = None  # the considering body's receipt (its clock)
        self.auto_forwarded = False
        self.review: ReviewDecision | None = None
        self.withdrawal: Withdrawal | None = None
        self.instruction_outcome: InstructionOutcome | None = None
        self.court_appeal_allowed_from: datetime | None = None
        self.appealed_case_told = False  # the appealed case took the notice that it is under complaint
        self.recipient: str | None = None  # the complainant's personal account (a pseudonym)
        self.carried_out_from: datetime | None = None  # a satisfaction waiting for the office to open (665/NK p.6)
        self._review_at_the_body = False  # QUALITY_BODY_REVIEW_FROM_ITS_RECEIPT
        self._withdrawal_apart = self.patches.patched(WITHDRAWAL_IS_NOT_A_REVIEW)
        self._satisfaction_instructs = self.patches.patched(SATISFACTION_INSTRUCTS)
        self._documents_signed = self.patches.patched(DOCUMENTS_SIGNED_AND_DELIVERED)
        self._tells_appealed_case = self.patches.patched(TELLS_APPEALED_CASE)
        self._sms_from_templates = self.patches.patched(SMS_FROM_TEMPLATES)

    @workflow.run
    async def run(self, inp: ComplaintInput) -> dict[str, Any]:
        self.inp = inp
        if inp.appealed_case_id:
            appealed = _appealed_args(inp.appealed_case_id, inp.appealed_run_id)
            self.appealed_case = await self.outside(describe_appealed_case, *appealed, what="temporal")
        await self.register(inp.governing_act, inp.received_at)
        self.set_status("provider_review")
        await self.clock.open("forward", "complaint.forward", inp.received_at)
        self._review_at_the_body = inp.addressed_to is AddressedTo.QUALITY_BODY and workflow.patched(
            QUALITY_BODY_REVIEW_FROM_ITS_RECEIPT
        )
        if not self._review_at_the_body:
            await self.clock.open("review", _REVIEW_TERM[inp.addressed_to], inp.received_at)
        await self._tell_appealed_case("registered")  # its complaint window waits for this complaint

        # The provider's 3 working days: satisfy fully, or forward (58 p.10; 665/NK p.10).
        acted = await self.clock.until_due(
            "forward",
            lambda: self._provider_acted() or self.withdrawal is not None,
            margin=self.timings.auto_forward_margin,
        )
        if self.withdrawal is not None:
            return await self._withdrawn()
        if self.satisfaction is not None:
            await self._on_the_registration_day("satisfied")
            self.clock.met("forward")
            self.clock.cancel("review", "satisfied" if self._withdrawal_apart else None)
            if self._satisfaction_instructs and self.appealed_case is not None:
                # The provider's own decision fully meets the complaint: it reaches the appealed case (a refused
                # permit reopens) exactly as an upheld decision does.
                self.instruction_outcome = await self._instruct(
                    "satisfied", self.satisfaction.instruction_for(inp.appealed), self.satisfaction.action_taken
                )
            await self._tell_appealed_case("concluded", "satisfied")
            await self._notify("satisfied", "complaint_satisfied.html.j2", "Complaint satisfied by the provider")
            return await self._end("satisfied", "satisfied")
        if not acted:
            if workflow.now() >= self.clock.get("forward").due and workflow.patched(FORWARD_TERM_PASSED_ESCALATED):
                await self.clock.breach("forward")
            self.auto_forwarded = True
            term_days = self.clock.get("forward").deadline.amount
            self.forward_request = ForwardRequest(forwarded_by=f"system ({term_days}-working-day term reached)")
        await self._forward()
        if self._review_at_the_body:  # from the body's registration of what it received now (58 p.10)
            assert self.forwarded_at is not None  # the case's clock as the forwarding was handed over
            await self.clock.open("review", _REVIEW_TERM[inp.addressed_to], self.forwarded_at)

        # The considering body's review term: 5 working days (provider, art. 25 p.2) or 15 (quality body, p.10).
        self.set_status("under_review")
        if self._withdrawal_apart:
            on_time = await self._review_term()
        else:  # cases started before: a withdrawal woke the wait and was recorded as the review (met)
            on_time = await self.clock.wait("review", lambda: self.review is not None or self.withdrawal is not None)
        if self.withdrawal is not None:
            return await self._withdrawn()
        assert self.review is not None
        self.set_status("decided" if on_time else "decided_late")
        if self.review.outcome is not ReviewOutcome.REJECTED and self.review.instruction and self.appealed_case:
            self.instruction_outcome = await self._instruct(
                self.review.outcome.value, self.review.instruction, self.review.reasons
            )
        # APPC art. 91 p.5: the pre-trial appeal has ended; a court appeal is allowed from now.
        self.court_appeal_allowed_from = workflow.now()
        await self._tell_appealed_case("concluded", self.review.outcome.value)
        await self._notify("decision", "complaint_decision.html.j2", "Decision on the complaint")
        return await self._end(self.review.outcome.value, "decided")

    # -- steps ---------------------------------------------------------------------------------

    def _provider_acted(self) -> bool:
        return self.satisfaction is not None or self.forward_request is not None

    async def _review_term(self) -> bool:
        """The considering body's review term, met by its decision (True when in time). A withdrawal is not a
        review: before the due instant it cancels the term (``withdrawn``); after a breach the term stays breached,
        the review never done."""

        def decided_or_withdrawn() -> bool:
            return self.review is not None or self.withdrawal is not None

        if await self.clock.until_due("review", decided_or_withdrawn):
            if self.review is None:
                self.clock.cancel("review", "withdrawn")
                return False
            return self.clock.met("review").status is DeadlineStatus.MET
        await self.clock.breach("review")
        await workflow.wait_condition(decided_or_withdrawn)
        if self.review is not None:
            self.clock.met("review")
        return False

    async def _instruct(self, decision: str, action: str, reasons: str) -> InstructionOutcome:
        """The decision that meets the complaint reaches the appealed case as a recorded instruction."""
        assert self.appealed_case is not None
        return await self.outside(
            instruct_appealed_case,
            InstructRequest(
                case_id=self.appealed_case.case_id,
                run_id=self.appealed_case.run_id,
                first_run_id=self.appealed_case.first_run_id,
                case_run_id=self.appealed_case.latest_run_id,
                complaint_id=workflow.info().workflow_id,
                decision=decision,
                action=action,
                reasons=reasons,
                decided_at=workflow.now(),
            ),
            what="temporal",
        )

    async def _tell_appealed_case(self, stage: str, outcome: str | None = None) -> None:
        """Tell a running appealed case that this complaint about it is registered (its complaint window then waits
        for the complaint's outcome) or concluded (only a case that took the first notice)."""
        appealed = self.appealed_case
        if not self._tells_appealed_case or appealed is None or not appealed.exists or not appealed.running:
            return
        if stage == "concluded" and not self.appealed_case_told:
            return
        assert self.registration is not None
        told = await self.outside(
            tell_appealed_case,
            NoticeRequest(
                case_id=appealed.case_id,
                run_id=appealed.run_id,
                first_run_id=appealed.first_run_id,
                case_run_id=appealed.latest_run_id,
                notice=ComplaintNotice(
                    complaint_id=workflow.info().workflow_id,
                    stage=stage,
                    registered_on=self.registration.registered_on,
                    outcome=outcome,
                ),
            ),
            what="temporal",
        )
        if stage == "registered":
            self.appealed_case_told = told.delivered

    async def _forward(self) -> None:
        """Send the complaint and the administrative case to the considering body."""
        assert self.inp is not None and self.forward_request is not None
        case_id = workflow.info().workflow_id
        self.set_status("forwarding")
        if self.appealed_case is not None and self.appealed_case.exists:
            c = self.appealed_case  # the case it is about, whatever opened since under its id
            appealed = _appealed_args(c.case_id, c.run_id, c.first_run_id, c.latest_run_id)
            admin_case = await self.outside(
                build_administrative_case,
                *appealed,
                what="documents",
                timeout=self.timings.case_file_timeout,
                heartbeat=CASE_FILE_HEARTBEAT,
            )
            self.documents.append(admin_case)
        self.forward_receipt_at = await self.outside(
            forward_to_review_body,
            case_id,
            self.forward_request.body,
            [d.doc_id for d in self.documents],
            what="review_body",
        )
        self.forwarded_at = workflow.now()
        self.clock.met("forward")

    async def _notify(self, kind: str, template: str, title: str) -> DocumentRef:
        """The outcome of the complaint as a document, signed with the EDS of whoever decided it (CMS) and put in
        the complainant's personal account, and an SMS saying it is there."""
        assert self.inp is not None
        case_id = workflow.info().workflow_id
        doc = await self.outside(
            render_document,
            RenderDocumentRequest(
                doc_id=f"{case_id}/{kind}",
                case_id=case_id,
                kind=kind,
                title=title,
                template=template,
                cite=self._document_cite(kind),
                context=self._document_context(),
            ),
            what="documents",
            timeout=self.timings.document_timeout,
        )
        if self._documents_signed:
            role = _SIGNER.get(kind) or self._withdrawal_signer()
            check = await self.outside(
                EdsActivities.sign_document, SignDocumentRequest(doc_id=doc.doc_id, role=role), what="eds"
            )
            if self.recipient is None:
                self.recipient = await self.outside(
                    complainant_account, self.inp.complainant.iin, what="personal_account"
                )
            await self.outside(
                PersonalAccountActivities.deliver_to_personal_account,
                DeliverDocumentRequest(doc_id=doc.doc_id, case_id=case_id, recipient=self.recipient),
                what="personal_account",
            )
            doc = doc.model_copy(update={"signed_by": check.subject})
        self.documents.append(doc)
        await self.outside(
            SmsActivities.send_sms,
            SmsRequest(
                message_id=f"{case_id}/{kind}",
                case_id=case_id,
                to=self.inp.complainant.phone,
                sender="EGOV",
                **(
                    {
                        "template": "complaint_document",
                        "params": {"complaint_number": self.inp.complaint_number, "kind": kind},
                    }
                    if self._sms_from_templates
                    else {
                        "text": f"Complaint {self.inp.complaint_number}: {title.lower()}. The document is in your "
                        "personal account on egov.kz."
                    }
                ),
            ),
            what="sms_gateway",
        )
        return doc

    def _withdrawal_signer(self) -> str:
        """A withdrawal is acknowledged by the considering body once the complaint was forwarded, else by the
        provider's authorised official."""
        return "complaint_body" if self.forwarded_at is not None else "authorised_person"

    def _review_cite(self) -> str:
        """The review term's citation as the case recorded it: art. 25 p.2 for 5 working days (provider), the act's
        p.10 for the quality body's 15 (as its registration recorded the term, while the body has not received it)."""
        if "review" in self.clock.states:
            return self.clock.get("review").deadline.cite
        assert self.inp is not None and self.registration is not None
        return self.registration.terms[_REVIEW_TERM[self.inp.addressed_to]].reference

    def _document_cite(self, kind: str) -> str:
        """What a document rests on: the appeal paragraph of the complaint's act (both acts' in cases begun before
        ``DOCUMENTS_CITE_THEIR_ACT``), and for a decision the review term's citation and the court appeal after it
        (APPC art. 91 p.5); each citation once."""
        parts = [cite("58", "p.10"), cite("665/NK", "p.10")]
        if self.inp is not None and workflow.patched(DOCUMENTS_CITE_THEIR_ACT):
            parts = [cite(self.inp.governing_act, "p.10")]
        if kind == "decision":
            parts += [self._review_cite(), _COURT_LAW]
        return "; ".join(dict.fromkeys(parts))

    def _document_context(self) -> dict[str, Any]:
        assert self.inp is not None
        return {
            "complaint": self.inp.model_dump(mode="json"),
            # what the documents show of the registration; the law's terms stay in the case's record
            "registration": self.registration.model_dump(mode="json", exclude={"terms", "migrations", "timings"})
            if self.registration
            else None,
            "satisfaction": self.satisfaction.model_dump(mode="json") if self.satisfaction else None,
            "review": self.review.model_dump(mode="json") if self.review else None,
            "instruction_outcome": self.instruction_outcome.model_dump(mode="json")
            if self.instruction_outcome
            else None,
            "court_appeal_allowed_from": self.court_appeal_allowed_from.isoformat()
            if self.court_appeal_allowed_from
            else None,
            "review_cite": self._review_cite(),
            "court_law": _COURT_LAW,
        }

    async def _withdrawn(self) -> dict[str, Any]:
        reason = "withdrawn" if self._withdrawal_apart else None
        self.clock.cancel("forward", reason)
        self.clock.cancel("review", reason)
        await self._tell_appealed_case("concluded", "withdrawn")
        await self._notify("withdrawn", "complaint_withdrawn.html.j2", "Complaint withdrawn")
        return await self._end("withdrawn", "withdrawn")

    async def _end(self, outcome: str, status: str) -> dict[str, Any]:
        self.close(outcome, status)
        await self.handlers_finished()
        return self.details()

    # -- what staff and the considering body send ------------------------------------------------

    def pending_events(self) -> list[str]:
        if self.closed:
            return []
        if self.satisfaction is not None or self.review is not None or self.withdrawal is not None:
            return []  # decided (or withdrawn): the documents are on their way, nothing is left to withdraw
        events = ["withdraw"]
        if self.forwarded_at is None and not self._provider_acted():
            events += ["satisfy", "forward"]
        elif self.forwarded_at is not None and self.review is None:
            events.append("review_decision")
        return events

    def _refuse_unless_pending(self, event: str) -> None:
        if event not in self.pending_events():
            raise ApplicationError(
                f"'{event}' does not fit the complaint now (status {self.status}); "
                f"possible now: {', '.join(self.pending_events()) or self._nothing_now()}",
                type="EventNotAllowed",
            )

    def _held_until(self) -> datetime | None:
        """When the office opens on the registration day, while that is still ahead, for a complaint that holds its
        results until then (``RESULTS_ON_THE_REGISTRATION_DAY``, asked only then); else ``None``."""
        reg = self.registration
        if reg is None or reg.results_from is None or workflow.now() >= reg.results_from:
            return None
        return reg.results_from if workflow.patched(RESULTS_ON_THE_REGISTRATION_DAY) else None

    async def _on_the_registration_day(self, status: str) -> None:
        """A satisfaction taken before the office opens on the registration day is carried out then (665/NK p.6);
        the case shows ``status`` meanwhile."""
        if (at := self._held_until()) is not None:
            self.set_status(status)
            self.carried_out_from = at
            await self.clock.not_before(at)
            self.carried_out_from = None

    def _issued_when(self, said: str) -> str:
        """An Update's answer, saying when a held decision is carried out."""
        if (at := self._held_until()) is None:
            return said
        return (
            f"{said}; it is carried out when the office opens on the registration day, {at:%Y-%m-%d %H:%M} "
            f"Asia/Almaty ({cite('665/NK', 'p.6')})"
        )

    def _nothing_now(self) -> str:
        return "nothing, the complaint is closed" if self.closed else "nothing while the decision is carried out"

    @workflow.update
    def satisfy(self, decision: Satisfaction) -> str:
        """The provider fully satisfies the complaint within its 3 working days (not forwarded)."""
        self.satisfaction = decision
        return self._issued_when("recorded: the complaint is satisfied and will not be forwarded")

    @satisfy.validator
    def validate_satisfy(self, decision: Satisfaction) -> None:
        self._refuse_unless_pending("satisfy")
        if decision.instruction and self.appealed_case is None:
            raise ValueError(Sentence("this complaint names no appealed case to instruct"))

    @workflow.update(name="forward")
    def forward_complaint(self, request: ForwardRequest) -> str:
        """The provider forwards the complaint and the administrative case before the deadline."""
        self.forward_request = request
        return "recorded: the complaint and the administrative case are being forwarded"

    @forward_complaint.validator
    def validate_forward(self, request: ForwardRequest) -> None:
        self._refuse_unless_pending("forward")

    @workflow.update
    def review_decision(self, decision: ReviewDecision) -> str:
        """The considering body's decision: upheld, partly upheld or rejected, with reasons."""
        self.review = decision
        return f"recorded: complaint {decision.outcome.value}"

    @review_decision.validator
    def validate_review_decision(self, decision: ReviewDecision) -> None:
        self._refuse_unless_pending("review_decision")
        if decision.instruction and self.appealed_case is None:
            raise ValueError(Sentence("this complaint names no appealed case to instruct"))

    @workflow.update
    def withdraw(self, withdrawal: Withdrawal) -> str:
        """The complainant withdraws the complaint."""
        self.withdrawal = withdrawal
        return "recorded: the complaint is withdrawn"

    @withdraw.validator
    def validate_withdraw(self, withdrawal: Withdrawal) -> None:
        self._refuse_unless_pending("withdraw")

    def details(self) -> dict[str, Any]:
        inp = self.inp
        return {
            # what the complaint says (staff read it on the case page)
            "complaint_number": inp.complaint_number if inp else None,
            "complainant": inp.complainant.full_name if inp else None,
            "received_at": inp.received_at.isoformat() if inp else None,
            "appealed": inp.appealed.value if inp else None,
            "appealed_case_id": inp.appealed_case_id if inp else None,
            "appealed_run_id": inp.appealed_run_id if inp else None,
            "description": inp.description if inp else None,
            "request": inp.request if inp else None,
            "act_key": inp.governing_act if inp else None,
            "appealed_case": self.appealed_case.model_dump(mode="json") if self.appealed_case else None,
            "about_complaint_id": self.inp.about_complaint_id if self.inp else None,
            "addressed_to": self.inp.addressed_to.value if self.inp else None,
            "forwarded_at": self.forwarded_at.isoformat() if self.forwarded_at else None,
            "auto_forwarded": self.auto_forwarded,
            "satisfied": self.satisfaction is not None,
            "carried_out_from": self.carried_out_from.isoformat() if self.carried_out_from else None,
            "review": self.review.model_dump(mode="json") if self.review else None,
            "instruction_outcome": self.instruction_outcome.model_dump(mode="json")
            if self.instruction_outcome
            else None,
            "court_appeal_allowed_from": self.court_appeal_allowed_from.isoformat()
            if self.court_appeal_allowed_from
            else None,
            "withdrawn": self.withdrawal is not None,
            "appealed_case_told": self.appealed_case_told,
        }


def _complaint_case_id(inp: ComplaintInput) -> str:
    """The keyed case id, computed at the edge (the API's start path), never by workflow code."""
    from infra.pseudonym import case_id  # at the edge only: the key comes from settings

    return case_id("complaint", inp.complaint_number, inp.complainant.iin)


def _appealed_args(case_id: str, *runs: str | None) -> list[str | None]:
    """An activity's arguments naming the appealed case: its id, the run the complaint names (an earlier case of an
    id that names several), and the runs it was registered in. Those unknown at the end are left out: a complaint
    naming no run, registered where the server does not say the chain, passes the arguments recorded before."""
    args: list[str | None] = [case_id, *runs]
    while args[-1] is None:
        args.pop()
    return args


async def _act_of_the_appealed_case(client: Any, inp: ComplaintInput) -> ComplaintInput:
    """The complaint completed, or refused, by the case it names (the start's edge).

    Its act is the appealed case's where that case is under 58 or 665/NK (the act whose p.10 governs a complaint
    about it), else ``DEFAULT_COMPLAINT_ACT``: the complaint is registered, and its after-hours receipt rolled, under
    it; an ``act_key`` given that differs is refused. A complaint naming no case keeps the act given, else the
    default. A complaint about a complaint body's inaction names a complaint (``about_complaint_id``) and appeals it:
    ``appealed_case_id`` is filled with it, and another case there is refused. A complaint received before the case
    it appeals is refused, and one about a decision received before that case first decided (a term met, or its
    close), or while it has decided nothing. What is filled in is recorded in the case's input (adversarial runs,
    2026-12-03, 2026-12-04)."""
    from infra.cases import CaseError, refused, registered_case  # at the edge only
    from workflows.catalogue import by_key

    if inp.about_complaint_id is not None:
        field, named = "about_complaint_id", inp.about_complaint_id
        if inp.appealed_case_id not in (None, named):
            given = "appealed_application_number" if inp.appealed_application_number else "appealed_case_id"
            raise refused(
                "{field}: a complaint about a complaint body's inaction appeals that complaint; name "
                "about_complaint_id's case or leave it out",
                field=given,
            )
        inp = inp.model_copy(update={"appealed_case_id": named})
    elif inp.appealed_case_id is not None:
        field = "appealed_application_number" if inp.appealed_application_number else "appealed_case_id"
        named = inp.appealed_case_id
    else:
        return inp.model_copy(update={"act_key": inp.governing_act})
    try:
        case = await registered_case(client, named, inp.appealed_run_id)
    except CaseError:
        if inp.appealed_run_id is None:
            raise
        raise refused("appealed_run_id: no run of the case named by {field} has this id", field=field) from None
    if field == "about_complaint_id" and case.procedure != Complaint.PROCEDURE:
        raise refused("about_complaint_id: names a {procedure} case, not a complaint", procedure=case.procedure)
    if case.received_at is not None and inp.received_at < case.received_at:
        raise refused(
            "received_at: before the receipt of the case named by {field} ({received}); a complaint is received "
            "after what it appeals",
            field=field,
            received=case.received,
        )
    acted = case.first_act_at
    if (
        inp.appealed is Appealed.DECISION
        and case.received_at is not None
        and (acted is None or inp.received_at < acted)
    ):
        if acted is None:
            raise refused(
                "appealed: the case named by {field} has decided nothing yet; a complaint about a decision is received "
                "after it (appeal its action or inaction instead)",
                field=field,
            )
        raise refused(
            "received_at: before the first decision of the case named by {field} ({decided}); a complaint about a "
            "decision is received after it",
            field=field,
            decided=case.first_act,
        )
    spec = by_key().get(case.procedure)
    its = case.act_key or (spec.act_key if spec is not None else None)
    act = its if its in COMPLAINT_ACTS else DEFAULT_COMPLAINT_ACT
    if inp.act_key is not None and inp.act_key != act:
        if act == its:
            raise refused(
                "act_key: the case named by {field} is under act {act}, whose p.10 governs a complaint about it; "
                "leave act_key out or give {act}",
                field=field,
                act=act,
            )
        raise refused(
            "act_key: the case named by {field} is under act {its}, a complaint about it is under {act}; leave "
            "act_key out or give {act}",
            field=field,
            its=str(its),
            act=act,
        )
    return inp.model_copy(update={"act_key": act})


SPEC = ProcedureSpec(
    key=Complaint.PROCEDURE,
    title="Complaint appeal",
    act_key="665/NK",
    workflow=Complaint,
    run=Complaint.run,
    input_model=ComplaintInput,
    case_id=_complaint_case_id,
    start_roles=frozenset({Role.STAFF}),
    governs=lambda inp: Governs(inp.governing_act, ("p.10",), inp.received_at),
    start_at_the_edge=_act_of_the_appealed_case,
    events=(
        EventSpec("satisfy", Satisfaction, frozenset({Role.STAFF}), "Fully satisfy the complaint", _APPEAL),
        EventSpec(
            "forward",
            ForwardRequest,
            frozenset({Role.STAFF}),
            "Forward with the administrative case",
            _APPEAL,  # the case's own act is on its forward term
            terms=("complaint.forward",),
        ),
        EventSpec(
            "review_decision",
            ReviewDecision,
            frozenset({Role.STAFF, Role.SUPERVISOR}),
            "Decision of the considering body",
            _APPEAL,  # the review term's own citation (art. 25 p.2 or p.10) is the case's recorded deadline's
            terms=("complaint.review_provider", "complaint.review_quality_body"),
        ),
        EventSpec("withdraw", Withdrawal, frozenset({Role.STAFF}), "Withdraw the complaint", elective=True),
    ),
    activities=(
        describe_appealed_case,
        instruct_appealed_case,
        tell_appealed_case,
        build_administrative_case,
        forward_to_review_body,
        render_document,
        EdsActivities.sign_document,
        complainant_account,
        PersonalAccountActivities.deliver_to_personal_account,
        SmsActivities.send_sms,
    ),
    statuses=("provider_review", "forwarding", "under_review", "decided", "decided_late", "satisfied", "withdrawn"),
)
