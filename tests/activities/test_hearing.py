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
    days = await ActivityEnvironment().run(hearing_windows, HearingWindowsRequest(start=start, days=10))
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
