"""The whole state of a permit's case in one object: the workflow reads and writes it, and hands it whole to
the next run when the permit's case continues as new (yearly checkpoint, 665/NK Annex 1 item 11).

Read tolerantly (unknown fields ignored, as for activity results) and never echoed in errors.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from models.case import BlockedStep, ComplaintRecord, DocumentRef, InstructionRecord, Registration
from models.deadlines import DeadlineState
from models.mvno_permit.application import PermitApplication
from models.mvno_permit.decisions import (
    CompletenessDecision,
    ContractEvent,
    FinalDecision,
    HearingRecord,
    QualificationDecision,
    ReopenInstruction,
)
from models.mvno_permit.systems import NoticeDay, PermitRecordView, RegistryData
from models.mvno_permit.views import CaseEvent, Proposal, ServiceTermOverrun

__all__ = ["PermitLife", "PermitState", "RoundDecisions"]


class RoundDecisions(BaseModel):
    """One round's decisions and hearing; an upheld complaint that reopens the case starts a new round (p.10)."""

    completeness: CompletenessDecision | None = None
    """The completeness check result (p.6)."""
    completeness_at: datetime | None = None
    """When it was taken: the qualification term counts from it (p.7)."""
    qualification: QualificationDecision | None = None
    """The qualification check result (p.7)."""
    notice_at: datetime | None = None
    """When the preliminary decision and hearing notice went out (p.7)."""
    notice_day: NoticeDay | None = None
    """The notice's day from the recorded hearing calendar: the latest hearing, the earliest decision."""
    hearing_record: HearingRecord | None = None
    """The hearing as held (p.7)."""
    decision_open: bool = False
    """The decision after the hearing may be adopted (notice + 3 working days have passed, p.7)."""
    final: FinalDecision | None = None
    """The decision after the hearing (p.7)."""


class PermitState(BaseModel):
    """Everything a permit's case knows, from the application to the end of the permit."""

    model_config = ConfigDict(hide_input_in_errors=True)  # it holds personal data

    application: PermitApplication
    """The application as the portal handed it over (p.5)."""

    registration: Registration | None = None
    """Registration day and governing act version (p.6)."""
    status: str = "registered"
    closed: bool = False
    outcome: str | None = None
    documents: list[DocumentRef] = Field(default_factory=list)
    """Documents signed and delivered to the personal account, oldest first."""
    instructions: list[InstructionRecord] = Field(default_factory=list)
    """Instructions of upheld complaints that reached the case."""
    complaints: list[ComplaintRecord] = Field(default_factory=list)
    """Complaints about the case (registered, then concluded); a pending one holds the complaint window open."""
    blocked_steps: list[BlockedStep] = Field(default_factory=list)
    """Steps an outside system refused and staff resumed."""
    deadlines: dict[str, DeadlineState] = Field(default_factory=dict)
    """Every legal term of the case by key, in the order opened (the case's clock keeps them here)."""

    applicant_registry: RegistryData | None = None
    """What the state registries said about the applicant (p.6)."""
    events: list[CaseEvent] = Field(default_factory=list)
    """The timeline, each step with its citation."""
    reports: int = 0
    """Stage reports sent to the monitoring system (p.8); numbers the next report's id."""
    accepting: str = ""
    """The one Update that fits now ("" while the case is working)."""
    result_issued: bool = False
    """This round's result (refusal or permit) is issued: the service term is met."""
    round: int = 1
    """1, then one more for each reopening after an upheld complaint (p.10)."""
    decisions: RoundDecisions = Field(default_factory=RoundDecisions)
    """This round's decisions."""
    completeness_proposal: Proposal | None = None
    qualification_proposal: Proposal | None = None
    windows: list[NoticeDay] = Field(default_factory=list, exclude=True)
    """The recorded hearing calendar, kept ahead while the qualification decision is awaited (p.7). Not carried
    into the next run: a run continues as new only once the permit is issued, when it is no longer needed."""
    overrun: ServiceTermOverrun | None = None
    """The hearing pushed the decision past the service term (Annex 1 item 4)."""
    reopen_request: ReopenInstruction | None = None
    reopened_at: datetime | None = None

    permit: PermitRecordView | None = None
    """The permit as the state system of permits holds it (p.9)."""
    validity_n: int = 1
    """Which validity term runs: 1, then one more for each extension (Annex 5 condition 2)."""
    contract_events: list[ContractEvent] = Field(default_factory=list)
    """Base-operator contract events not yet acted on (Annex 5)."""


class PermitLife(BaseModel):
    """The input of a permit's next run as the code before ``PermitState`` wrote it at the yearly checkpoint,
    ``[PermitApplication, PermitLife]``. Read only, so runs continued that way keep going."""

    registration: Registration
    applicant_registry: RegistryData
    deadlines: list[DeadlineState]
    documents: list[DocumentRef]
    events: list[CaseEvent]
    permit: PermitRecordView
    validity_n: int
    round: int
    reports: int
    status: str
    outcome: str | None = None
    contract_events: list[ContractEvent] = Field(default_factory=list)
    completeness_proposal: Proposal | None = None
    qualification_proposal: Proposal | None = None
    overrun: ServiceTermOverrun | None = None
    hearing_record: HearingRecord | None = None

    def to_state(self, application: PermitApplication) -> PermitState:
        """The same case as one ``PermitState``."""
        return PermitState(
            application=application,
            registration=self.registration,
            status=self.status,
            outcome=self.outcome,
            documents=list(self.documents),
            deadlines={d.key: d for d in self.deadlines},
            applicant_registry=self.applicant_registry,
            events=list(self.events),
            reports=self.reports,
            round=self.round,
            decisions=RoundDecisions(hearing_record=self.hearing_record),
            completeness_proposal=self.completeness_proposal,
            qualification_proposal=self.qualification_proposal,
            overrun=self.overrun,
            permit=self.permit,
            validity_n=self.validity_n,
            contract_events=list(self.contract_events),
        )
