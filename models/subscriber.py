"""Inputs, events and results of the subscriber-side procedures: connecting a number to the e-government
account (act 58), numbers for an individual (171 p.55-1…55-6), signing the public-contract application
with an EDS (almatel-eds) and the electronic subscriber mailbox (act 71, abolished).

One-time codes and signing links never travel in clear: the edge (CLI/API) sends their keyed digest
(``activities.otp.secret_digest``), and the EDS password travels sealed to the issuer
(``activities.eds.seal_eds_password``), so neither enters a workflow history.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from models.base import Model
from models.case import DocumentRef
from models.types import BIN, IIN, AwareDatetime, EdsPassword, KzMobile, NonEmptyStr

__all__ = [
    "FACTORS",
    "BiometricCheck",
    "BiometricRecordRequest",
    "BiometricReport",
    "Channel",
    "CodeEntry",
    "ConnectNumberRequest",
    "Consent",
    "ContractApplication",
    "ContractSignedRequest",
    "CreateMailboxRequest",
    "Device",
    "EdsSignatureEvent",
    "EgovConnectionInput",
    "EgovConnectionResult",
    "EgovView",
    "ExtraNumbersJustification",
    "IdentityCheck",
    "IdentityCheckRequest",
    "IssueCertificateRequest",
    "IssueSecretRequest",
    "IssuedCertificate",
    "IssuedSecret",
    "MailboxApplicationInput",
    "MailboxResult",
    "MailboxStepRequest",
    "NumbersApplicationInput",
    "NumbersDecisionRecord",
    "NumbersHeld",
    "NumbersHeldRequest",
    "NumbersResult",
    "NumbersReviewDecision",
    "PasswordEntry",
    "PersonRef",
    "PriorApplication",
    "PriorApplicationRequest",
    "RegisterNumbersRequest",
    "SealedPassword",
    "SecretCheck",
    "SecretEntry",
    "SignedZipRequest",
    "SigningResult",
    "SigningView",
    "StepAnswer",
    "TechnicianCodeReceived",
    "VerifySecretRequest",
]

_DIGEST = r"^[0-9a-f]{64}$"


class BinaryModel(Model):
    """A model with binary fields (DER signatures, sealed secrets): base64 in JSON payloads."""

    model_config = ConfigDict(
        extra="forbid", hide_input_in_errors=True, ser_json_bytes="base64", val_json_bytes="base64"
    )


# --- shared: one-time codes, links, biometrics, state registry -----------------------------------


class IssueSecretRequest(Model):
    """Generate a one-time code (``otp``) or signing link (``link``), store its hash, send it by SMS."""

    secret_id: str = Field(min_length=3, max_length=200)
    case_id: str
    kind: Literal["otp", "link"]
    to: KzMobile
    sender: str  # 1414 (EGOV) or 3344 (operator)
    expires_at: datetime
    max_attempts: int = Field(ge=1, le=10)
    purpose: str = Field(max_length=200)  # shown in the SMS


class IssuedSecret(BaseModel):
    """What the workflow records about an issued code: never the code."""

    secret_id: str
    expires_at: datetime
    max_attempts: int
    sms_message_id: str


class CodeEntry(Model):
    """A code or link as the subscriber typed it, sent to the API; the API turns it into a ``SecretEntry``."""

    code: SecretStr = Field(description="the one-time code (or the 3344 link) exactly as received")


class SecretEntry(Model):
    """A code or link entered by the subscriber, as its keyed digest (``activities.otp.secret_digest``)."""

    digest: str = Field(pattern=_DIGEST, description="HMAC-SHA256 hex digest computed at the edge")


class VerifySecretRequest(Model):
    """Compare an entered digest with the stored hash, at the case's own instant ``at``."""

    secret_id: str
    digest: str = Field(pattern=_DIGEST)
    at: datetime


class SecretCheck(BaseModel):
    """The verdict on an entered code: correct, or why not and how many attempts are left."""

    correct: bool
    attempts_left: int
    expired: bool = False
    message: str


class BiometricReport(Model):
    """The biometric provider's ("Biometric ID") verdict on one identification session."""

    session_id: str = Field(min_length=3, max_length=200)
    passed: bool
    reason: str | None = Field(default=None, max_length=500)


class BiometricRecordRequest(Model):
    """Record a provider's verdict for a case."""

    case_id: str
    report: BiometricReport


class BiometricCheck(BaseModel):
    """The verdict as recorded (first report of a session wins)."""

    session_id: str
    passed: bool
    reason: str | None = None
    checked_at: datetime


class IdentityCheckRequest(Model):
    """Check a person (IIN) or legal entity (BIN) against the state registries via the gateway."""

    id_number: str = Field(pattern=r"^\d{12}$")
    at: datetime


class IdentityCheck(BaseModel):
    """The registry's answer; ``refusal`` names the ground of 58 Annex item 9 when one applies."""

    found: bool
    applicant_ref: str  # pseudonym, for delivery to the personal account
    full_name: str | None = None
    refusal: str | None = None
    cite: str = ""


