"""The MVNO permit procedure (665/NK): the application (Annexes 2–4), staff decisions, the records the
case keeps, and the inputs and results of its outside systems (state registries, monitoring, permits).

Every model that carries personal data derives from ``models.base.Model`` (inputs never echoed in errors).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from models.base import Model
from models.case import DocumentRef, Registration
from models.deadlines import Deadline, DeadlineState
from models.types import BIN, IIN, AwareDatetime, KzMobile, NonEmptyStr

__all__ = [
    "GROUNDS",
    "Applicant",
    "BaseOperatorContract",
    "CaseEvent",
    "CompletenessDecision",
    "ContractEvent",
    "ContractEventKind",
    "CourtRestriction",
    "DecisionReceipt",
    "FinalDecision",
    "HearingProposal",
    "HearingRecord",
    "HearingWindowsRequest",
    "IndividualApplicant",
    "InformationForm",
    "LegalEntityApplicant",
    "NoticeDay",
    "PermitApplication",
    "PermitCaseView",
    "PermitChange",
    "PermitChangeRequest",
    "PermitEntryRequest",
    "PermitLife",
    "PermitOutcome",
    "PermitRecordView",
    "Proposal",
    "QualificationDecision",
    "QualificationDocuments",
    "RefusalGround",
    "RegistryData",
    "RegistryLookupRequest",
    "ReopenInstruction",
    "ServiceTermOverrun",
    "StageReport",
    "propose_completeness",
    "propose_qualification",
]

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
KZ_IBAN = r"^KZ\d{2}[0-9A-Z]{16}$"
Email = Annotated[str, Field(pattern=EMAIL, max_length=254, description="e-mail address")]
Iban = Annotated[str, Field(pattern=KZ_IBAN, description="bank account (IBAN, KZ + 18 characters)")]
ShortStr = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]


# --- the application (Annexes 2, 3, 4) --------------------------------------------------------


class _Contacts(Model):
    email: Email
    phones: list[KzMobile] = Field(min_length=1, max_length=5)
    bank_account: Iban
    activity_address: NonEmptyStr = Field(description="address where the MVNO activity is carried out")


class IndividualApplicant(_Contacts):
    """An individual applicant (665/NK Annex 2)."""

    kind: Literal["individual"] = "individual"
    full_name: ShortStr
    iin: IIN
    residence_address: NonEmptyStr

    @property
    def identifier(self) -> str:
        return self.iin

    @property
    def display_name(self) -> str:
        return self.full_name


class LegalEntityApplicant(_Contacts):
    """A legal entity, a foreign legal entity or its branch (665/NK Annex 3)."""

    kind: Literal["legal_entity"] = "legal_entity"
    form: Literal["resident", "foreign", "branch"] = "resident"
    name: ShortStr
    bin: BIN
    location: NonEmptyStr
    head_name: ShortStr

    @property
    def identifier(self) -> str:
        return self.bin

    @property
    def display_name(self) -> str:
        return self.name


Applicant = Annotated[IndividualApplicant | LegalEntityApplicant, Field(discriminator="kind")]


class BaseOperatorContract(Model):
    """A contract with a cellular (base) operator and what it provides (665/NK Annex 4 items 1–4)."""

    base_operator: ShortStr
    contract_number: ShortStr
    signed_on: date
    valid_until: date | None = None
    network_infrastructure: bool = Field(description="Annex 4 item 1: use of the network infrastructure")
    operational_search_means: bool = Field(
        description="Annex 4 item 2: means for operational-search measures and 2-year storage of service information"
    )
    traffic_accounting: bool = Field(description="Annex 4 item 3: registered traffic accounting with verification")
    interaction_scheme: bool = Field(description="Annex 4 item 4: interaction scheme of virtual and base operator")

    @model_validator(mode="after")
    def _dates(self) -> BaseOperatorContract:
        if self.valid_until is not None and self.valid_until < self.signed_on:
            raise ValueError("valid_until is before signed_on")
        return self


class InformationForm(Model):
    """The information form of Annex 4: verification, conformity and commissioning documents."""

    verification_certificate_number: ShortStr
    verification_certificate_date: date
    verification_certificate_valid_until: date | None = None
    conformity_certificate_number: ShortStr
    conformity_certificate_date: date
    conformity_certificate_valid_until: date | None = None
    commissioning_act_number: ShortStr
    commissioning_act_date: date


class QualificationDocuments(Model):
    """Annex 4: the contract(s) with the base operator(s) and the information form."""

    contracts: list[BaseOperatorContract] = Field(min_length=1, max_length=20)
    information_form: InformationForm

    @field_validator("contracts")
    @classmethod
    def _unique(cls, v: list[BaseOperatorContract]) -> list[BaseOperatorContract]:
        numbers = [c.contract_number for c in v]
        if len(set(numbers)) != len(numbers):
            raise ValueError("contract numbers must be unique")
        return v


class PermitApplication(Model):
    """An application for the MVNO permit as the portal hands it over (665/NK p.5, Annexes 2–4)."""

    application_number: Annotated[
        str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9\-/]{2,39}$", description="the portal's unique application number")
    ]
    applicant: Applicant
    qualification: QualificationDocuments
    personal_data_consent: bool = Field(description="consent to access restricted personal data (Annex 1 item 10(6))")
    received_at: AwareDatetime

    @field_validator("personal_data_consent")
    @classmethod
    def _consent(cls, v: bool) -> bool:
        if not v:
            raise ValueError(
                "consent to collect and process personal data is required (665/NK Annexes 2–3; Annex 1 item 10(6))"
            )
        return v


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


# --- records the case keeps -------------------------------------------------------------------


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


class NoticeDay(BaseModel):
    """If the hearing notice goes out during [starts_at, ends_at): the latest hearing, the earliest decision."""

    day: date
    starts_at: datetime
    ends_at: datetime
    hearing_due: Deadline
    decision_after_notice: Deadline
    decision_not_before: datetime


class HearingWindowsRequest(BaseModel):
    """Compute the notice days from ``start`` on, ``days`` calendar days."""

    start: datetime
    days: int = Field(default=30, ge=1, le=120)


class PermitOutcome(BaseModel):
    """How a case ended (the workflow's result)."""

    outcome: str
    status: str
    permit_number: str | None = None
    documents: list[str] = Field(default_factory=list)


class PermitLife(BaseModel):
    """What a permit's case carries into its next run (continue-as-new at each yearly checkpoint)."""

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
    hearing_record: HearingRecord | None = None
    overrun: ServiceTermOverrun | None = None
    permit: PermitRecordView | None = None
    events: list[CaseEvent] = Field(default_factory=list)
    pending_events: list[str] = Field(default_factory=list)


# --- outside systems --------------------------------------------------------------------------


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
    cite: str = "665/NK p.8"
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


# --- the system's pre-checks (pure; run in the workflow on recorded data) ---------------------

_ANNEX4 = {
    "network_infrastructure": "Annex 4 item 1 (use of the network infrastructure)",
    "operational_search_means": "Annex 4 item 2 (operational-search means, 2-year storage of service information)",
    "traffic_accounting": "Annex 4 item 3 (registered traffic accounting, valid verification)",
    "interaction_scheme": "Annex 4 item 4 (interaction scheme with the base operator)",
}


def propose_completeness(app: PermitApplication, on: date, registry: RegistryData) -> Proposal:
    """What the system can check of the package on the registration day ``on`` (665/NK p.6)."""
    found: list[str] = []
    for c in app.qualification.contracts:
        if c.valid_until is not None and c.valid_until < on:
            found.append(f"contract {c.contract_number} with {c.base_operator} expired on {c.valid_until.isoformat()}")
        if c.signed_on > on:
            found.append(f"contract {c.contract_number} is dated after the application ({c.signed_on.isoformat()})")
    form = app.qualification.information_form
    for label, valid_until in (
        ("verification certificate", form.verification_certificate_valid_until),
        ("conformity certificate", form.conformity_certificate_valid_until),
    ):
        if valid_until is not None and valid_until < on:
            found.append(f"{label} expired on {valid_until.isoformat()}")
    for label, d in (
        ("verification certificate", form.verification_certificate_date),
        ("conformity certificate", form.conformity_certificate_date),
        ("commissioning act", form.commissioning_act_date),
    ):
        if d > on:
            found.append(f"{label} is dated after the application ({d.isoformat()})")
    if not registry.found:
        found.append("the applicant is not found in the state registry (e-government gateway)")
    return Proposal(stage="completeness_check", passes=not found, findings=found)


def propose_qualification(app: PermitApplication, registry: RegistryData) -> Proposal:
    """The grounds the system can see for the qualification check (665/NK p.7, Annex 1 item 10, Annex 4)."""
    findings: list[str] = []
    grounds: list[RefusalGround] = []
    for c in app.qualification.contracts:
        missing = [text for key, text in _ANNEX4.items() if not getattr(c, key)]
        if missing:
            findings.append(f"contract {c.contract_number} does not provide: " + "; ".join(missing))
    if findings:
        grounds.append(RefusalGround.NON_COMPLIANT)
    name = app.applicant.display_name.casefold()
    if registry.found and registry.name is not None and registry.name.casefold() != name:
        findings.append("the name in the application differs from the state registry")
        grounds.append(RefusalGround.UNRELIABLE_DOCUMENTS)
    if not registry.active:
        findings.append("the state registry shows the applicant as not active")
        if RefusalGround.NON_COMPLIANT not in grounds:
            grounds.append(RefusalGround.NON_COMPLIANT)
    for r in registry.restrictions:
        ground = RefusalGround.COURT_BAN if r.kind == "activity_ban" else RefusalGround.SPECIAL_RIGHT_DEPRIVED
        findings.append(
            f"{r.kind.replace('_', ' ')}: {r.court}, {r.decision_ref}, in force {r.in_force_on.isoformat()}"
        )
        if ground not in grounds:
            grounds.append(ground)
    return Proposal(stage="qualification_check", passes=not grounds, findings=findings, grounds=grounds)


PermitLife.model_rebuild()
PermitCaseView.model_rebuild()
