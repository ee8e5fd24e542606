"""Outages of the outside systems' local implementations, to rehearse failures (tests, demos, drills).

An operator or a test declares a window in which a system (``sms_gateway``, ``antifraud_centre``,
``state_registry``, …) refuses connections, or refuses for good (``permanent``). Local activities call
``raise_if_down(system)`` first. The window is compared with the attempt's scheduled time as the
Temporal server tells it, so an outage of an hour is an hour of the cases' own time, also on the
time-skipping test server. A temporary outage raises a retryable error (the activity's retry policy
backs off and the delay shows on the case); a permanent one a non-retryable error the workflow turns
into a clear case status.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, delete, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from infra.db import session
from models.tables import OutsideSystemOutage
from rules.calendar import ALMATY

__all__ = ["SYSTEMS", "begin", "end", "outage_at", "raise_if_down", "unavailable_type"]

SYSTEMS = (
    "sms_gateway",
    "antifraud_centre",
    "network",
    "state_registry",
    "monitoring",
    "permits_registry",
    "eds",
    "biometrics",
)


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def unavailable_type(system: str) -> str:
    """The application error type raised while ``system`` is down, e.g. ``SmsGatewayUnavailable``."""
    return "".join(p.capitalize() for p in system.split("_")) + "Unavailable"


def begin(
    system: str, start: datetime, duration: timedelta | None, reason: str = "", *, permanent: bool = False
) -> None:
    """Declare ``system`` down from ``start`` for ``duration`` (``None``: until ``end``)."""
    if system not in SYSTEMS:
        raise ValueError(f"unknown outside system {system!r}; known: {', '.join(SYSTEMS)}")
    until = _utc(start + duration) if duration is not None else datetime(9999, 1, 1, tzinfo=UTC)
    with session() as s:
        s.add(
            OutsideSystemOutage(
                system=system, down_from=_utc(start), down_until=until, reason=reason, permanent=permanent
            )
        )


def end(system: str) -> int:
    """End every outage window of ``system``; returns how many there were."""
    with session() as s:
        rows = s.exec(select(OutsideSystemOutage).where(OutsideSystemOutage.system == system)).all()
        s.exec(delete(OutsideSystemOutage).where(col(OutsideSystemOutage.system) == system))  # type: ignore[call-overload]
    return len(rows)


def outage_at(system: str, at: datetime) -> OutsideSystemOutage | None:
    """The outage of ``system`` covering ``at`` (the latest-ending one), if any."""
    at = _utc(at)
    with session() as s:
        rows = s.exec(
            select(OutsideSystemOutage).where(
                OutsideSystemOutage.system == system,
                col(OutsideSystemOutage.down_from) <= at,
                col(OutsideSystemOutage.down_until) > at,
            )
        ).all()
    return max(rows, key=lambda r: (r.permanent, r.down_until)) if rows else None


def raise_if_down(system: str, at: datetime | None = None) -> None:
    """Inside an activity: fail this attempt as a real connection would while ``system`` is down."""
    when = at or _utc(activity.info().current_attempt_scheduled_time)
    out = outage_at(system, when)
    if out is None:
        return
    if out.permanent:
        raise ApplicationError(
            f"{system.replace('_', ' ')} refuses the request permanently ({out.reason})",
            type=unavailable_type(system),
            non_retryable=True,
        )
    until = _utc(out.down_until).astimezone(ALMATY).isoformat(timespec="minutes")
    raise ApplicationError(
        f"{system.replace('_', ' ')} unavailable (outage until {until})", type=unavailable_type(system)
    )