class PersonRef(Model):
    """A person by IIN (activity input)."""

    iin: str


class EdsSignatureEvent(BinaryModel):
    """A detached CMS signature (DER) over the case's signing payload, made with the subscriber's EDS."""

    signature: bytes = Field(min_length=16, max_length=64_000)


# --- act 58: connecting a number to the e-government account --------------------------------------


class Channel(StrEnum):
    """The ways a number is connected (58 p.5–8)."""

    PORTAL = "portal"  # p.5: OTP + EDS
    MOBILE_APP = "mobile_app"  # p.6: EDS certificate + OTP + biometrics
    BANK_APP = "bank_app"  # p.7: biometrics + OTP
    CHANGE_OF_NUMBER = "change_of_number"  # p.8: new number + OTP + EDS


FACTORS: dict[Channel, tuple[str, ...]] = {
    Channel.PORTAL: ("otp", "eds"),
    Channel.MOBILE_APP: ("eds", "otp", "biometrics"),
    Channel.BANK_APP: ("biometrics", "otp"),
    Channel.CHANGE_OF_NUMBER: ("otp", "eds"),
}
CHANNEL_CITE = {
    Channel.PORTAL: "58 p.5",
    Channel.MOBILE_APP: "58 p.6",
    Channel.BANK_APP: "58 p.7",
    Channel.CHANGE_OF_NUMBER: "58 p.8",
}


class EgovConnectionInput(Model):
    """A request to connect ``phone`` to the e-government account of the individual ``iin`` (58 p.3)."""

    iin: IIN
    phone: KzMobile
    channel: Channel
    received_at: AwareDatetime
    previous_phone: KzMobile | None = Field(default=None, description="the number replaced (change of number)")

    @model_validator(mode="after")
    def _change_needs_previous(self) -> EgovConnectionInput:
        if self.channel is Channel.CHANGE_OF_NUMBER:
            if self.previous_phone is None:
                raise ValueError("a change of number (58 p.8) needs previous_phone")
            if self.previous_phone == self.phone:
                raise ValueError("the new number is the same as the previous one")
        elif self.previous_phone is not None:
            raise ValueError("previous_phone is only for a change of number (58 p.8)")
        return self


class ConnectNumberRequest(Model):
    """Enter the number in the Mobile Citizens Database (the applicant's account shows it)."""

    case_id: str
    iin: str
    phone: str
    channel: str
    replaces: str | None = None


class EgovView(BaseModel):
    """What the portal/app needs to drive the request: factors done, the OTP's id, what to sign."""

    channel: Channel
    factors_required: list[str]
    factors_done: list[str]
    otp_id: str | None = None
    otp_expires_at: datetime | None = None
    attempts_left: int | None = None
    signing_payload: str | None = None


class EgovConnectionResult(BaseModel):
    """Connected, already connected, or a reasoned refusal (58 Annex item 5)."""

    outcome: Literal["connected", "already_connected", "refused"]
    reason: str | None = None
    cite: str = ""
    decided_at: datetime
    document: DocumentRef | None = None


# --- 171 p.55-1…55-6: numbers for an individual -----------------------------------------------------


class Device(Model):
    """A subscriber device the numbers are for (171 p.55-2): description and identification code."""

    description: NonEmptyStr
    identifier: str = Field(min_length=4, max_length=64, description="IMEI, ICCID, EID or another device code")
    machine_to_machine: bool = False


class ExtraNumbersJustification(Model):
    """What an application for more than ten numbers must give (171 p.55-2, 55-3)."""

    purposes: list[NonEmptyStr] = Field(min_length=1)
    justification: NonEmptyStr
    devices: list[Device] = Field(min_length=1)
    accuracy_confirmed: bool

    @model_validator(mode="after")
    def _confirmed(self) -> ExtraNumbersJustification:
        if not self.accuracy_confirmed:
            raise ValueError("the applicant must confirm that the data are accurate (171 p.55-3)")
        return self


class NumbersApplicationInput(Model):
    """An individual's application to register subscriber numbers (171 p.55-1), on a signed contract (p.55-6)."""

    iin: IIN
    numbers: list[KzMobile] = Field(min_length=1, max_length=200)
    received_at: AwareDatetime
    contract_case_id: str = Field(min_length=3, description="the signing case of the public contract (p.55-6)")
    justification: ExtraNumbersJustification | None = None
    refers_to_case_id: str | None = Field(default=None, description="the refused application this one renews")

    @model_validator(mode="after")
    def _unique(self) -> NumbersApplicationInput:
        if len(set(self.numbers)) != len(self.numbers):
            raise ValueError("a number is listed twice")
        return self


class NumbersReviewDecision(Model):
    """The employee's decision on more than ten numbers (171 p.55-4): a refusal states its reason."""

    approve: bool
    reviewer: NonEmptyStr
    reason: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _reason(self) -> NumbersReviewDecision:
        if not self.approve and not (self.reason and self.reason.strip()):
            raise ValueError("a refusal must state its reason (171 p.55-4)")
        return self


