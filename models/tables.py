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


# --- HTTP API and console -----------------------------------------------------------------------


class ApiKey(SQLModel, table=True):
    """A client of the API or a console user: only the SHA-256 of the secret is stored."""

    __tablename__ = "api_keys"

    key_id: str = Field(primary_key=True)  # public part of the key, e.g. "k3f9a..."
    secret_sha256: str
    name: str  # who holds it: "back office: A. Seitkali", "antifraud centre"
    roles: str  # comma-separated: staff, auditor, supervisor, operator:<system>
    created_at: datetime = Field(default_factory=_now)
    revoked_at: datetime | None = None


class IdempotencyRecord(SQLModel, table=True):
    """The response to a request sent with an ``Idempotency-Key``, replayed to retries of that request."""

    __tablename__ = "idempotency_records"

    key_sha256: str = Field(primary_key=True)  # hash of (client key id, method, route, client's key)
    request_sha256: str  # hash of the body: the same key with another body is refused
    status_code: int
    body: str  # the JSON response
    location: str | None = None
    created_at: datetime = Field(default_factory=_now)
