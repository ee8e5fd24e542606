"""Deadlines enter a case's history here: computed from the calendar in force, and breaches escalated.

Workflows never compute a deadline themselves (DESIGN "Deadlines"): the instant, the term, the
citation and the calendar version are recorded as this activity's result, so a replay years later
uses exactly the instant the case waited on, whatever the calendar says by then.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from temporalio import activity

from infra.calendar import current_calendar
from infra.store import record_escalation
from models.deadlines import Deadline, DeadlineRequest, Escalation, SkippedDayRecord
from rules.calendar import WorkingCalendar
from rules.terms import Direction, Unit, term

__all__ = ["compute", "compute_deadline", "notify_supervisor"]

log = logging.getLogger(__name__)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 1 March
        return day.replace(year=day.year + years, month=3, day=1)


def compute(cal: WorkingCalendar, req: DeadlineRequest) -> Deadline:
    """The deadline of ``req`` under ``cal``, with its explanation."""
    t = term(req.term_key)
    local = cal.to_local(req.start)
    roll: str | None = None
    counted_from: date | None = None
    skipped = []
    weekend_work: list[date] = []
    if t.unit is Unit.WORKING_DAYS:
        if req.counted_from == "registration":
            counted_from = cal.registration_day(req.start)
            if counted_from != local.date():
                why = "a non-working day" if not cal.is_working_day(local.date()) else "after office hours"
                roll = (
                    f"received {local.strftime('%Y-%m-%d %H:%M')} Asia/Almaty ({why}, office closes "
                    f"{cal.office_hours.closes.strftime('%H:%M')}), registered on the next working day "
                    f"{counted_from.isoformat()} ({cal.office_hours.cite}; 665/NK p.6)"
                )
        else:
            counted_from = local.date()
        sign = -1 if t.direction is Direction.BEFORE else 1
        due_day = cal.add_working_days(counted_from, sign * t.amount)
        due = datetime.combine(due_day, cal.office_hours.closes, tzinfo=cal.tz)
        skipped = cal.skipped_days(local.date(), due_day)
        lo, hi = sorted((local.date(), due_day))
        weekend_work = cal.working_weekend_days(lo + timedelta(days=i) for i in range(1, (hi - lo).days + 1))
    elif t.unit is Unit.MINUTES:
        due = req.start + timedelta(minutes=t.amount) * (-1 if t.direction is Direction.BEFORE else 1)
    elif t.unit is Unit.CALENDAR_DAYS:
        sign = -1 if t.direction is Direction.BEFORE else 1
        due = datetime.combine(local.date() + timedelta(days=sign * t.amount + 1), time(0), tzinfo=cal.tz)
    else:  # YEARS: valid through the day before the anniversary
        years = -t.amount if t.direction is Direction.BEFORE else t.amount
        due = datetime.combine(_add_years(local.date(), years), time(0), tzinfo=cal.tz)
    return Deadline(
        term_key=t.key,
        label=req.label,
        amount=t.amount,
        unit=t.unit,
        direction=t.direction,
        cite=t.cite,
        text=t.text,
        start=req.start,
        counted_from_day=counted_from,
        due=due,
        calendar_version=cal.version,
        after_hours_roll=roll,
        skipped=[SkippedDayRecord(day=s.day, reason=s.reason, name=s.name) for s in skipped],
        working_weekend_days=weekend_work,
        to_be_confirmed=t.to_be_confirmed,
    )


@activity.defn
async def compute_deadline(req: DeadlineRequest) -> Deadline:
    """Compute a deadline under the calendar in force now and return it for the history."""
    return compute(current_calendar(), req)


@activity.defn
async def notify_supervisor(escalation: Escalation) -> None:
    """Tell the supervisor that a legal term was breached (locally: a row in the escalations table)."""
    created = record_escalation(escalation)
    log.warning(
        "deadline breached: case=%s procedure=%s term=%s (%s) due=%s%s",
        escalation.case_id,
        escalation.procedure,
        escalation.deadline_key,
        escalation.cite,
        escalation.due.isoformat(),
        "" if created else " (already escalated)",
    )
