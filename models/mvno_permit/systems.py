"""Inputs and results of the outside systems a permit's case calls: the state registries through the
e-government gateway (p.6), the monitoring system (p.8), the state system of permits (p.9) and the hearing
calendar (p.7).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from models.base import Model
from models.deadlines import Deadline
from rules import law

__all__ = [
    "CourtRestriction",
    "HearingWindowsRequest",
    "NoticeDay",
    "PermitChange",
    "PermitChangeRequest",
    "PermitEntryRequest",
    "PermitRecordView",
    "RegistryData",
    "RegistryLookupRequest",
    "StageReport",
]


class RegistryLookupRequest(Model):
    """Fetch the applicant's registration data and court restrictions through the e-government gateway."""

    case_id: str
    kind: Literal["individual", "legal_entity"]
    identifier: str
    at: datetime = Field(description="restrictions in force at this instant (the case's now)")


class CourtRestriction(BaseModel):
    """A court decision or verdict in force restricting the applicant (Annex 1 item 10(4), (5))."""

    kind: Literal["activity_ban", "special_right_deprivation"]
    court: str
    decision_ref: str
    in_force_on: date


class RegistryData(Model):
    """What the state registries say about the applicant (665/NK p.6)."""

    found: bool
    name: str | None = None
    active: bool = True
    restrictions: list[CourtRestriction] = Field(default_factory=list)
    recipient: str = Field(description="the applicant's pseudonym for the personal account")
    source: str = "local"


class StageReport(Model):
    """A stage of the service for the public-services monitoring system (665/NK p.8)."""

    report_id: str
    case_id: str
    procedure: str
    stage: str
    status: str
    at: datetime
    cite: str = law.cite("665/NK", "p.8")
    detail: str = ""


class PermitEntryRequest(Model):
    """Enter an issued permit in the state system of permits and notifications (665/NK p.9)."""

    case_id: str
    application_number: str
    holder_name: str
    holder_id: str
    holder_kind: str
    head_name: str | None = None
    issued_at: datetime
    valid_until: datetime
    basis: str


class PermitRecordView(BaseModel):
    """A permit as the registry holds it."""

    permit_number: str
    case_id: str
    application_number: str
    holder_name: str
    holder_id: str
    issued_on: date
    valid_through: date
    status: str
    basis: str


class PermitChange(StrEnum):
    TERMINATED = "terminated"
    EXTENDED = "extended"
    EXPIRED = "expired"


class PermitChangeRequest(Model):
    """A change of a registered permit; ``change_id`` makes a retry record it once."""

    change_id: str
    permit_number: str
    change: PermitChange
    effective_at: datetime
    valid_until: datetime | None = None
    reason: str
    cite: str


class HearingWindowsRequest(BaseModel):
    """Compute the notice days from ``start`` on, ``days`` calendar days."""

    start: datetime
    days: int = Field(default=30, ge=1, le=120)


class NoticeDay(BaseModel):
    """If the hearing notice goes out during [starts_at, ends_at): the latest hearing, the earliest decision."""

    day: date
    starts_at: datetime
    ends_at: datetime
    hearing_due: Deadline
    decision_after_notice: Deadline
    decision_not_before: datetime
