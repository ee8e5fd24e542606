"""Test helpers for the subscriber procedures: people in the local registry, SMS read from the outbox."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from google.protobuf import json_format
from sqlmodel import col, select
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from activities.otp import LINK_BASE, secret_digest
from activities.state_registry import add_person
from adapters.local_ca import local_ca, sign_cms
from infra.client import data_converter
from infra.db import session
from infra.handset import received
from models.identification import EdsSignatureEvent, SecretEntry
from models.tables import SmsOutbox
from rules.identifiers import check_digit

__all__ = [
    "digest_entry",
    "eds_signature",
    "history_text",
    "new_iin",
    "new_phone",
    "person",
    "rejected",
    "sms_secret",
    "sms_to",
    "until",
]

T = TypeVar("T")


def new_iin() -> str:
    """A valid IIN not used by another test: a man born on a random day of 1950–1999, random serial from 1000 (the
    serials below are the demo people's and the tests' fixed IINs, whose registry rows a random one must never
    overwrite). One birthday gave some 8,100 IINs, and a run of the suite draws hundreds per process: two tests
    drew the same person, and one found the other's number on its applicant's account."""
    while True:
        r = uuid.uuid4().int
        born = date(1950, 1, 1) + timedelta(days=r % 18_262)
        first = born.strftime("%y%m%d") + "3" + f"{1000 + (r >> 32) % 9000:04d}"
        digit = check_digit(first)
        if digit is not None:
            return first + str(digit)


def new_phone() -> str:
    """A Kazakhstan mobile number not used by another test."""
    return f"+7701{uuid.uuid4().int % 10**7:07d}"


def person(*, valid: bool = True, consent: bool = True, name: str = "ASANOV ASAN") -> str:
    """A person in the local state registry; returns the IIN."""
    iin = new_iin()
    # The time-skipping server may jump years ahead (to a run timeout) while a test waits for a result.
    until = datetime(2999, 12, 31, tzinfo=UTC) if valid else datetime.now(UTC) - timedelta(days=1)
    add_person(iin, name, document_valid_until=until, consent=consent)
    return iin


def sms_to(phone: str) -> list[SmsOutbox]:
    with session() as s:
        return list(s.exec(select(SmsOutbox).where(SmsOutbox.to == phone).order_by(col(SmsOutbox.accepted_at))))


def sms_secret(phone: str, sender: str) -> str:
    """The code or link token in the latest SMS from ``sender`` to ``phone``, as the subscriber reads it on the
    phone (the outbox keeps it masked)."""
    [*_, last] = [m for m in received(phone) if m.sender == sender]
    if LINK_BASE in last.text:
        return last.text.split(LINK_BASE, 1)[1]
    m = re.search(r"код (\d{6})", last.text)
    assert m, "no code in the SMS"
    return m.group(1)


def digest_entry(secret_id: str, secret: str) -> SecretEntry:
    return SecretEntry(digest=secret_digest(secret_id, secret))


async def history_text(handle: WorkflowHandle) -> str:
    """The fetched history as JSON plus every payload decrypted and decoded: all an auditor could read."""
    raw = (await handle.fetch_history()).to_json()
    codec = data_converter().payload_codec
    payloads: list[Payload] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("data"), str) and "metadata" in node:
                payloads.append(json_format.ParseDict(node, Payload()))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.loads(raw))
    assert payloads, "no payloads found: the helper would prove nothing"
    decoded = await codec.decode(payloads) if codec else payloads
    return raw + "\n" + "\n".join(p.data.decode("utf-8", "replace") for p in decoded)


def eds_signature(iin: str, payload: str, name: str = "ASANOV ASAN") -> EdsSignatureEvent:
    """A real CMS signature over ``payload`` by a certificate of the local test CA naming ``iin``."""
    return EdsSignatureEvent(signature=sign_cms(payload.encode(), local_ca().issue(name, iin=iin)))


async def until(probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], *, seconds: float = 15) -> T:
    """Poll ``probe`` (e.g. a query) in real time until ``ok``; the activities run in real time."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await probe()
        if ok(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached in {seconds}s; last value: {value!r}")
        await asyncio.sleep(0.05)


async def rejected(call: Awaitable[object]) -> str:
    """The message with which an Update was rejected (validator) or failed; fails if it was accepted."""
    try:
        await call
    except WorkflowUpdateFailedError as exc:
        return str(getattr(exc.cause, "message", None) or exc.cause)
    raise AssertionError("the update was accepted")
