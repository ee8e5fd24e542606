"""A test-only procedure carrying a person's data through registration, a legal term, a hearing, a decision
and a document: the audit tools (codec, replay, report, administrative case) are tested on its histories."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow

from models.base import Model
from models.case import DocumentRef
from models.procedure import ProcedureSpec
from models.types import IIN, AwareDatetime, KzMobile, NonEmptyStr
from workflows.case import CaseWorkflow
from workflows.outside import ACTIVITY_RETRY

PROCEDURE = "audit_probe"
DOCUMENTS: dict[str, bytes] = {}  # the test's document store: doc_id -> bytes


class Applicant(Model):
    iin: IIN
    full_name: NonEmptyStr
    phone: KzMobile
    address: NonEmptyStr


class ProbeApplication(Model):
    applicant: Applicant
    received_at: AwareDatetime


class Hearing(Model):
    at: AwareDatetime
    place: NonEmptyStr


class Decision(Model):
    approve: bool
    note: NonEmptyStr


class DocumentRequest(BaseModel):
    case_id: str
    kind: str
    applicant: Applicant
    note: str


class ProbeResult(BaseModel):
    outcome: str
    document: DocumentRef


@activity.defn
async def issue_probe_document(req: DocumentRequest) -> DocumentRef:
    """Render a letter addressed to the applicant (idempotent: one document per case and kind)."""
    doc_id = f"{req.case_id}-{req.kind}"
    body = f"<p>{req.kind} for {req.applicant.full_name}, {req.applicant.address}: {req.note}</p>".encode()
    DOCUMENTS.setdefault(doc_id, body)
    return DocumentRef(
        doc_id=doc_id,
        kind=req.kind,
        title=f"{req.kind.title()} letter",
        cite="665/NK p.8",
        sha256=hashlib.sha256(DOCUMENTS[doc_id]).hexdigest(),
        created_at=activity.info().started_time,
    )


@workflow.defn
class AuditProbe(CaseWorkflow):
    """Registration, the 7-working-day service term, an optional hearing, a decision and its letter."""

    PROCEDURE = PROCEDURE

    def __init__(self) -> None:
        super().__init__()
        self.application: ProbeApplication | None = None
        self.decision: Decision | None = None
        self.hearing: Hearing | None = None

    @workflow.run
    async def run(self, app: ProbeApplication) -> ProbeResult:
        self.application = app
        await self.register("665/NK", app.received_at)
        await self.clock.open("service_term", "mvno.service_term", app.received_at)
        self.set_status("under_review")
        await self.clock.wait("service_term", lambda: self.decision is not None)
        assert self.decision is not None
        doc = await workflow.execute_activity(
            issue_probe_document,
            DocumentRequest(
                case_id=workflow.info().workflow_id,
                kind="permit" if self.decision.approve else "refusal",
                applicant=app.applicant,
                note=self.decision.note,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ACTIVITY_RETRY,
        )
        self.documents.append(doc)
        self.close("approved" if self.decision.approve else "refused")
        return ProbeResult(outcome=self.outcome or "", document=doc)

    @workflow.update
    def hold_hearing(self, hearing: Hearing) -> str:
        self.hearing = hearing
        self.set_status("hearing_scheduled")
        return f"hearing on {hearing.at.isoformat()}"

    @hold_hearing.validator
    def _check_hearing(self, hearing: Hearing) -> None:
        if self.decision is not None:
            raise ValueError("the case is decided already")

    @workflow.update
    def decide(self, decision: Decision) -> str:
        self.decision = decision
        return "recorded"

    @decide.validator
    def _check_decision(self, decision: Decision) -> None:
        if self.decision is not None:
            raise ValueError("the case is decided already")


@workflow.defn(name="AuditProbe")
class AuditProbeChanged(AuditProbe):
    """Today's code after a careless change: a pause before registering (the replay of old cases diverges)."""

    @workflow.run
    async def run(self, app: ProbeApplication) -> ProbeResult:
        await workflow.sleep(timedelta(seconds=5))
        return await super().run(app)


SPEC = ProcedureSpec(
    key=PROCEDURE,
    title="Audit probe",
    act_key="665/NK",
    workflow=AuditProbe,
    run=AuditProbe.run,
    input_model=ProbeApplication,
    case_id=lambda app: f"{PROCEDURE}-{app.applicant.iin}",
    start_roles=frozenset(),
    statuses=("under_review", "hearing_scheduled", "closed"),
)
"""The probe as a catalogue entry, for the commands that check a procedure's key and statuses (``audit``'s
filters): it is in no catalogue."""
