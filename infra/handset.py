"""The local SMS gateway's stand-in for the subscribers' phones: what each number received, in full.

A one-time code or a signing link must reach someone for a local case to go on, and the outbox (``sms_outbox``,
shown on the console) keeps every SMS with its secret masked. So the local gateway also hands each message, as
sent, to this "handset": one JSON line per message in ``<KZ_DATA_DIR>/handsets.jsonl``, created owner-only
(0600). It is not one of our tables (neither the console, the API nor a copy of the database sees it), only the
local gateway writes it (production sends through the operator's gateway, and nothing stays with us) and only the
demo's ``starter.py subscriber sms NUMBER`` and the tests read it, as the subscriber reads the phone.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from infra.settings import settings
from models.sms import SmsRequest

__all__ = ["HandsetMessage", "deliver", "received"]


@dataclass(frozen=True)
class HandsetMessage:
    """One SMS as the phone shows it."""

    message_id: str
    sender: str
    text: str
    received_at: datetime


def _path() -> Path:
    return settings().data_dir / "handsets.jsonl"


def deliver(req: SmsRequest, at: datetime) -> None:
    """Put ``req`` on the phone of ``req.to`` (a repeated message id shows once: ``received`` keeps the first)."""
    line = json.dumps(
        {"message_id": req.message_id, "to": req.to, "sender": req.sender, "text": req.text, "at": at.isoformat()},
        ensure_ascii=False,
    )
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(line + "\n")  # one write of one line: appends of concurrent senders do not interleave


def received(to: str) -> list[HandsetMessage]:
    """What the phone ``to`` (E.164) received, oldest first."""
    path = _path()
    if not path.exists():
        return []
    seen: dict[str, HandsetMessage] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        m = json.loads(line)
        if m["to"] == to and m["message_id"] not in seen:
            seen[m["message_id"]] = HandsetMessage(
                m["message_id"], m["sender"], m["text"], datetime.fromisoformat(m["at"])
            )
    return sorted(seen.values(), key=lambda m: m.received_at)
