"""The deadline computation (``activities.deadlines.compute``) at the edges of 665/NK p.6 and p.7: a term never
counts from before the event it counts from, and a term counted back from an act gives its earliest lawful day."""

from __future__ import annotations

from datetime import date, datetime, time

from activities.deadlines import compute, earliest_act_day
from models.deadlines import DeadlineRequest
from rules import law
from rules.calendar import ALMATY, WorkingCalendar
from rules.terms import Direction

CAL = WorkingCalendar()


def test_a_term_never_counts_from_before_the_event_it_counts_from() -> None:
    received = datetime(2027, 3, 19, 19, 0, tzinfo=ALMATY)  # Friday after hours, before Nauryz
    registered = CAL.registration_day(received)
    assert registered == date(2027, 3, 25)
    value = law.term("mvno.qualification_check", on=registered, act="665/NK")
    too_early = datetime(2027, 3, 12, 10, 0, tzinfo=ALMATY)  # a decision dated a week before the receipt
    plain = compute(CAL, DeadlineRequest(term_key=value.key, term=value, start=too_early))
    floored = compute(CAL, DeadlineRequest(term_key=value.key, term=value, start=too_early, not_before=received))
    assert plain.due < datetime.combine(registered, time(9), tzinfo=ALMATY)  # what the floor prevents
    assert floored.start == received and floored.counted_from_day == registered
    assert floored.due == datetime.combine(CAL.add_working_days(registered, 3), time(18, 30), tzinfo=ALMATY)
    assert floored.note and "counted from 2027-03-19 19:00 Asia/Almaty" in floored.note
    assert floored.note in floored.explain()
    # a start after the event is counted as it is
    later = datetime(2027, 3, 25, 10, 0, tzinfo=ALMATY)
    assert compute(CAL, DeadlineRequest(term_key=value.key, term=value, start=later, not_before=received)).note is None


def test_the_earliest_act_a_notice_allows_counts_back_from_the_act() -> None:
    """665/NK p.7, the example of issue 14: a hearing notice on Saturday 20 March 2027 (Nauryz follows) allows the
    act on 30 March at the earliest (25, 26 and 29 March lie between), not on 29 March (notice + 3 working days)."""
    value = law.term("mvno.hearing_notice_lead", on=date(2027, 3, 20), act="665/NK")
    assert value.direction is Direction.BEFORE and value.amount == 3
    saturday = datetime(2027, 3, 20, 11, 0, tzinfo=ALMATY)
    d = compute(CAL, DeadlineRequest(term_key=value.key, term=value, start=saturday, earliest_act=True))
    assert d.due == datetime(2027, 3, 30, 18, 30, tzinfo=ALMATY) and d.counted_from_day == date(2027, 3, 20)
    assert CAL.add_working_days(date(2027, 3, 20), 3) == date(2027, 3, 29)  # the forward count
    assert CAL.add_working_days(date(2027, 3, 29), -3) == date(2027, 3, 19)  # too late for an act on the 29th
    assert d.note and "the act no earlier than 2027-03-30" in d.note and "2027-03-25" in d.note
    assert {s.day for s in d.skipped} >= {date(2027, 3, 21), date(2027, 3, 24), date(2027, 3, 28)}
    # a notice on a working day: the 3rd working day after it, as both readings agree
    assert earliest_act_day(CAL, date(2027, 3, 19), 3) == CAL.add_working_days(date(2027, 3, 19), 3)
    assert earliest_act_day(CAL, date(2027, 3, 26), 3) == date(2027, 3, 31)


def test_an_after_hours_roll_cites_the_rule_once() -> None:
    """A Friday-evening receipt rolls to the next working day under 665/NK p.6 and Annex 1 item 8 (the office
    hours): each is cited once, where the office hours' citation was once repeated beside the act's rule."""
    received = datetime(2027, 3, 19, 19, 0, tzinfo=ALMATY)
    value = law.term("mvno.qualification_check", on=CAL.registration_day(received), act="665/NK")
    roll = compute(CAL, DeadlineRequest(term_key=value.key, term=value, start=received)).after_hours_roll
    assert roll is not None and roll.endswith(
        "registered on the next working day 2027-03-25 (665/NK p.6; Annex 1 item 8)"
    )
    assert roll.count("Annex 1 item 8") == 1
    assert "(after office hours, office closes 18:30)" in roll


def test_a_receipt_on_a_day_off_is_not_said_to_be_after_closing() -> None:
    """Received on Independence Day at 18:00, before the hour a working day closes: the roll says the day is not a
    working one, and no closing hour the office did not keep that day (an adversarial run, 2026-12-04)."""
    received = datetime(2026, 12, 16, 18, 0, tzinfo=ALMATY)
    value = law.term("mvno.qualification_check", on=CAL.registration_day(received), act="665/NK")
    roll = compute(CAL, DeadlineRequest(term_key=value.key, term=value, start=received)).after_hours_roll
    assert roll is not None and roll.startswith("received 2026-12-16 18:00 Asia/Almaty (a non-working day), ")
    assert "office closes" not in roll and "registered on the next working day 2026-12-17" in roll
