"""Deadlines enter a case's history here: computed from the calendar in force, and breaches escalated.

Workflows never compute a deadline themselves (DESIGN "Deadlines"): the instant, the term, the
citation and the calendar version are recorded as this activity's result, so a replay years later
uses exactly the instant the case waited on, whatever the calendar says by then.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from temporalio import activity

from infra.calendar import current_calendar
from infra.store import record_escalation
from models.deadlines import Deadline, DeadlineRequest, Escalation, SkippedDayRecord
from rules import law
from rules.calendar import WorkingCalendar
from rules.terms import Direction, Unit, term

__all__ = ["compute", "compute_deadline", "earliest_act_day", "notify_supervisor"]

log = logging.getLogger(__name__)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 1 March
        return day.replace(year=day.year + years, month=3, day=1)


@dataclass(frozen=True)
class _Term:
    """What counting needs of a term, from the case's recorded value or (older cases) the undated table."""

    key: str
    amount: int
    unit: Unit
    direction: Direction
    cite: str
    text: str
    rolls: bool
    roll_cite: str
    to_be_confirmed: bool
    civil_code_years: bool


def _roll_cites(office_hours: str, roll: str) -> str:
    """The office hours' citation and the act's after-hours rule, the former left out where the latter names it
    (665/NK's rule is p.6 with Annex 1 item 8, the office hours themselves)."""
    act, _, reference = office_hours.partition(" ")
    named = {part.removeprefix(f"{act} ") for part in roll.split("; ")} if roll.startswith(f"{act} ") else set()
    return roll if reference in named else f"{office_hours}; {roll}"


def _term(req: DeadlineRequest) -> _Term:
    if req.term is not None:
        t = req.term
        after_hours = law.act(t.act).after_hours
        return _Term(
            t.key,
            t.amount,
            t.unit,
            t.direction,
            t.reference,
            t.text,
            t.rolls,
            law.cite(t.act, *after_hours.reference) if t.rolls else "",
            t.to_be_confirmed,
            civil_code_years=True,
        )
    # A case registered before the law was recorded keeps the reading it was computed with.
    old = term(req.term_key)
    return _Term(
        old.key,
        old.amount,
        old.unit,
        old.direction,
        old.cite,
        old.text,
        req.counted_from == "registration",
        law.cite("665/NK", "p.6"),
        old.to_be_confirmed,
        civil_code_years=False,
    )


def compute(cal: WorkingCalendar, req: DeadlineRequest) -> Deadline:
    """The deadline of ``req`` under ``cal``, with its explanation.

    Working days: where the term's act registers after-hours receipts on the next working day (665/NK p.6) and
    the term runs from a receipt, counting starts from that registration day; otherwise from the day of the
    start itself, which is not counted (Civil Code: a term in days begins on the day after the event). The
    due instant is 18:30 Asia/Almaty of the last day. Years: the term ends on the corresponding month and day
    of its last year (a permit issued 1 Dec 2026 is valid through 1 Dec 2036; due 00:00 the day after).

    A start before ``req.not_before`` (the event the term counts from at the earliest, e.g. the receipt) is counted
    from that event instead, and the deadline's note says so. ``req.earliest_act`` asks a backward term for the
    earliest lawful act after the start (``earliest_act_day``).
    """
    t = _term(req)
    start, note = req.start, None
    if req.not_before is not None and start < req.not_before:  # never before the event the term counts from
        start = req.not_before
        note = (
            f"counted from {_local(cal, req.not_before)} Asia/Almaty, the event the term counts from at the earliest "
            f"(the start given, {_local(cal, req.start)}, lies before it)"
        )
    local = cal.to_local(start)
    if req.earliest_act:
        return _earliest_act(cal, req, t, start)
    roll: str | None = None
    counted_from: date | None = None
    skipped = []
    weekend_work: list[date] = []
    sign = -1 if t.direction is Direction.BEFORE else 1
    if t.unit is Unit.WORKING_DAYS:
        if t.rolls:
            counted_from = cal.registration_day(start)
            if counted_from != local.date():
                why = (  # the office's closing hour said only where it decided: not of a day it is shut
                    "a non-working day"
                    if not cal.is_working_day(local.date())
                    else f"after office hours, office closes {cal.office_hours.closes.strftime('%H:%M')}"
                )
                roll = (
                    f"received {local.strftime('%Y-%m-%d %H:%M')} Asia/Almaty ({why}), registered on the next "
                    f"working day {counted_from.isoformat()} ({_roll_cites(cal.office_hours.cite, t.roll_cite)})"
                )
        else:
            counted_from = local.date()
        due_day = cal.add_working_days(counted_from, sign * t.amount)
        due = datetime.combine(due_day, cal.office_hours.closes, tzinfo=cal.tz)
        skipped = cal.skipped_days(local.date(), due_day)
        lo, hi = sorted((local.date(), due_day))
        weekend_work = cal.working_weekend_days(lo + timedelta(days=i) for i in range(1, (hi - lo).days + 1))
    elif t.unit is Unit.MINUTES:
        due = start + timedelta(minutes=t.amount) * sign
    elif t.unit is Unit.CALENDAR_DAYS:
        due = datetime.combine(local.date() + timedelta(days=sign * t.amount + 1), time(0), tzinfo=cal.tz)
    else:  # YEARS
        last_day = _add_years(local.date(), sign * t.amount)
        if not t.civil_code_years:  # the reading of cases computed before: through the day before the anniversary
            last_day -= timedelta(days=1)
        due = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=cal.tz)
    return Deadline(
        term_key=t.key,
        label=req.label,
        amount=t.amount,
        unit=t.unit,
        direction=t.direction,
        cite=t.cite,
        text=t.text,
        start=start,
        counted_from_day=counted_from,
        due=due,
        calendar_version=cal.version,
        after_hours_roll=roll,
        skipped=[SkippedDayRecord(day=s.day, reason=s.reason, name=s.name) for s in skipped],
        working_weekend_days=weekend_work,
        to_be_confirmed=t.to_be_confirmed,
        note=note,
    )