class NumbersHeldRequest(Model):
    iin: str
    numbers: list[str]


class NumbersHeld(BaseModel):
    """How many numbers the individual holds, and whether a requested number is someone else's."""

    count: int
    already_held: list[str]
    held_by_others: list[str]


class RegisterNumbersRequest(Model):
    case_id: str
    iin: str
    numbers: list[str]
    contract_case_id: str


class ContractSignedRequest(Model):
    contract_case_id: str
    iin: str


class PriorApplicationRequest(Model):
    case_id: str
    iin: str


class PriorApplication(BaseModel):
    """A previous application as recorded; ``None`` outcome when there is none."""

    case_id: str
    outcome: str | None = None
    reason: str | None = None
    same_applicant: bool = False


class NumbersDecisionRecord(Model):
    case_id: str
    iin: str
    outcome: str
    reason: str | None = None
    refers_to_case_id: str | None = None


class NumbersResult(BaseModel):
    """Registered or refused with its reason (171 p.55-4)."""

    outcome: Literal["registered", "refused"]
    reason: str | None = None
    cite: str
    held_before: int
    registered: list[str] = []
    refers_to_case_id: str | None = None
    decided_at: datetime


# --- almatel-eds: signing the public-contract application ------------------------------------------


class ContractApplication(Model):
    """The application to join the public contract, after the service was connected at the address."""

    order_ref: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._/-]+$")
    iin: IIN
    full_name: NonEmptyStr
    phone: KzMobile = Field(description="the number registered in the Mobile Citizens Database")
    address: NonEmptyStr
    services: list[NonEmptyStr] = Field(min_length=1)
    tariff: NonEmptyStr
    equipment_serials: list[NonEmptyStr] = Field(default_factory=list)
    received_at: AwareDatetime


class TechnicianCodeReceived(Model):
    """Step 1: the technician confirms the subscriber gave the 1414 code (the code itself is entered at step 5)."""

    technician_id: str = Field(min_length=2, max_length=64)


class Consent(Model):
    """Steps 4 and 7: the subscriber accepts (or declines) after reading the policy or rules."""

    accepted: bool


class PasswordEntry(Model):
    """Step 8 as the signing page sends it to the API: the chosen password, checked against the policy."""

    password: EdsPassword


class SealedPassword(BinaryModel):
    """Step 8: the EDS password sealed to the issuer at the edge (never in clear in the history)."""

    sealed: bytes = Field(min_length=64, max_length=4096)


class IssueCertificateRequest(BinaryModel):
    """Issue the subscriber's key pair and certificate and sign the application document with it."""

    case_id: str
    doc_id: str
    common_name: str
    iin: str
    sealed_password: bytes


class IssuedCertificate(BaseModel):
    serial: str
    subject: str
    signature_sha256: str


class SignedZipRequest(Model):
    case_id: str
    doc_id: str
    iin: str


class StepAnswer(BaseModel):
    """The answer to a signing step: accepted, or why not (and attempts left for a code)."""

    accepted: bool
    message: str
    attempts_left: int | None = None


class SigningView(BaseModel):
    """Where the signing stands: the step awaited, the ids of the code and link, the outcome."""

    step: int
    step_name: str
    otp_id: str | None = None
    link_id: str | None = None
    attempts_left: int | None = None
    zip_doc_id: str | None = None
    last_message: str | None = None


class SigningResult(BaseModel):
    """Signed (the ZIP is downloadable), refused, or abandoned at a step."""

    outcome: Literal["signed", "refused", "abandoned"]
    step: int
    reason: str | None = None
    zip: DocumentRef | None = None
    certificate_serial: str | None = None
    decided_at: datetime


# --- act 71: electronic subscriber mailbox ------------------------------------------------------------


class MailboxApplicationInput(Model):
    """An application for an electronic subscriber mailbox (71 p.6): by an individual (IIN) or entity (BIN)."""

    iin: IIN | None = None
    bin: BIN | None = None
    login: str = Field(pattern=r"^[a-z][a-z0-9._-]{2,31}$", description="chosen by the user, unique (p.11)")
    channel: Literal["postal_facility", "online"]
    received_at: AwareDatetime

    @model_validator(mode="after")
    def _one_identifier(self) -> MailboxApplicationInput:
        if (self.iin is None) == (self.bin is None):
            raise ValueError("give exactly one of iin (individual) or bin (legal entity) (71 p.13)")
        return self

    @property
    def holder_id(self) -> str:
        return self.iin or self.bin or ""


class CreateMailboxRequest(Model):
    case_id: str
    login: str
    holder_id: str


class MailboxStepRequest(Model):
    case_id: str
    step: Literal["confirmed", "included"]


class MailboxResult(BaseModel):
    """Included in the single database, or refused (e.g. the act was abolished by 305/NK)."""

    outcome: Literal["included", "refused", "abandoned"]
    reason: str | None = None
    cite: str = ""
    decided_at: datetime
