"""The supervisors' weekly figures (``api.overview``): which week a term's outcome counts in."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from activities.deadlines import compute
from api.overview import Breach, ProcedureWeeks, _count
from models.deadlines import DeadlineRequest, DeadlineState, DeadlineStatus
from rules import law
from rules.calendar import ALMATY, WorkingCalendar

CAL = WorkingCalendar()
MONDAYS = [date(2026, 11, 16) + timedelta(weeks=n) for n in range(3)]  # 16 Nov, 23 Nov, 30 Nov 2026
SINCE = datetime.combine(MONDAYS[0], time(0), tzinfo=ALMATY)


def breached(received: datetime, recorded: datetime) -> DeadlineState:
    value = law.term("mvno.completeness_check", on=CAL.registration_day(received), act="665/NK")
    req = DeadlineRequest(term_key=value.key, term=value, start=received)
    state = DeadlineState(key="completeness_check", deadline=compute(CAL, req), request=req)
    return state.model_copy(update={"status": DeadlineStatus.BREACHED, "breached_at": recorded})


def test_a_breach_counts_in_the_week_its_term_ran_out_not_the_week_it_was_recorded() -> None:
    """A receipt back-dated into the week of 16 November, recorded on 4 December: the breach is that week's (it was
    counted in the week the case began, an adversarial run of 2026-12-04); one due before the figures' first week is
    in no week and in no row of the breaches' list."""
    stats = ProcedureWeeks("mvno_permit", dict.fromkeys(MONDAYS, 0), dict.fromkeys(MONDAYS, 0))
    out: list[Breach] = []
    recorded = datetime(2026, 12, 4, 21, 40, tzinfo=ALMATY)
    back_dated = breached(datetime(2026, 11, 16, 10, 0, tzinfo=ALMATY), recorded)
    assert back_dated.due == datetime(2026, 11, 18, 18, 30, tzinfo=ALMATY)
    _count(back_dated, stats, SINCE, "mvno_permit-1", out)
    assert stats.breached == {MONDAYS[0]: 1, MONDAYS[1]: 0, MONDAYS[2]: 0}
    assert [(b.case_id, b.due, b.breached_at) for b in out] == [("mvno_permit-1", back_dated.due, recorded)]
    _count(breached(datetime(2025, 12, 15, 18, 31, tzinfo=ALMATY), recorded), stats, SINCE, "mvno_permit-2", out)
    assert sum(stats.breached.values()) == 1 and len(out) == 1
