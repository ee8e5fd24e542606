"""SQLModel tables of the local outside world. Never imported by workflow code (DESIGN pitfalls)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column as SAColumn
from sqlalchemy import LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = ["Document", "PersonalAccountDelivery", "SmsOutbox", "SupervisorNotification"]


def _now() -> datetime:
    return datetime.now(UTC)


class SupervisorNotification(SQLModel, table=True):
    """A breached legal term reported to a supervisor; one row per case and deadline."""

    __tablename__ = "supervisor_notifications"
    __table_args__ = (UniqueConstraint("case_id", "deadline_key"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True)
    procedure: str
    deadline_key: str
    cite: str
    due: datetime
    breached_at: datetime
    created_at: datetime = Field(default_factory=_now)


# --- documents and their delivery -------------------------------------------------------------


class Document(SQLModel, table=True):
    """A document a case produced: its bytes, hash, and (once signed) the detached CMS signature."""

    __tablename__ = "documents"

    doc_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    kind: str
    title: str
    cite: str = ""
    media_type: str = "text/html; charset=utf-8"
    content: bytes = Field(sa_column=SAColumn(LargeBinary, nullable=False))
    sha256: str
    signature: bytes | None = Field(default=None, sa_column=SAColumn(LargeBinary, nullable=True))
    signer_cert_pem: bytes | None = Field(default=None, sa_column=SAColumn(LargeBinary, nullable=True))
    signer_subject: str | None = None
    created_at: datetime = Field(default_factory=_now)


class PersonalAccountDelivery(SQLModel, table=True):
    """A document put in an applicant's personal account on the portal (one row per document)."""

    __tablename__ = "personal_account_deliveries"

    doc_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    recipient: str = Field(index=True)  # pseudonym of the applicant
    delivered_at: datetime = Field(default_factory=_now)


# --- SMS gateway (local) ----------------------------------------------------------------------


class SmsOutbox(SQLModel, table=True):
    """What the local SMS gateway "sent": one row per message id."""

    __tablename__ = "sms_outbox"

    message_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    to: str
    sender: str
    text: str
    accepted_at: datetime = Field(default_factory=_now, index=True)


# --- subscriber procedures (issue 6: acts 58, 171 p.55-1…55-6, almatel-eds, 71) -----------------


class OneTimeSecret(SQLModel, table=True):
    """A one-time code (OTP) or signing link: only its keyed hash is kept, with its expiry and attempts."""

    __tablename__ = "one_time_secrets"

    secret_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    kind: str  # "otp" or "link"
    digest: str  # HMAC-SHA256 of "<secret_id>:<secret>" under the server key
    expires_at: datetime
    max_attempts: int
    attempts_used: int = 0
    used_at: datetime | None = None
    created_at: datetime = Field(default_factory=_now)


class RegistryPerson(SQLModel, table=True):
    """The state registries seen through the e-government gateway (58 Annex item 8), locally a table."""

    __tablename__ = "registry_persons"

    id_number: str = Field(primary_key=True)  # IIN or BIN
    kind: str = "individual"  # "individual" or "legal_entity"
    full_name: str
    document_valid_until: datetime | None = None  # identity document (individuals), end of validity
    consent_restricted_data: bool = True  # consent to access restricted personal data (Law on personal data art. 8)


class MobileCitizenNumber(SQLModel, table=True):
    """The Mobile Citizens Database: a number connected to a person's e-government account (act 58)."""

    __tablename__ = "mobile_citizens"

    phone: str = Field(primary_key=True)
    iin: str = Field(index=True)
    case_id: str = Field(index=True)
    channel: str
    connected_at: datetime = Field(default_factory=_now)


class BiometricCheckRecord(SQLModel, table=True):
    """A verdict of the biometric provider ("Biometric ID"), one row per provider session."""

    __tablename__ = "biometric_checks"

    session_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    passed: bool
    reason: str | None = None
    checked_at: datetime = Field(default_factory=_now)


class SubscriberNumberRecord(SQLModel, table=True):
    """A subscriber number registered to an individual (171 p.55-1…55-6), on the basis of a contract."""

    __tablename__ = "subscriber_numbers"

    phone: str = Field(primary_key=True)
    iin: str = Field(index=True)
    case_id: str = Field(index=True)
    contract_case_id: str
    registered_at: datetime = Field(default_factory=_now)


class NumbersApplicationRecord(SQLModel, table=True):
    """The outcome of an application for numbers, so that a re-application can refer to a refusal."""

    __tablename__ = "numbers_applications"

    case_id: str = Field(primary_key=True)
    applicant: str = Field(index=True)  # pseudonym of the applicant
    outcome: str
    reason: str | None = None
    refers_to_case_id: str | None = None
    decided_at: datetime = Field(default_factory=_now)


class SubscriberKey(SQLModel, table=True):
    """A subscriber's EDS issued in the signing procedure: certificate and PKCS#12 under the subscriber's password."""

    __tablename__ = "subscriber_keys"

    case_id: str = Field(primary_key=True)
    serial: str = Field(index=True)
    subject: str
    cert_pem: bytes = Field(sa_column=SAColumn(LargeBinary, nullable=False))
    pkcs12: bytes = Field(sa_column=SAColumn(LargeBinary, nullable=False))
    issued_at: datetime = Field(default_factory=_now)


class SignedContract(SQLModel, table=True):
    """An application to join the public contract signed with an EDS (almatel-eds): the ZIP to download."""

    __tablename__ = "signed_contracts"

    case_id: str = Field(primary_key=True)
    iin: str = Field(index=True)
    zip_doc_id: str
    cert_serial: str
    signed_at: datetime = Field(default_factory=_now)


class Mailbox(SQLModel, table=True):
    """An electronic subscriber mailbox (act 71): the login is unique among all users (p.11)."""

    __tablename__ = "mailboxes"

    login: str = Field(primary_key=True)
    case_id: str = Field(unique=True)
    holder_id: str  # IIN or BIN
    created_at: datetime = Field(default_factory=_now)
    confirmed_at: datetime | None = None
    included_at: datetime | None = None  # entry in the single database (p.13)
