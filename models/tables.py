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
