"""What a permit's case shows and returns: the system's proposals, the timeline, the service-term overrun,
the ``permit_case`` query and the workflow's result.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from models.mvno_permit.decisions import HearingProposal, HearingRecord, RefusalGround
from models.mvno_permit.systems import PermitRecordView

__all__ = ["CaseEvent", "PermitCaseView", "PermitOutcome", "Proposal", "ServiceTermOverrun"]


class Proposal(BaseModel):
    """The system's pre-check: what it proposes to the employee, and why."""

    stage: str
    passes: bool
    findings: list[str] = Field(default_factory=list)
    grounds: list[RefusalGround] = Field(default_factory=list)


class ServiceTermOverrun(BaseModel):
    """The hearing pushes the decision past the 7-working-day service term (665/NK Annex 1 item 4, p.7)."""

    service_term_due: datetime
    decision_not_before: datetime
    recorded_at: datetime
    explanation: str


class CaseEvent(BaseModel):
    """One step of the case, with its citation (the console's timeline)."""

    at: datetime
    kind: str
    detail: str = ""
    cite: str = ""


class PermitOutcome(BaseModel):
    """How a case ended (the workflow's result)."""

    outcome: str
    status: str
    permit_number: str | None = None
    documents: list[str] = Field(default_factory=list)


class PermitCaseView(BaseModel):
    """The procedure-specific part of a case (the ``permit_case`` query): proposals, hearing, overrun, permit."""

    status: str
    round: int
    application_number: str
    applicant_kind: str
    completeness_proposal: Proposal | None = None
    qualification_proposal: Proposal | None = None
    hearing: HearingProposal | None = None
    notice_sent_at: datetime | None = None
    hearing_latest: datetime | None = None
    decision_not_before: datetime | None = None
    """The earliest day the decision after the hearing may be adopted (00:00 Asia/Almaty), 665/NK p.7."""
    decision_not_before_why: str | None = None
    """How that day follows from the notice."""
    hearing_record: HearingRecord | None = None
    overrun: ServiceTermOverrun | None = None
    permit: PermitRecordView | None = None
    events: list[CaseEvent] = Field(default_factory=list)
    pending_events: list[str] = Field(default_factory=list)
