"""Test helpers for the subscriber procedures: people in the local registry, SMS read from the outbox."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from activities.otp import LINK_BASE, secret_digest
from activities.state_registry import add_person
from infra.db import session
from models.subscriber import SecretEntry
from models.tables import SmsOutbox
from rules.identifiers import check_digit

__all__ = ["digest_entry", "new_iin", "new_phone", "person", "sms_secret", "sms_to"]


def new_iin() -> str:
    """A valid IIN not used by another test (born 1990-01-01, male, random serial)."""
    while True:
        first = "9001013" + f"{uuid.uuid4().int % 10**4:04d}"
        digit = check_digit(first)
        if digit is not None:
            return first + str(digit)


def new_phone() -> str:
    """A Kazakhstan mobile number not used by another test."""
    return f"+7701{uuid.uuid4().int % 10**7:07d}"


def person(*, valid: bool = True, consent: bool = True, name: str = "ASANOV ASAN") -> str:
    """A person in the local state registry; returns the IIN."""
    iin = new_iin()
    until = datetime.now(UTC) + (timedelta(days=3650) if valid else -timedelta(days=1))
    add_person(iin, name, document_valid_until=until, consent=consent)
    return iin


def sms_to(phone: str) -> list[SmsOutbox]:
    with session() as s:
        return list(s.exec(select(SmsOutbox).where(SmsOutbox.to == phone).order_by(SmsOutbox.accepted_at)))


def sms_secret(phone: str, sender: str) -> str:
    """The code or link token in the latest SMS from ``sender`` to ``phone``, as the subscriber reads it."""
    [*_, last] = [m for m in sms_to(phone) if m.sender == sender]
    if LINK_BASE in last.text:
        return last.text.split(LINK_BASE, 1)[1]
    m = re.search(r"code (\d{6})", last.text)
    assert m, "no code in the SMS"
    return m.group(1)


def digest_entry(secret_id: str, secret: str) -> SecretEntry:
    return SecretEntry(digest=secret_digest(secret_id, secret))
