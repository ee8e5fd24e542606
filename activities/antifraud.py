"""The National Bank antifraud centre (171 p.117, p.118, p.120): informing it of detections, suspensions,
unconfirmed signs and restorations.

The local implementation is the centre's inbox table ``antifraud_centre_messages``: a message id is stored
once, so a retried or repeated message is acknowledged again without a second message. An operator (or a
test) can put the centre "down" for a window (``antifraud_centre_outages``); inside the window every
attempt fails as a connection to a real centre would, and the case keeps trying with back-off. The window
is compared with the attempt's scheduled time as the Temporal server tells it, so an outage of an hour is
an hour of the cases' own time (and of the time-skipping test server's).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from infra.db import session
from models.fraud import CentreMessage, CentreReceipt
from models.tables import AntifraudCentreMessage, AntifraudCentreOutage
from rules.calendar import ALMATY

__all__ = [
    "CENTRE_UNAVAILABLE",
    "centre_down",
    "centre_outage_at",
    "centre_up",
    "deliver",
    "inform_antifraud_centre",
    "messages_for_case",
]

log = logging.getLogger(__name__)

CENTRE_UNAVAILABLE = "AntifraudCentreUnavailable"


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def centre_down(start: datetime, duration: timedelta, reason: str = "") -> None:
    """Make the local centre refuse messages from ``start`` for ``duration``."""
    with session() as s:
        s.add(AntifraudCentreOutage(down_from=_utc(start), down_until=_utc(start + duration), reason=reason))


def centre_up() -> int:
    """End every outage window; returns how many there were."""
    with session() as s:
        n = len(s.exec(select(AntifraudCentreOutage)).all())
        s.exec(delete(AntifraudCentreOutage))  # type: ignore[call-overload]
    return n


def centre_outage_at(at: datetime) -> datetime | None:
    """The end of the outage window covering ``at``, if any."""
    at = _utc(at)
    with session() as s:
        ends = s.exec(
            select(AntifraudCentreOutage.down_until)
            .where(col(AntifraudCentreOutage.down_from) <= at, col(AntifraudCentreOutage.down_until) > at)
        ).all()
        return max(ends) if ends else None


def deliver(message: CentreMessage, at: datetime) -> CentreReceipt:
    """Put ``message`` in the centre's inbox once; raises while the centre is down."""
    until = centre_outage_at(at)
    if until is not None:
        raise ApplicationError(
            f"antifraud centre unavailable (outage until {until.astimezone(ALMATY).isoformat(timespec='minutes')})",
            type=CENTRE_UNAVAILABLE,
        )
    try:
        with session() as s:
            row = s.get(AntifraudCentreMessage, message.message_id)
            if row is not None:
                return CentreReceipt(message_id=row.message_id, received_at=row.received_at, duplicate=True)
            s.add(AntifraudCentreMessage(message_id=message.message_id, case_id=message.case_id,
                                         kind=message.kind.value, payload=message.model_dump_json(), received_at=at))
        return CentreReceipt(message_id=message.message_id, received_at=at, duplicate=False)
    except IntegrityError:
        return deliver(message, at)


def messages_for_case(case_id: str) -> list[CentreMessage]:
    """What the local centre received about a case, oldest first."""
    with session() as s:
        rows = s.exec(
            select(AntifraudCentreMessage).where(AntifraudCentreMessage.case_id == case_id)
            .order_by(col(AntifraudCentreMessage.received_at))
        ).all()
        return [CentreMessage.model_validate_json(r.payload) for r in rows]


@activity.defn
async def inform_antifraud_centre(message: CentreMessage) -> CentreReceipt:
    """Send one message to the antifraud centre; idempotent by ``message.message_id``."""
    at = _utc(activity.info().current_attempt_scheduled_time)
    receipt = deliver(message, at)
    log.info("antifraud centre informed: case=%s kind=%s%s", message.case_id, message.kind.value,
             " (already received)" if receipt.duplicate else "")
    return receipt
