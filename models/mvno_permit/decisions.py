"""What staff and outside parties decide in a permit's case (the Updates), and the refusal grounds they cite
(665/NK p.6, p.7, p.10; Annex 1 item 10; Annex 5).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from models.base import Model
from models.mvno_permit.application import ShortStr
from models.types import BIN, AlmatyDatetime, AwareDatetime, NonEmptyStr
from rules import law

__all__ = [
    "CONTRACT_CITES",
    "GROUNDS",
    "CompletenessDecision",
    "ContractEvent",
    "ContractEventKind",
    "DecisionReceipt",
    "FinalDecision",
    "GroundText",
    "HearingProposal",
    "HearingRecord",
    "QualificationDecision",
    "RefusalGround",
    "ReopenInstruction",
]

# --- refusal grounds (Annex 1 item 10) --------------------------------------------------------


class RefusalGround(StrEnum):
    """The six grounds for refusal of 665/NK Annex 1 item 10."""

    UNRELIABLE_DOCUMENTS = "unreliable_documents"
    NON_COMPLIANT = "non_compliant"
    NEGATIVE_CONCLUSION = "negative_conclusion"
    COURT_BAN = "court_ban"
    SPECIAL_RIGHT_DEPRIVED = "special_right_deprived"
    NO_PERSONAL_DATA_CONSENT = "no_personal_data_consent"


class GroundText(BaseModel):
    """A refusal ground as documents show it: its citation and its texts (``rules/data/law/665-NK.toml``)."""

    cite: str
    en: str
    ru: str
    kk: str


def _ground(g: RefusalGround) -> GroundText:
    text = law.ground("665/NK", g.value)
    return GroundText(cite=text.reference, en=text.en, ru=text.ru, kk=text.kk)


GROUNDS: dict[RefusalGround, GroundText] = {g: _ground(g) for g in RefusalGround}
"""Each ground with its citation (e.g. ``665/NK Annex 1 item 10(1)``) and texts, read from the law's data."""


# --- staff decisions and outside events (Updates) ---------------------------------------------


class CompletenessDecision(Model):
    """The employee's completeness check result (665/NK p.6)."""

    complete: bool
    reasons: list[NonEmptyStr] = Field(
        default_factory=list, max_length=20, description="why the package is incomplete or documents expired"
    )
    decided_by: ShortStr

    @model_validator(mode="after")
    def _reasons(self) -> CompletenessDecision:
        if not self.complete and not self.reasons:
            raise ValueError("reasons: an incomplete package needs the reasons of the refusal to consider further")
        if self.complete and self.reasons:
            raise ValueError("reasons: a complete package has no refusal reasons")
        return self


class HearingProposal(Model):
    """Time, date and place (or means) of the hearing (665/NK p.7). The time is kept in Asia/Almaty, whatever zone
    it was given in; a time without a zone is Asia/Almaty time."""

    at: AlmatyDatetime
    place: ShortStr | None = None
    means: ShortStr | None = Field(default=None, description="e.g. video conference link or telephone")
    outside_office_hours_confirmed: bool = Field(
        default=False,
        description="the hearing is deliberately set outside the provider's office hours (a day off, before 9:00, "
        "the lunch break or from 18:30)",
    )

    @model_validator(mode="after")
    def _where(self) -> HearingProposal:
        if not (self.place or self.means):
            raise ValueError("hearing: give the place or the means (e.g. video conference) of the hearing")
        return self


class QualificationDecision(Model):
    """The qualification check result (665/NK p.7): compliant, or a preliminary refusal with a hearing."""

    compliant: bool
    grounds: list[RefusalGround] = Field(default_factory=list, max_length=6)
    findings: NonEmptyStr | None = Field(default=None, description="what was found, for the preliminary decision")
    hearing: HearingProposal | None = None
    decided_by: ShortStr

    @model_validator(mode="after")
    def _consistent(self) -> QualificationDecision:
        if self.compliant and (self.grounds or self.hearing):
            raise ValueError("grounds: a compliant applicant has no refusal grounds and no hearing")
        if not self.compliant:
            if not self.grounds:
                raise ValueError(f"grounds: name at least one ground of {law.cite('665/NK', 'Annex 1 item 10')}")
            if self.findings is None:
                raise ValueError("findings: say what was found (the preliminary decision is reasoned)")
            if self.hearing is None:
                raise ValueError("hearing: a preliminary refusal needs the hearing's time, date and place or means")
        return self


class HearingRecord(Model):
    """The hearing as held: the applicant's position on the preliminary decision (665/NK p.7)."""

    held_at: AwareDatetime
    applicant_attended: bool = True
    applicant_position: NonEmptyStr | None = None
    recorded_by: ShortStr

    @model_validator(mode="after")
    def _position(self) -> HearingRecord:
        if self.applicant_attended and self.applicant_position is None:
            raise ValueError("applicant_position: record the position the applicant stated")
        return self


class FinalDecision(Model):
    """The result after the hearing: the permit, or a reasoned refusal (665/NK p.7)."""

    grant: bool
    grounds: list[RefusalGround] = Field(default_factory=list, max_length=6)
    reasons: NonEmptyStr | None = None
    decided_by: ShortStr

    @model_validator(mode="after")
    def _reasoned(self) -> FinalDecision:
        if not self.grant and (not self.grounds or self.reasons is None):
            raise ValueError("reasons: a refusal names its grounds (Annex 1 item 10) and its reasons")
        if self.grant and self.grounds:
            raise ValueError("grounds: a permit is granted without refusal grounds")
        return self


class ContractEventKind(StrEnum):
    """What happened to a base-operator contract (665/NK Annex 5, conditions 1–3)."""

    TERMINATED_EARLY = "terminated_early"
    ENDED_WITHOUT_COMPLIANCE = "ended_without_compliance"
    EXTENDED_COMPLIANCE_CONFIRMED = "extended_compliance_confirmed"


CONTRACT_CITES: dict[ContractEventKind, str] = {
    ContractEventKind(c.id): c.reference for c in law.items("665/NK", "permit_condition")
}
"""The permit condition of Annex 5 each contract event executes (the items of kind ``permit_condition``)."""


class ContractEvent(Model):
    """A base-operator contract event reported after the permit was issued."""

    kind: ContractEventKind
    contract_number: ShortStr
    occurred_on: date
    contract_valid_until: date | None = Field(default=None, description="the contract's new end (extension)")
    note: NonEmptyStr | None = None
    reported_by: ShortStr
    base_operator_bin: BIN | None = Field(
        default=None,
        description="the reporting base operator: set by the API from the base operator's key; the contract must be "
        "that operator's",
    )

    @model_validator(mode="after")
    def _extension(self) -> ContractEvent:
        if self.kind is ContractEventKind.EXTENDED_COMPLIANCE_CONFIRMED and self.contract_valid_until is None:
            raise ValueError("contract_valid_until: an extension names the contract's new end date")
        return self


class ReopenInstruction(Model):
    """An upheld complaint's instruction: reopen the case for a new decision at ``stage`` (665/NK p.10)."""

    complaint_id: ShortStr
    stage: Literal["completeness_check", "qualification_check"] | None = Field(
        default=None, description="where the new decision is taken; by default the stage that refused"
    )
    reason: NonEmptyStr


class DecisionReceipt(BaseModel):
    """What an accepted Update answers."""

    accepted_at: datetime
    update: str
    note: str = ""
