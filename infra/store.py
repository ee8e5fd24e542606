"""Idempotent writes to our own tables, shared by the activities' local implementations."""

from __future__ import annotations

import mimetypes
from contextlib import suppress
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from infra.db import session
from models.deadlines import Escalation
from models.sms import SmsRequest
from models.tables import ComplaintForward, Document, PersonalAccountDelivery, SmsOutbox, SupervisorNotification

__all__ = [
    "deliver_document",
    "document_file_name",
    "document_stem",
    "load_document",
    "record_escalation",
    "record_forward",
    "record_sms",
    "store_document",
    "store_signature",
]


def record_escalation(e: Escalation) -> bool:
    """Store an escalation once; returns False when it was already stored (an activity retry)."""
    try:
        with session() as s:
            exists = s.exec(
                select(SupervisorNotification).where(
                    SupervisorNotification.case_id == e.case_id,
                    SupervisorNotification.deadline_key == e.deadline_key,
                )
            ).first()
            if exists:
                return False
            s.add(
                SupervisorNotification(
                    case_id=e.case_id,
                    procedure=e.procedure,
                    deadline_key=e.deadline_key,
                    cite=e.cite,
                    due=e.due,
                    breached_at=e.breached_at,
                    detail=e.term_text[:500],
                )
            )
        return True
    except IntegrityError:
        return False


def document_stem(doc_id: str) -> str:
    """A document's file name without its extension (its detached signature is ``<stem>.p7s``)."""
    return doc_id.replace("/", "_")


def document_file_name(doc: Document) -> str:
    """The file a document is saved as: its stem, and the extension of what it is (a letter ``.html``, an
    administrative case ``.zip``: it was saved as ``.html`` too, an adversarial run of 2026-12-04)."""
    kind = doc.media_type.split(";")[0].strip()
    return document_stem(doc.doc_id) + (mimetypes.guess_extension(kind) or ".bin")


def load_document(doc_id: str) -> Document | None:
    """A stored document, or None."""
    with session() as s:
        doc = s.get(Document, doc_id)
        if doc is not None:
            s.expunge(doc)
        return doc


def store_document(
    *,
    doc_id: str,
    case_id: str,
    kind: str,
    title: str,
    cite: str,
    content: bytes,
    sha256: str,
    created_at: datetime,
    media_type: str = "text/html; charset=utf-8",
) -> Document:
    """Store a document once; if another attempt stored it first, return that one."""
    with suppress(IntegrityError), session() as s:  # a concurrent retry stored it first: that one wins
        s.add(
            Document(
                doc_id=doc_id,
                case_id=case_id,
                kind=kind,
                title=title,
                cite=cite,
                content=content,
                sha256=sha256,
                created_at=created_at,
                media_type=media_type,
            )
        )
    doc = load_document(doc_id)
    assert doc is not None
    return doc


def store_signature(doc_id: str, signature: bytes, cert_pem: bytes, subject: str) -> None:
    """Attach a signature to a document that has none yet."""
    with session() as s:
        doc = s.get(Document, doc_id)
        if doc is not None and doc.signature is None:
            doc.signature, doc.signer_cert_pem, doc.signer_subject = signature, cert_pem, subject
            s.add(doc)


def deliver_document(doc_id: str, case_id: str, recipient: str) -> datetime:
    """Record delivery to the personal account once; returns the (first) delivery instant."""
    with session() as s:
        existing = s.get(PersonalAccountDelivery, doc_id)
        if existing is None:
            existing = PersonalAccountDelivery(doc_id=doc_id, case_id=case_id, recipient=recipient)
            s.add(existing)
            s.flush()
        return existing.delivered_at


def record_sms(req: SmsRequest, now: datetime) -> tuple[datetime, bool]:
    """Put an SMS in the outbox once, its secret masked (``masked_text``); returns (accepted_at, whether this call
    created it)."""
    with session() as s:
        existing = s.get(SmsOutbox, req.message_id)
        if existing is not None:
            return existing.accepted_at, False
        s.add(
            SmsOutbox(
                message_id=req.message_id,
                case_id=req.case_id,
                to=req.to,
                sender=req.sender,
                text=req.masked_text or req.text,
                accepted_at=now,
            )
        )
    return now, True


def record_forward(case_id: str, body: str, doc_ids: list[str], now: datetime) -> datetime:
    """Record a complaint's forwarding once; returns the (first) forwarding instant."""
    with session() as s:
        existing = s.get(ComplaintForward, case_id)
        if existing is None:
            existing = ComplaintForward(case_id=case_id, body=body, doc_ids=",".join(doc_ids), forwarded_at=now)
            s.add(existing)
        return existing.forwarded_at
