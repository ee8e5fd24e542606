"""Registration of a case: the registration day by the calendar, and the law of the day that governs it.

The calendar, the act versions and the terms can all change under the engine (calendar corrections, an
operator setting a publication date, an amendment), so they enter the case's history through these
activities, never through workflow code. A case then keeps the law it recorded.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import activity
from temporalio.exceptions import ApplicationError

from infra.calendar import current_calendar
from infra.settings import settings
from models.case import LawSnapshot, LawSnapshotRequest, Registration, RegistrationRequest
from models.failures import ACT_NOT_IN_FORCE
from rules import law
from rules.acts import ActNotInForce
from rules.lawdata import TermValue

__all__ = ["law_snapshot", "register_case"]


def _only(terms: dict[str, TermValue], keys: list[str]) -> dict[str, TermValue]:
    """The terms of ``keys`` that ``terms`` holds (a term the version does not give stays absent), or all."""
    return {k: terms[k] for k in keys if k in terms} if keys else terms


@activity.defn
def register_case(req: RegistrationRequest) -> Registration:
    """The registration day, the governing day and the law in force that day: the act version and the terms the
    procedure counts (``req.terms``; empty: every term of the act).

    Where the act registers after-hours receipts on the next working day (665/NK p.6) the registration day
    governs; otherwise the day of receipt does (an application received while an act was in force is handled
    under it, whatever day the office registers it); such an act also issues results no earlier than the
    registration day, and ``results_from`` is the office's opening that day. Raises a non-retryable
    ``ActNotInForce`` application error naming the abolishing order when no version governs (e.g. act 71 after
    Order 305/NK).
    """
    cal = current_calendar()
    act = law.act(req.act_key)
    local = cal.to_local(req.received_at)
    day = law.governing_day(req.act_key, req.received_at, cal)
    roll = None
    if act.after_hours.rolls and day != local.date():
        roll = (
            f"received {local.strftime('%Y-%m-%d %H:%M')} Asia/Almaty, registered on {day.isoformat()} "
            f"({law.cite(req.act_key, *act.after_hours.reference)})"
        )
    try:
        v = law.governing_version(req.act_key, day)
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
        governed_on=day,
        terms=_only(law.terms_of(req.act_key, day), req.terms),
        results_from=datetime.combine(day, cal.office_hours.opens, tzinfo=cal.tz) if act.after_hours.rolls else None,
        timings=settings().timings,
    )


@activity.defn
def law_snapshot(req: LawSnapshotRequest) -> LawSnapshot:
    """The terms act ``req.act_key`` gives under version ``req.version`` (a law migration's target)."""
    if refusal := law.migration_refusal(req.act_key, req.version, req.terms):
        return LawSnapshot(act_key=req.act_key, version=req.version, refusal=refusal)
    version = law.act(req.act_key).version(req.version)
    return LawSnapshot(
        act_key=req.act_key,
        version=req.version,
        basis=version.basis,
        terms=_only(law.terms_at_version(req.act_key, req.version), req.terms),
    )
