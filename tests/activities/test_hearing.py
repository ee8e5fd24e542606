"""The hearing calendar (``activities.hearing``, 665/NK p.7): for each notice day, the latest hearing and the
earliest decision."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time

from temporalio.testing import ActivityEnvironment

from activities.hearing import hearing_windows
from models.mvno_permit import HearingWindowsRequest
from rules.calendar import ALMATY, WorkingCalendar


async def test_hearing_windows_give_the_two_limits_of_p7_per_notice_day() -> None:
    cal = WorkingCalendar()
    start = datetime(2027, 3, 19, 15, 0, tzinfo=ALMATY)  # the Friday before Nauryz 2027
    days = ActivityEnvironment().run(hearing_windows, HearingWindowsRequest(start=start, days=10))
    assert len(days) == 10 and days[0].day == date(2027, 3, 19)
    first = days[0]
    assert first.hearing_due.due == datetime.combine(
        cal.add_working_days(date(2027, 3, 19), 2), time(18, 30), tzinfo=ALMATY
    )
    assert first.hearing_due.cite == "665/NK p.7"
    assert first.decision_not_before == datetime.combine(
        cal.add_working_days(date(2027, 3, 19), 3), time(0), tzinfo=ALMATY
    )
    assert first.decision_not_before.date() > date(2027, 3, 24)  # the holidays are not counted
    assert all(d.starts_at < d.ends_at == n.starts_at for d, n in itertools.pairwise(days))


async def test_a_notice_on_a_day_off_allows_the_act_one_working_day_later_than_the_forward_count() -> None:
    """665/NK p.7, counted back from the act: a notice on Saturday 20 March 2027 allows the act on 30 March at the
    earliest (the forward count, notice + 3 working days, gave 29 March); the calendar also says when the office
    works each day (Annex 1 item 8(2)), for a hearing set on it."""
    start = datetime(2027, 3, 19, 15, 0, tzinfo=ALMATY)
    days = ActivityEnvironment().run(hearing_windows, HearingWindowsRequest(start=start, days=12))
    saturday = next(d for d in days if d.day == date(2027, 3, 20))
    assert saturday.decision_not_before == datetime(2027, 3, 30, 0, 0, tzinfo=ALMATY)
    assert saturday.notice_lead is not None and saturday.decision_term is saturday.notice_lead
    assert saturday.notice_lead.cite == "665/NK p.7" and saturday.decision_after_notice is None
    assert saturday.office_hours == [] and saturday.day_off == "weekend: Saturday"
    friday = days[0]
    assert [(i.starts_at.time(), i.ends_at.time()) for i in friday.office_hours or []] == [
        (time(9, 0), time(13, 0)),
        (time(14, 30), time(18, 30)),
    ]
