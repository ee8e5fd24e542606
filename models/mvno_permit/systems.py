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
from rules.lawdata import TermValue

__all__ = [
    "CourtRestriction",
    "HearingWindowsRequest",
    "NoticeDay",
    "OfficeInterval",
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
    """Compute the notice days from ``start`` on, ``days`` calendar days, under the term values the case keeps."""

    start: datetime
    days: int = Field(default=30, ge=1, le=120)
    terms: dict[str, TermValue] = Field(default_factory=dict)
    """The case's recorded term values (its registration); empty: the values in force now."""


class OfficeInterval(BaseModel):
    """A stretch of a day when the provider's office works (665/NK Annex 1 item 8(2))."""

    starts_at: datetime
    ends_at: datetime


class NoticeDay(BaseModel):
    """If the hearing notice goes out during [starts_at, ends_at): the latest hearing, the earliest decision; and
    when the office works that day (a hearing may be set on a later day of the calendar)."""

    day: date
    starts_at: datetime
    ends_at: datetime
    hearing_due: Deadline
    """The hearing is held no later than this (``mvno.hearing_after_notice``, counted from the notice day)."""
    decision_not_before: datetime
    """00:00 Asia/Almaty of the earliest day the administrative act may be adopted."""
    notice_lead: Deadline | None = None
    """The earliest lawful act, counted back: the first working day D with the notice day no later than D minus
    ``mvno.hearing_notice_lead`` working days; due at the office's closing on D. Empty in calendars recorded
    before the backward reading (``decision_after_notice``)."""
    decision_after_notice: Deadline | None = None
    """The forward reading of calendars recorded before (notice day + 3 working days), kept so that their cases
    read as they were decided; it allowed the act one working day early after a notice on a day off."""
    office_hours: list[OfficeInterval] | None = None
    """When the office works that day: empty on a day off; ``None`` in calendars recorded before."""
    day_off: str | None = None
    """Why the day is not a working day (weekend, holiday, transfer), for messages."""

    @property
    def decision_term(self) -> Deadline:
        """The computation behind ``decision_not_before``: its term, citation and explanation."""
        term = self.notice_lead or self.decision_after_notice
        assert term is not None, "a notice day records how its earliest decision was computed"
        return term
