"""What a permit's case shows and returns: the system's proposals, the timeline, the service-term overrun,
the ``permit_case`` query and the workflow's result.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from models.case import ActNotBefore
from models.mvno_permit.decisions import HearingProposal, HearingRecord, RefusalGround
from models.mvno_permit.systems import PermitRecordView, RegistryData

if TYPE_CHECKING:
    from rules.calendar import WorkingCalendar

__all__ = ["CaseEvent", "PermitCaseView", "PermitOutcome", "Proposal", "ServiceTermOverrun"]


class Proposal(BaseModel):
    """The system's pre-check: what it proposes to the employee, and why."""

    stage: str
    passes: bool
    findings: list[str] = Field(default_factory=list)
    findings_said: list[dict[str, Any]] = Field(default_factory=list)
    """Each finding as a sentence's data (``rules.text.Sentence.data``), for the console to say in its language;
    empty in views of cases that did not give it."""
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
    applicant_name: str = ""
    """The applicant as the application names it (the organisation, or the individual's full name)."""
    applicant_identifier: str = ""
    """The applicant's BIN (a legal entity) or IIN (an individual)."""
    applicant_registry: RegistryData | None = None
    """What the state registries said of the applicant (665/NK p.6), beside the application's own data."""
    completeness_proposal: Proposal | None = None
    qualification_proposal: Proposal | None = None
    preliminary_grounds: list[RefusalGround] = Field(default_factory=list)
    """The grounds of the preliminary decision to refuse (665/NK p.7), when one was taken in this round."""
    preliminary_findings: str | None = None
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
    not_before: list[ActNotBefore] = Field(default_factory=list)
    """What the law forbids yet: the hearing is not recorded before its notified time, the decision after it not
    before the first working day the notice precedes by the notice term (665/NK p.7)."""

    def hearing_on_a_day_off(self, calendar: WorkingCalendar) -> datetime | None:
        """The hearing's instant when it is still to be held on a day ``calendar`` does not count as a working day:
        a calendar correction made after it was set turned its day into a day off (665/NK Annex 1 item 8: the
        office's hours are on working days). Nothing moves a hearing by itself: it is shown for a person to act on;
        ``None`` otherwise."""
        if self.hearing is None or self.hearing_record is not None or self.permit is not None:
            return None
        at = self.hearing.at
        return None if calendar.is_working_day(calendar.to_local(at).date()) else at
