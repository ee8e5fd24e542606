"""The hearing calendar of 665/NK p.7, computed from the calendar in force and recorded in the case.

For each day the hearing notice could go out: the latest instant of the hearing (no later than 2 working
days from the notice), the first day the decision may be adopted (the notice goes out no later than 3 working
days before it: counted back from the act, ``mvno.hearing_notice_lead``), and when the provider's office works
that day (Annex 1 item 8(2)), for a hearing set on it. The workflow's validators check staff input against these
recorded instants, never against a computation of their own.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from temporalio import activity

from activities.deadlines import compute
from infra.calendar import current_calendar
from models.deadlines import DeadlineRequest
from models.mvno_permit import HearingWindowsRequest, NoticeDay, OfficeInterval
from rules.calendar import WorkingCalendar

__all__ = ["hearing_windows"]


def _office_hours(cal: WorkingCalendar, day: datetime) -> list[OfficeInterval]:
    """When the office works on ``day``: morning and afternoon around the lunch break; nothing on a day off."""
    if not cal.is_working_day(day.date()):
        return []
    h = cal.office_hours
    at = [datetime.combine(day.date(), t, tzinfo=cal.tz) for t in (h.opens, h.lunch_start, h.lunch_end, h.closes)]
    return [OfficeInterval(starts_at=at[0], ends_at=at[1]), OfficeInterval(starts_at=at[2], ends_at=at[3])]


@activity.defn
def hearing_windows(req: HearingWindowsRequest) -> list[NoticeDay]:
    """The notice days from ``req.start`` for ``req.days`` calendar days, each with its two limits and office hours."""
    cal = current_calendar()
    first = cal.to_local(req.start).date()
    out = []
    for i in range(req.days):
        day = first + timedelta(days=i)
        starts = datetime.combine(day, time(0), tzinfo=cal.tz)
        ends = datetime.combine(day + timedelta(days=1), time(0), tzinfo=cal.tz)
        hearing = compute(
            cal,
            DeadlineRequest(
                term_key="mvno.hearing_after_notice",
                term=req.terms.get("mvno.hearing_after_notice"),
                start=starts,
                counted_from="day",
                label="hearing",
            ),
        )
        lead = compute(
            cal,
            DeadlineRequest(
                term_key="mvno.hearing_notice_lead",
                term=req.terms.get("mvno.hearing_notice_lead"),
                start=starts,
                counted_from="day",
                earliest_act=True,
                label="decision_not_before",
            ),
        )
        off = cal.day_off_reason(day)
        out.append(
            NoticeDay(
                day=day,
                starts_at=starts,
                ends_at=ends,
                hearing_due=hearing,
                notice_lead=lead,
                decision_not_before=datetime.combine(cal.to_local(lead.due).date(), time(0), tzinfo=cal.tz),
                office_hours=_office_hours(cal, starts),
                day_off=f"{off.reason.value}: {off.name}" if off else None,
            )
        )
    return out