def _local(cal: WorkingCalendar, moment: datetime) -> str:
    return cal.to_local(moment).strftime("%Y-%m-%d %H:%M")


def earliest_act_day(cal: WorkingCalendar, event_day: date, working_days: int) -> date:
    """The first working day D such that ``event_day`` is no later than D minus ``working_days`` working days:
    the earliest day of an act that ``event_day``'s event must precede by that term ("no later than N working days
    before the act"). An event on a day off counts from the next working day, which is not itself one of the N."""
    day = event_day
    while not (cal.is_working_day(day) and cal.add_working_days(day, -working_days) >= event_day):
        day += timedelta(days=1)
    return day


def _earliest_act(cal: WorkingCalendar, req: DeadlineRequest, t: _Term, start: datetime) -> Deadline:
    """``req.earliest_act``: the earliest lawful act after the event at ``start`` under the backward term ``t``;
    due at the office's closing on that day."""
    if t.direction is not Direction.BEFORE or t.unit is not Unit.WORKING_DAYS:
        raise ValueError(f"{t.key}: the earliest act is asked of a term in working days counted before the act")
    event_day = cal.to_local(start).date()
    act_day = earliest_act_day(cal, event_day, t.amount)
    latest_event_day = cal.add_working_days(act_day, -t.amount)
    note = (
        f"the act no earlier than {act_day.isoformat()}, the first working day with the event's day "
        f"{event_day.isoformat()} no later than {t.amount} working days before it ({latest_event_day.isoformat()}; "
        f"{t.cite})"
    )
    return Deadline(
        term_key=t.key,
        label=req.label,
        amount=t.amount,
        unit=t.unit,
        direction=t.direction,
        cite=t.cite,
        text=t.text,
        start=start,
        counted_from_day=event_day,
        due=datetime.combine(act_day, cal.office_hours.closes, tzinfo=cal.tz),
        calendar_version=cal.version,
        skipped=[
            SkippedDayRecord(day=s.day, reason=s.reason, name=s.name) for s in cal.skipped_days(event_day, act_day)
        ],
        working_weekend_days=cal.working_weekend_days(
            event_day + timedelta(days=i) for i in range(1, (act_day - event_day).days + 1)
        ),
        to_be_confirmed=t.to_be_confirmed,
        note=note,
    )


@activity.defn
def compute_deadline(req: DeadlineRequest) -> Deadline:
    """Compute a deadline under the calendar in force now and return it for the history."""
    return compute(current_calendar(), req)


@activity.defn
def notify_supervisor(escalation: Escalation) -> None:
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
