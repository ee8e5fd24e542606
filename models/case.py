"""What every case records about itself when it is registered (665/NK p.6)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from models.deadlines import DeadlineState

__all__ = [
    "BlockedStep",
    "CaseView",
    "ComplaintInstruction",
    "DocumentRef",
    "InstructionRecord",
    "Registration",
    "RegistrationRequest",
    "ResumeRequest",
]


class RegistrationRequest(BaseModel):
    """Register an application received at ``received_at`` under act ``act_key``."""

    act_key: str
    received_at: datetime


class Registration(BaseModel):
    """The registration day by the calendar, and the act version that governs the case."""

    act_key: str
    received_at: datetime
    registered_on: date
    after_hours_roll: str | None = None
    act_version_id: str
    act_basis: str
    act_in_force_from: date
    act_version_assumed: bool
    calendar_version: str


class DocumentRef(BaseModel):
    """A document a case produced (stored by the documents activity; the case keeps the reference)."""

    doc_id: str
    kind: str  # e.g. "permit", "refusal", "hearing_notice"
    title: str
    sha256: str
    signed_by: str | None = None
    cite: str = ""
    created_at: datetime


class ComplaintInstruction(BaseModel):
    """What an upheld complaint instructs the appealed case to do (58 p.10; 665/NK p.10)."""

    complaint_id: str
    decision: str = Field(pattern="^(upheld|partly_upheld)$")
    action: str = Field(description="e.g. reopen (new decision), lift_suspension, reconsider")
    reasons: str = Field(min_length=1, max_length=4000)
    decided_at: datetime


class InstructionRecord(BaseModel):
    """An instruction as the appealed case recorded it, with what the case did about it."""

    instruction: ComplaintInstruction
    received_at: datetime
    action_taken: str


class BlockedStep(BaseModel):
    """A step an outside system refused for good; the case waits for staff to resume it."""

    what: str
    error: str
    error_type: str = ""
    since: datetime
    status_before: str
    resumed_at: datetime | None = None
    resumed_by: str | None = None


class ResumeRequest(BaseModel):
    """Staff resume a blocked step once its cause is dealt with."""

    by: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=2000)


class CaseView(BaseModel):
    """A case as staff, operator systems and the console see it (the ``case`` query)."""

    case_id: str
    procedure: str
    status: str
    closed: bool = False
    outcome: str | None = None
    registration: Registration | None = None
    deadlines: list[DeadlineState] = []
    pending_events: list[str] = []
    documents: list[DocumentRef] = []
    instructions: list[InstructionRecord] = []
    details: dict[str, Any] = {}  # procedure-specific facts (no personal data beyond what staff may see)
    blocked: BlockedStep | None = None
    blocked_steps: list[BlockedStep] = []
