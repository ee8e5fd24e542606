"""A test-only procedure for the API and console tests: nested input (a discriminated union, a list of
sub-models), one decision with a validator, an operator event, a deadline, a document and an SMS.

The real procedures plug into the same registry; nothing here is registered globally.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.documents import render_document
    from activities.eds import EdsActivities
    from activities.sms import SmsActivities
    from infra.pseudonym import case_id as keyed_case_id
    from models.base import Model
    from models.documents import RenderDocumentRequest
    from models.eds import SignDocumentRequest
    from models.procedure import EventSpec, ProcedureSpec, Role, SenderError
    from models.sms import SmsRequest
    from models.types import BIN, IIN, AwareDatetime, KzMobile, NonEmptyStr
    from workflows.case import CaseWorkflow
    from workflows.outside import DOCUMENT_TIMEOUT

KEY = "demo_check"
BANK = Role.operator("bank")
ANTIFRAUD = Role.operator("antifraud_centre")


class Individual(Model):
    kind: Literal["individual"] = "individual"
    iin: IIN
    name: NonEmptyStr


class Company(Model):
    kind: Literal["company"] = "company"
    bin: BIN
    name: NonEmptyStr


class DocKind(StrEnum):
    CHARTER = "charter"
    LICENCE = "licence"


class Attachment(Model):
    kind: DocKind
    pages: int = Field(ge=1, le=500)


class DemoApplication(Model):
    """An application with a nested applicant (either kind) and its attachments."""

    applicant: Annotated[Individual | Company, Field(discriminator="kind")]
    phone: KzMobile
    received_at: AwareDatetime
    attachments: list[Attachment] = Field(min_length=1)


class CompletenessDecision(Model):
    complete: bool
    reason: str | None = Field(default=None, max_length=500)


class FeePaid(Model):
    amount: int = Field(gt=0)


def demo_case_id(inp: DemoApplication) -> str:
    ident = inp.applicant.iin if isinstance(inp.applicant, Individual) else inp.applicant.bin
    return keyed_case_id(KEY, ident, inp.received_at.isoformat())


@workflow.defn
class DemoCheck(CaseWorkflow):
    """Completeness check in 2 working days (665/NK p.6), an SMS and a notice, then a fee from the bank."""

    PROCEDURE = KEY

    def __init__(self) -> None:
        super().__init__()
        self.decision: CompletenessDecision | None = None
        self.fee: FeePaid | None = None
        self.withdrawn = False

    @workflow.run
    async def run(self, inp: DemoApplication) -> str:
        await self.register("665/NK", inp.received_at)
        self.set_status("completeness_check")
        await self.clock.open("completeness_check", "mvno.completeness_check", inp.received_at)
        await self.clock.wait("completeness_check", lambda: self.decision is not None or self.withdrawn)
        if self.withdrawn:
            self.close("withdrawn", "withdrawn")
            return "withdrawn"
        assert self.decision is not None
        cid = workflow.info().workflow_id
        outcome = "complete" if self.decision.complete else "returned"
        ref = await self.outside(
            render_document,
            RenderDocumentRequest(
                doc_id=f"{cid}/notice",
                case_id=cid,
                kind="notice",
                title="Completeness notice",
                template="_test_notice.html.j2",
                cite="665/NK p.6",
                context={"name": inp.applicant.name},
            ),
            what="documents",
            timeout=DOCUMENT_TIMEOUT,
        )
        await self.outside(
            EdsActivities.sign_document, SignDocumentRequest(doc_id=ref.doc_id), what="eds", timeout=DOCUMENT_TIMEOUT
        )
        ref.signed_by = "provider_head"
        self.documents.append(ref)
        await self.outside(
            SmsActivities.send_sms,
            SmsRequest(
                message_id=f"{cid}/decision",
                case_id=cid,
                to=inp.phone,
                sender="1414",
                text=f"Your application is {outcome}",
            ),
            what="sms_gateway",
        )
        if not self.decision.complete:
            self.close("returned", "returned")
            return "returned"
        self.set_status("awaiting_fee")
        await workflow.wait_condition(lambda: self.fee is not None)
        self.close("accepted", "accepted")
        return "accepted"

    def pending_events(self) -> list[str]:
        if self.status == "completeness_check" and self.decision is None and not self.withdrawn:
            return ["completeness_decision", "withdraw"]
        return ["fee_paid"] if self.status == "awaiting_fee" else []

    @workflow.update
    def withdraw(self) -> str:
        self.withdrawn = True
        return "withdrawn"

    @withdraw.validator
    def _check_withdraw(self) -> None:
        if self.status != "completeness_check":
            raise ApplicationError(
                "only an application under the completeness check can be withdrawn", type="EventDoesNotFit"
            )

    @workflow.update
    def completeness_decision(self, d: CompletenessDecision) -> str:
        self.decision = d
        return "recorded"

    @completeness_decision.validator
    def _check_decision(self, d: CompletenessDecision) -> None:
        if self.decision is not None:
            raise ApplicationError("the completeness decision was already recorded", type="EventDoesNotFit")
        if not d.complete and not (d.reason or "").strip():
            raise ValueError("a returned application needs the reason (665/NK p.6)")

    @workflow.update
    def fee_paid(self, f: FeePaid) -> str:
        self.fee = f
        return "paid"

    @fee_paid.validator
    def _check_fee(self, f: FeePaid) -> None:
        if self.status != "awaiting_fee":
            raise ApplicationError("no fee is due now", type="EventDoesNotFit")
        if f.amount != 1000:
            raise SenderError("the fee is 1000 tenge")


SPEC = ProcedureSpec(
    key=KEY,
    title="Demo completeness check",
    act_key="665/NK",
    workflow=DemoCheck,
    run=DemoCheck.run,
    input_model=DemoApplication,
    case_id=demo_case_id,
    start_roles=frozenset({Role.STAFF}),
    events=(
        EventSpec(
            "completeness_decision",
            CompletenessDecision,
            frozenset({Role.STAFF}),
            "Completeness decision",
            cite="665/NK p.6",
        ),
        EventSpec("fee_paid", FeePaid, frozenset({BANK}), "Fee paid"),
        EventSpec("withdraw", None, frozenset({Role.STAFF}), "Withdraw the application"),
    ),
    designated=frozenset({BANK}),  # the one bank that collects the fee
    statuses=("completeness_check", "returned", "awaiting_fee", "accepted", "withdrawn"),
)
