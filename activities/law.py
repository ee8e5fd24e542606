"""Registration of a case: the registration day by the calendar and the governing act version.

Both can change under the engine (calendar corrections, an operator setting a publication date), so
they enter the case's history through this activity, never through workflow code.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from infra.calendar import current_calendar
from models.case import Registration, RegistrationRequest
from rules.acts import ActNotInForce, governing_version

__all__ = ["ACT_NOT_IN_FORCE", "register_case"]

ACT_NOT_IN_FORCE = "ActNotInForce"


@activity.defn
async def register_case(req: RegistrationRequest) -> Registration:
    """Registration day (after-hours/holiday rule, 665/NK p.6) and the act version in force that day.

    Raises a non-retryable ``ActNotInForce`` application error naming the abolishing order when no
    version governs (e.g. act 71 after Order 305/NK).
    """
    cal = current_calendar()
    day = cal.registration_day(req.received_at)
    local = cal.to_local(req.received_at)
    roll = None
    if day != local.date():
        roll = f"received {local.strftime('%Y-%m-%d %H:%M')} Asia/Almaty, registered on {day.isoformat()} (665/NK p.6)"
    try:
        v = governing_version(req.act_key, day)
    except ActNotInForce as exc:
        raise ApplicationError(str(exc), type=ACT_NOT_IN_FORCE, non_retryable=True) from exc
    return Registration(
        act_key=req.act_key,
        received_at=req.received_at,
        registered_on=day,
        after_hours_roll=roll,
        act_version_id=v.version_id,
        act_basis=v.basis,
        act_in_force_from=v.in_force_from,
        act_version_assumed=v.assumed,
        calendar_version=cal.version,
    )
