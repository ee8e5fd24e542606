"""The hearing calendar of 665/NK p.7, computed from the calendar in force and recorded in the case.

For each day the hearing notice could go out: the latest instant of the hearing (no later than 2 working
days from the notice) and the first day the decision may be adopted (the notice goes out no later than
3 working days before it). The workflow's validators check staff input against these recorded instants,
never against a computation of their own.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from temporalio import activity

from activities.deadlines import compute
from infra.calendar import current_calendar
from models.deadlines import DeadlineRequest
from models.mvno_permit import HearingWindowsRequest, NoticeDay

__all__ = ["hearing_windows"]


@activity.defn
async def hearing_windows(req: HearingWindowsRequest) -> list[NoticeDay]:
    """The notice days from ``req.start`` for ``req.days`` calendar days, each with its two limits."""
    cal = current_calendar()
    first = cal.to_local(req.start).date()
    out = []
    for i in range(req.days):
        day = first + timedelta(days=i)
        starts = datetime.combine(day, time(0), tzinfo=cal.tz)
        ends = datetime.combine(day + timedelta(days=1), time(0), tzinfo=cal.tz)
        hearing = compute(
            cal,
            DeadlineRequest(term_key="mvno.hearing_after_notice", start=starts, counted_from="day", label="hearing"),
        )
        decision = compute(
            cal,
            DeadlineRequest(
                term_key="mvno.decision_after_notice", start=starts, counted_from="day", label="decision_not_before"
            ),
        )
        not_before = datetime.combine(cal.to_local(decision.due).date(), time(0), tzinfo=cal.tz)
        out.append(
            NoticeDay(
                day=day,
                starts_at=starts,
                ends_at=ends,
                hearing_due=hearing,
                decision_after_notice=decision,
                decision_not_before=not_before,
            )
        )
    return out
