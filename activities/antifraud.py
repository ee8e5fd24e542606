"""The National Bank antifraud centre (171 p.117, p.118, p.120): informing it of detections, suspensions,
unconfirmed signs and restorations.

The ``AntifraudCentre`` port takes a message once per message id: a retried or repeated message is
acknowledged again without a second message. Locally the centre's inbox is the table
``antifraud_centre_messages``; an operator (or a test) can put the centre "down" for a window
(``infra.outages``, system ``antifraud_centre``), inside which every attempt fails as a connection to a real
centre would, and the activity's retry policy keeps trying. The window is compared with the attempt's
scheduled time as the Temporal server tells it, so an outage of an hour is an hour of the cases' own time
(and of the time-skipping test server's).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from temporalio import activity

from infra.db import session
from infra.outages import raise_if_down, unavailable_type
from models.fraud_check import CentreMessage, CentreReceipt
from models.tables import AntifraudCentreMessage

__all__ = [
    "CENTRE_UNAVAILABLE",
    "SYSTEM",
    "AntifraudActivities",
    "AntifraudCentre",
    "LocalAntifraudCentre",
    "deliver",
    "messages_for_case",
]

log = logging.getLogger(__name__)

SYSTEM = "antifraud_centre"
CENTRE_UNAVAILABLE = unavailable_type(SYSTEM)


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def deliver(message: CentreMessage, at: datetime) -> CentreReceipt:
    """Put ``message`` in the local centre's inbox once; raises while the centre is down."""
    raise_if_down(SYSTEM, at)
    try:
        with session() as s:
            row = s.get(AntifraudCentreMessage, message.message_id)
            if row is not None:
                return CentreReceipt(message_id=row.message_id, received_at=row.received_at, duplicate=True)
            s.add(
                AntifraudCentreMessage(
                    message_id=message.message_id,
                    case_id=message.case_id,
                    kind=message.kind.value,
                    payload=message.model_dump_json(),
                    received_at=at,
                )
            )
        return CentreReceipt(message_id=message.message_id, received_at=at, duplicate=False)
    except IntegrityError:
        return deliver(message, at)


def messages_for_case(case_id: str) -> list[CentreMessage]:
    """What the local centre received about a case, oldest first."""
    with session() as s:
        rows = s.exec(
            select(AntifraudCentreMessage)
            .where(AntifraudCentreMessage.case_id == case_id)
            .order_by(col(AntifraudCentreMessage.received_at))
        ).all()
        return [CentreMessage.model_validate_json(r.payload) for r in rows]


class AntifraudCentre(Protocol):
    """Receives one message; idempotent by ``message.message_id``.

    ``at`` is the instant of this attempt as the Temporal server scheduled it.
    """

    def deliver(self, message: CentreMessage, at: datetime) -> CentreReceipt: ...


class LocalAntifraudCentre:
    """The ``antifraud_centre_messages`` inbox; rehearsal outages of ``antifraud_centre`` apply."""

    def deliver(self, message: CentreMessage, at: datetime) -> CentreReceipt:
        return deliver(message, at)


class AntifraudActivities:
    """The antifraud centre's activity."""

    def __init__(self, centre: AntifraudCentre) -> None:
        self.centre = centre

    @activity.defn(name="inform_antifraud_centre")
    def inform_antifraud_centre(self, message: CentreMessage) -> CentreReceipt:
        """Send one message to the antifraud centre; idempotent by ``message.message_id``.

        The receipt says which attempt of this activity reached the centre (Temporal's count).
        """
        info = activity.info()
        receipt = self.centre.deliver(message, _utc(info.current_attempt_scheduled_time))
        log.info(
            "antifraud centre informed: case=%s kind=%s%s",
            message.case_id,
            message.kind.value,
            " (already received)" if receipt.duplicate else "",
        )
        return receipt.model_copy(update={"attempt": info.attempt})
