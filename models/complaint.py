"""Complaint appeals (58 p.10; 665/NK p.10; Law on public services art. 25): inputs, events, results."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from models.base import Model
from models.case import ComplaintNotice
from models.types import IIN, RUN_ID_PATTERN, AwareDatetime, KzMobile, NonEmptyStr

__all__ = [
    "COMPLAINT_ACTS",
    "DEFAULT_COMPLAINT_ACT",
    "WITHDRAWAL_IS_NOT_A_REVIEW",
    "AddressedTo",
    "Appealed",
    "AppealedCase",
    "Complainant",
    "ComplaintInput",
    "ForwardRequest",
    "InstructRequest",
    "InstructionOutcome",
    "NoticeOutcome",
    "NoticeRequest",
    "ReviewDecision",
    "ReviewOutcome",
    "Satisfaction",
    "Withdrawal",
]


WITHDRAWAL_IS_NOT_A_REVIEW = "complaint-withdrawal-is-not-a-review"
"""``workflow.patched`` id (``workflows.complaint``): a withdrawal records the review term cancelled (withdrawn), never
met. Declared here because the compliance report (``audit.report``) reads histories recorded before it."""

COMPLAINT_ACTS = ("58", "665/NK")
"""The acts whose p.10 governs a complaint appeal: a complaint about a case under one of them is under that act."""

DEFAULT_COMPLAINT_ACT = "665/NK"
"""The act of a complaint whose appealed case is under none of ``COMPLAINT_ACTS`` (or that names no case)."""

INSTRUCTIONS = "^(reopen|lift_suspension|reconsider)$"
"""What a complaint's decision (or the provider's satisfaction) may instruct the appealed case to do."""


class Appealed(StrEnum):
    """What is appealed."""

    DECISION = "decision"
    ACTION = "action"
    INACTION = "inaction"


class AddressedTo(StrEnum):
    """Who the complaint is addressed to; decides the review term (art. 25 p.2)."""

    PROVIDER = "provider"  # the service provider / official: 5 working days
    QUALITY_BODY = "quality_body"  # the authorised body for the quality of public services: 15 working days


class Complainant(Model):
    """The person complaining (personal data: encrypted in Temporal, never logged)."""

    full_name: NonEmptyStr
    iin: IIN
    phone: KzMobile


class ComplaintInput(Model):
    """A complaint as received by the provider."""

    complaint_number: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[\w\-/.]+$",
        description="the number the portal or the office gave the complaint",
    )
    complainant: Complainant
    appealed_case_id: str | None = Field(
        default=None, max_length=200, description="the case whose decision, action or inaction is appealed"
    )
    appealed_run_id: str | None = Field(
        default=None,
        pattern=RUN_ID_PATTERN,
        description="the run of the appealed case where its id names several (a fraud case closed and opened again "
        "under its number's id: the console and `audit export` show each case's run); by default the id's latest",
    )
    appealed_application_number: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[\w\-/.]+$",
        description="the appealed case named by its application's number instead of its case id (the case id is "
        "keyed per installation); the start resolves it through the search index and records both",
    )
    about_complaint_id: str | None = Field(
        default=None, max_length=200, description="for a complaint about a complaint body's inaction"
    )
    act_key: str | None = Field(
        default=None,
        pattern=f"^({'|'.join(COMPLAINT_ACTS)})$",
        description="the act whose p.10 governs: the start fills it from the appealed case (58 for a number "
        "connected to the e-government account, 665/NK for a permit or a case under neither act) and refuses a "
        "different one; a complaint naming no case keeps the one given, else 665/NK",
    )
    appealed: Appealed
    description: NonEmptyStr
    request: NonEmptyStr = Field(description="what the complainant asks for")
    addressed_to: AddressedTo
    received_at: AwareDatetime

    @property
    def governing_act(self) -> str:
        """The act whose p.10 governs the complaint (``act_key``, filled at the start's edge)."""
        return self.act_key or DEFAULT_COMPLAINT_ACT

    @model_validator(mode="after")
    def _inaction_complaint_names_the_first(self) -> ComplaintInput:
        if self.about_complaint_id is not None and self.appealed is not Appealed.INACTION:
            raise ValueError("a complaint about a complaint body names the first complaint and appeals its inaction")
        return self

    @model_validator(mode="after")
    def _a_run_of_a_named_case(self) -> ComplaintInput:
        if self.appealed_run_id is not None and (
            self.about_complaint_id is not None
            or (self.appealed_case_id is None and self.appealed_application_number is None)
        ):
            raise ValueError("appealed_run_id names a run of the case named by appealed_case_id")
        return self


class Satisfaction(Model):
    """The provider's decision or action that fully satisfies the complaint (no forwarding). When the complaint
    names an appealed case the satisfaction reaches it as an instruction, as an upheld decision does."""

    decided_by: NonEmptyStr
    action_taken: NonEmptyStr
    instruction: str | None = Field(
        default=None,
        pattern=INSTRUCTIONS,
        description="what the appealed case must do; by default reopen for an appealed decision, else reconsider",
    )

    def instruction_for(self, appealed: Appealed) -> str:
        """The instruction to the appealed case: the one given, else a new decision (``reopen``) when a decision
        is appealed (a complaint against a decision is fully met only by a new decision), else ``reconsider``
        (staff act on it)."""
        return self.instruction or ("reopen" if appealed is Appealed.DECISION else "reconsider")


class ForwardRequest(Model):
    """Forward the complaint and the administrative case to the body considering it."""

    forwarded_by: NonEmptyStr = "system"
    body: NonEmptyStr = Field(default="higher administrative body", description="the body considering the complaint")


class ReviewOutcome(StrEnum):
    UPHELD = "upheld"
    PARTLY_UPHELD = "partly_upheld"
    REJECTED = "rejected"


class ReviewDecision(Model):
    """The reviewing body's decision, with reasons; upheld decisions carry the instruction for the case."""

    outcome: ReviewOutcome
    reasons: NonEmptyStr
    decided_by: NonEmptyStr
    instruction: str | None = Field(
        default=None,
        pattern=INSTRUCTIONS,
        description="what the appealed case must do when upheld",
    )

    @model_validator(mode="after")
    def _instruction_only_when_upheld(self) -> ReviewDecision:
        if self.outcome is ReviewOutcome.REJECTED and self.instruction:
            raise ValueError("a rejected complaint gives no instruction to the appealed case")
        return self


class Withdrawal(Model):
    """The complainant withdraws the complaint."""

    reason: NonEmptyStr


class AppealedCase(BaseModel):
    """What the engine knows of the appealed case."""

    case_id: str
    run_id: str | None = None
    """The run the complaint names (an earlier case of an id that names several); ``None``: the id's latest."""
    latest_run_id: str | None = None
    """The run described when the complaint was registered (the one named, else the id's latest then)."""
    first_run_id: str | None = None
    """The first run of that run's chain: the case the complaint is about follows it through its continuations as
    new, and no case opened later under the id is taken for it (``None``: a server that does not say)."""
    exists: bool
    procedure: str | None = None
    status: str | None = None
    running: bool = False


class InstructRequest(BaseModel):
    """Send an upheld complaint's instruction to the appealed case: the running run of the case of ``case_run_id`` in
    the chain of ``first_run_id`` (the run ``run_id`` the complaint names may have continued as new since), else
    the run named."""

    case_id: str
    run_id: str | None = None
    first_run_id: str | None = None
    case_run_id: str | None = None
    """A run of the case the complaint is about: the run it names, else the one read at its registration
    (``AppealedCase.latest_run_id``). A later case of the same chain is another case (a fraud case's next check)."""
    complaint_id: str
    decision: str
    action: str
    reasons: str
    decided_at: datetime


class InstructionOutcome(BaseModel):
    """What happened to the instruction in the appealed case."""

    delivered: bool
    action_taken: str


class NoticeRequest(BaseModel):
    """Tell the appealed case ``case_id`` (addressed as ``InstructRequest`` is) that a complaint about it was
    registered, or that it was concluded."""

    case_id: str
    run_id: str | None = None
    first_run_id: str | None = None
    case_run_id: str | None = None
    notice: ComplaintNotice


class NoticeOutcome(BaseModel):
    """Whether the appealed case took the notice (a closed case cannot)."""

    delivered: bool
    note: str = ""
