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
from models.types import AwareDatetime, NonEmptyStr

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
    cite: str
    en: str
    ru: str
    kk: str


_ITEM10 = "665/NK Annex 1 item 10"
GROUNDS: dict[RefusalGround, GroundText] = {
    RefusalGround.UNRELIABLE_DOCUMENTS: GroundText(
        cite=f"{_ITEM10}(1)",
        en="the documents or the data in them were found unreliable",
        ru="установление недостоверности документов, представленных услугополучателем, и (или) данных "
        "(сведений), содержащихся в них",
        kk="көрсетілетін қызметті алушы ұсынған құжаттардың және (немесе) олардағы деректердің (мәліметтердің) "
        "анық еместігінің анықталуы",
    ),
    RefusalGround.NON_COMPLIANT: GroundText(
        cite=f"{_ITEM10}(2)",
        en="the recipient, materials, objects or data do not meet the requirements of normative legal acts",
        ru="несоответствие услугополучателя и (или) представленных материалов, объектов, данных и сведений "
        "требованиям, установленным нормативными правовыми актами Республики Казахстан",
        kk="көрсетілетін қызметті алушының және (немесе) ұсынылған материалдардың, объектілердің, деректер мен "
        "мәліметтердің Қазақстан Республикасының нормативтік құқықтық актілерінде белгіленген талаптарға "
        "сәйкес келмеуі",
    ),
    RefusalGround.NEGATIVE_CONCLUSION: GroundText(
        cite=f"{_ITEM10}(3)",
        en="a negative answer of an authorised state body to an approval request, or a negative expert, study or "
        "inspection conclusion",
        ru="отрицательный ответ уполномоченного государственного органа на запрос о согласовании, а также "
        "отрицательное заключение экспертизы, исследования либо проверки",
        kk="уәкілетті мемлекеттік органның мемлекеттік қызмет көрсету үшін қажетті келісімі туралы сұрау салуға "
        "берілген теріс жауап, сондай-ақ сараптаманың, зерттеудің не тексерудің теріс қорытындысы",
    ),
    RefusalGround.COURT_BAN: GroundText(
        cite=f"{_ITEM10}(4)",
        en="a court decision (verdict) in force bans the recipient's activity",
        ru="наличие вступившего в законную силу решения (приговора) суда о запрещении деятельности или отдельных "
        "видов деятельности, требующих получения государственной услуги",
        kk="көрсетілетін қызметті алушыға қатысты оның қызметіне немесе жекелеген қызмет түрлеріне тыйым салу "
        "туралы соттың заңды күшіне енген шешімінің (үкімінің) болуы",
    ),
    RefusalGround.SPECIAL_RIGHT_DEPRIVED: GroundText(
        cite=f"{_ITEM10}(5)",
        en="a court verdict in force deprives the recipient of the special right",
        ru="наличие вступившего в законную силу приговора суда, на основании которого услугополучатель лишен "
        "специального права, связанного с получением государственной услуги",
        kk="көрсетілетін қызметті алушыға қатысты соттың заңды күшіне енген үкімінің болуы, оның негізінде "
        "көрсетілетін қызметті алушының арнаулы құқығынан айырылуы",
    ),
    RefusalGround.NO_PERSONAL_DATA_CONSENT: GroundText(
        cite=f"{_ITEM10}(6)",
        en="no consent to access restricted personal data (Law on personal data, art. 8)",
        ru="отсутствие согласия услугополучателя на доступ к персональным данным ограниченного доступа "
        "(статья 8 Закона «О персональных данных и их защите»)",
        kk='көрсетілетін қызметті алушының "Дербес деректер және оларды қорғау туралы" Заңның 8-бабына сәйкес '
        "қолжетімділігі шектеулі дербес деректерге қол жеткізуге келісімінің болмауы",
    ),
}


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
    """Time, date and place (or means) of the hearing (665/NK p.7)."""

    at: AwareDatetime
    place: ShortStr | None = None
    means: ShortStr | None = Field(default=None, description="e.g. video conference link or telephone")

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
                raise ValueError("grounds: name at least one ground of 665/NK Annex 1 item 10")
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
    ContractEventKind.TERMINATED_EARLY: "665/NK Annex 5 condition 3",
    ContractEventKind.ENDED_WITHOUT_COMPLIANCE: "665/NK Annex 5 condition 1",
    ContractEventKind.EXTENDED_COMPLIANCE_CONFIRMED: "665/NK Annex 5 condition 2",
}


class ContractEvent(Model):
    """A base-operator contract event reported after the permit was issued."""

    kind: ContractEventKind
    contract_number: ShortStr
    occurred_on: date
    contract_valid_until: date | None = Field(default=None, description="the contract's new end (extension)")
    note: NonEmptyStr | None = None
    reported_by: ShortStr

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
