"""The working-day calendar on fixed historical dates (2023–2026), checked against published calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.calendar import ALMATY, CalendarOverrides, DayOffReason, WorkingCalendar

CAL = WorkingCalendar()
PLUS5 = timezone(timedelta(hours=5))
PLUS6 = timezone(timedelta(hours=6))


def at(s: str, tz: timezone = PLUS5) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=tz)


# received (local +05 unless the offset is given), working days, expected due day (18:30 local)
DEADLINES = [
    # 2024 May transfer: Saturday 4 May worked, Wednesday 8 May off
    ("2024-05-03T10:00", 1, "2024-05-04"),
    ("2024-05-03T19:00", 1, "2024-05-06"),  # after hours Fri → registered on working Sat 4 May
    ("2024-05-04T10:00", 2, "2024-05-10"),  # 7 May holiday, 8 May transfer, 9 May Victory Day
    ("2024-05-06T12:00", 1, "2024-05-10"),
    # 2025 January transfer: Sunday 5 January worked, Friday 3 January off
    ("2025-01-02T10:00", 1, "2025-01-06"),  # holiday → registered on working Sunday 5 Jan
    ("2024-12-31T17:00", 2, "2025-01-06"),
    ("2024-12-31T17:00", 1, "2025-01-05"),
    ("2025-01-05T20:00", 1, "2025-01-08"),  # after hours on the working Sunday → Mon 6 Jan; 7 Jan Christmas
    # Nauryz
    ("2023-03-20T17:00", 1, "2023-03-24"),
    ("2024-03-20T17:00", 2, "2024-03-27"),
    ("2024-03-20T18:29:59", 2, "2024-03-27"),
    ("2024-03-20T18:30", 2, "2024-03-28"),  # 18:30 is after hours
    ("2025-03-20T17:00", 1, "2025-03-26"),
    ("2026-03-20T17:00", 2, "2026-03-27"),
    # weekends and other holidays
    ("2023-06-17T10:00", 0, "2023-06-19"),  # Saturday → registered Monday
    ("2023-12-15T17:00", 1, "2023-12-19"),  # Independence Day on Sat, observed Mon
    ("2025-03-07T17:00", 1, "2025-03-11"),  # 8 March on Sat, observed Mon 10 March
    ("2026-07-03T19:00", 1, "2026-07-08"),  # Capital Day Mon 6 July
    ("2026-11-20T08:00", 3, "2026-11-25"),  # before opening still registers the same day
    # the UTC+6 → UTC+5 switch on 1 March 2024
    ("2024-02-28T10:00+06:00", 1, "2024-02-29"),
    ("2024-02-28T10:00+06:00", 2, "2024-03-01"),
]


@pytest.mark.parametrize(("received", "n", "due_day"), DEADLINES)
def test_deadline_table(received: str, n: int, due_day: str) -> None:
    due = CAL.deadline(datetime.fromisoformat(received if "+" in received else received + "+05:00"), n)
    assert due == datetime.combine(date.fromisoformat(due_day), time(18, 30), tzinfo=ALMATY)
    assert due.tzinfo is not None


REGISTRATIONS = [
    # 12:45 UTC is 18:45 in Almaty before the switch (+06, after hours), 17:45 after it (+05)
    (datetime(2024, 2, 29, 12, 45, tzinfo=UTC), "2024-03-01"),
    (datetime(2024, 2, 29, 12, 15, tzinfo=UTC), "2024-02-29"),
    (datetime(2024, 3, 1, 13, 15, tzinfo=UTC), "2024-03-01"),
    (datetime(2024, 3, 1, 13, 45, tzinfo=UTC), "2024-03-04"),
    (at("2024-05-04T12:00"), "2024-05-04"),  # a working Saturday
    (at("2024-05-05T12:00"), "2024-05-06"),  # an ordinary Sunday
    (at("2024-05-08T09:00"), "2024-05-10"),  # the transferred day off
]


@pytest.mark.parametrize(("received", "day"), REGISTRATIONS)
def test_registration_day(received: datetime, day: str) -> None:
    assert CAL.registration_day(received) == date.fromisoformat(day)


def test_due_instant_offsets_either_side_of_the_switch() -> None:
    assert CAL.deadline(at("2024-02-28T10:00", PLUS6), 1).utcoffset() == timedelta(hours=6)
    assert CAL.deadline(at("2024-02-28T10:00", PLUS6), 2).astimezone(UTC) == datetime(2024, 3, 1, 13, 30, tzinfo=UTC)


BACKWARDS = [
    ("2024-05-10", -1, "2024-05-06"),
    ("2024-05-10", -2, "2024-05-04"),
    ("2024-05-10", -3, "2024-05-03"),
    ("2025-01-06", -1, "2025-01-05"),
    ("2025-01-06", -2, "2024-12-31"),
    ("2024-03-26", -1, "2024-03-20"),
    ("2024-03-26", 0, "2024-03-26"),
]


@pytest.mark.parametrize(("day", "n", "expected"), BACKWARDS)
def test_add_working_days_backwards(day: str, n: int, expected: str) -> None:
    assert CAL.add_working_days(date.fromisoformat(day), n) == date.fromisoformat(expected)


@pytest.mark.parametrize(
    ("day", "working", "reason"),
    [
        ("2024-05-04", True, None),
        ("2024-05-05", False, DayOffReason.WEEKEND),
        ("2024-05-08", False, DayOffReason.TRANSFER),
        ("2025-01-03", False, DayOffReason.TRANSFER),
        ("2025-01-05", True, None),
        ("2024-03-22", False, DayOffReason.HOLIDAY),
        ("2024-03-25", False, DayOffReason.HOLIDAY),  # observed
    ],
)
def test_is_working_day_and_reason(day: str, working: bool, reason: DayOffReason | None) -> None:
    d = date.fromisoformat(day)
    assert CAL.is_working_day(d) is working
    off = CAL.day_off_reason(d)
    assert (off.reason if off else None) is reason


def test_a_transferred_day_names_its_working_day_in_iso_form() -> None:
    """``holidays`` writes the day a day off was moved from as month/day/year; the engine shows every date in ISO
    form (a command line's explanation read "substituted from 01/05/2025", an adversarial run, 2026-12-04)."""
    off = CAL.day_off_reason(date(2025, 1, 3))
    assert off is not None and off.name == "Day off (substituted from 2025-01-05)"


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        CAL.registration_day(datetime(2024, 5, 3, 10, 0))
    with pytest.raises(ValueError, match="naive"):
        CAL.deadline(datetime(2024, 5, 3, 10, 0), 2)


def test_no_answer_past_the_years_the_holiday_data_knows() -> None:
    """``holidays`` knows Kazakhstan's days off for 1991–2100: a day of 2101 would be a working day unless a weekend
    (1 January included), so a count that ends there, or a question about such a day, is refused."""
    cal = WorkingCalendar()
    assert cal.add_working_days(date(2100, 12, 24), 3) == date(2100, 12, 29)
    with pytest.raises(ValueError, match="2101-01-03 is outside 1991–2100, the years the calendar knows"):
        cal.deadline(datetime(2100, 12, 31, 19, 0, tzinfo=ALMATY), 1)
    for day in (date(2101, 1, 1), date(1990, 12, 31)):
        with pytest.raises(ValueError, match="is outside 1991–2100"):
            cal.is_working_day(day)


def test_long_counts_cross_years_consistently() -> None:
    end = CAL.add_working_days(date(2023, 1, 4), 250)
    assert end.year == 2024
    assert CAL.working_days_between(date(2023, 1, 4), end) == 250
    assert CAL.add_working_days(end, -250) == date(2023, 1, 4)


def test_skipped_days_explain_nauryz() -> None:
    skipped = CAL.skipped_days(date(2024, 3, 20), date(2024, 3, 27))
    assert [(s.day.day, s.reason) for s in skipped] == [
        (21, DayOffReason.HOLIDAY),
        (22, DayOffReason.HOLIDAY),
        (23, DayOffReason.HOLIDAY),
        (24, DayOffReason.WEEKEND),
        (25, DayOffReason.HOLIDAY),
    ]


def test_overrides_change_days_and_version(tmp_path: Path) -> None:
    f = tmp_path / "overrides.toml"
    f.write_text(
        '[[day_off]]\ndate = 2026-12-31\nreason = "Resolution 1 (test)"\n'
        '[[working_day]]\ndate = 2026-12-26\nreason = "Resolution 1 (test)"\n'
    )
    cal = WorkingCalendar(f)
    assert not cal.is_working_day(date(2026, 12, 31))
    assert cal.day_off_reason(date(2026, 12, 31)).reason is DayOffReason.OVERRIDE  # type: ignore[union-attr]
    assert cal.is_working_day(date(2026, 12, 26))
    assert cal.version != CAL.version and cal.version.startswith("holidays-")
    # 30 Dec → the next working day skips the overridden 31 Dec (and the New Year holidays)
    assert cal.add_working_days(date(2026, 12, 30), 1) == CAL.add_working_days(date(2026, 12, 31), 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[day_off]]\nreason = 'x'\n", "line 1: \\[\\[day_off\\]\\] #1 needs date"),
        ("[[day_off]]\ndate = 2026-12-30\nreason='a'\n\n[[day_off]]\ndate = 2026-12-31\n", "line 5: .* needs a reason"),
        ("[[day_off]]\ndate = 2026-13-31\nreason='a'\n", "line 2"),
        ("[[day_off]]\ndate = 2026-12-31\nreason='a'\n[[working_day]]\ndate = 2026-12-31\nreason='b'\n", "twice"),
        ("[[day_off]\n", "calendar override file"),
    ],
)
def test_bad_override_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "o.toml"
    f.write_text(text)
    with pytest.raises(ValueError, match=message):
        CalendarOverrides.from_toml(f)


def test_office_hours_are_data() -> None:
    assert (CAL.office_hours.opens, CAL.office_hours.closes) == (time(9), time(18, 30))
    assert (CAL.office_hours.lunch_start, CAL.office_hours.lunch_end) == (time(13), time(14, 30))


working_days_2023_2027 = st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31)).filter(CAL.is_working_day)


@given(working_days_2023_2027, st.integers(min_value=-400, max_value=400))
def test_counting_forward_then_back_returns_to_a_working_day(d: date, n: int) -> None:
    assert CAL.add_working_days(CAL.add_working_days(d, n), -n) == d


@given(st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31)), st.integers(min_value=1, max_value=30))
def test_result_is_always_a_working_day_after_the_start(d: date, n: int) -> None:
    r = CAL.add_working_days(d, n)
    assert r > d and CAL.is_working_day(r)
    assert CAL.working_days_between(d, r) == n
