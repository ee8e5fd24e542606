"""The Kazakhstan working-day calendar (665/NK Annex 1 item 8; 58 Annex item 7).

Working days come from ``holidays.KZ`` (public holidays, holidays moved off a weekend, and the
Government's transfers of days off, including the Saturdays and Sundays made working days), plus
an operator-editable override file. Local time is Asia/Almaty, read from the pinned ``tzdata``
package so that the 1 March 2024 switch from UTC+6 to UTC+5 does not depend on the host.

The calendar builds its tables once per year range and answers every question by lookups, so a
deadline costs microseconds.
"""

from __future__ import annotations

import bisect
import hashlib
import importlib.resources
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "ALMATY",
    "HOLIDAY_YEARS",
    "CalendarOverrides",
    "DayOffReason",
    "OfficeHours",
    "Override",
    "SkippedDay",
    "WorkingCalendar",
    "almaty_text",
    "date_alone",
    "read_almaty",
]

_US_DATE = re.compile(r"\b(\d\d)/(\d\d)/(\d{4})\b")
"""A date in a ``holidays`` name as its English text writes it (``Day off (substituted from 01/05/2025)``): kept
in ISO form, as every date the engine shows."""
HOLIDAY_YEARS = range(holidays.KZ.start_year, holidays.KZ.end_year + 1)
"""The years the ``holidays`` package knows Kazakhstan's days off for (1991–2100 in 0.109): outside them a day off
is not known, and a term counted there would skip weekends only."""


def _load_almaty() -> ZoneInfo:
    """Asia/Almaty from the ``tzdata`` package, never from the host's possibly stale zoneinfo."""
    resource = importlib.resources.files("tzdata.zoneinfo").joinpath("Asia/Almaty")
    with resource.open("rb") as fh:
        return ZoneInfo.from_file(fh, key="Asia/Almaty")


ALMATY = _load_almaty()


def almaty_text(moment: datetime) -> str:
    """An instant as a person reads it, on every page, command and document: Asia/Almaty wall-clock time to the
    minute with its offset, ``2026-12-01 14:05 +05:00``. A naive datetime is refused (its instant is unknown)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give a timezone (e.g. +05:00 or UTC)")
    local = moment.astimezone(ALMATY)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:5]}"


def date_alone(text: str) -> date | None:
    """The day ``text`` names when it is an ISO date with no time of day (``2026-12-03``, ``20261203``), else
    ``None``: read as an instant it would be that day's midnight."""
    text = text.strip()
    if len(text) > len("2026-12-03"):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def read_almaty(text: str) -> datetime:
    """An instant a person typed (ISO 8601): with an offset it is that instant; without one it is Asia/Almaty
    wall-clock time (every office in Kazakhstan is in Asia/Almaty). ``ValueError`` when it is no date-time, or a
    date alone (its midnight would be taken for the instant: a receipt registered before the office opened)."""
    text = text.strip()
    if date_alone(text) is not None:
        raise ValueError(f"{text} is a date without a time of day: give the instant (e.g. {text}T10:00)")
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=ALMATY) if moment.tzinfo is None or moment.utcoffset() is None else moment


@dataclass(frozen=True)
class OfficeHours:
    """The provider's working hours (665/NK Annex 1 item 8)."""

    opens: time = time(9, 0)
    closes: time = time(18, 30)
    lunch_start: time = time(13, 0)
    lunch_end: time = time(14, 30)
    cite: str = "665/NK Annex 1 item 8"


class DayOffReason(StrEnum):
    """Why a day was not counted as a working day."""

    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    TRANSFER = "transfer"  # a Government transfer of a day off
    OVERRIDE = "override"  # an operator's override


@dataclass(frozen=True)
class SkippedDay:
    """A non-working day passed over while counting, with its reason."""

    day: date
    reason: DayOffReason
    name: str


@dataclass(frozen=True)
class Override:
    """One operator-declared change to the calendar."""

    day: date
    working: bool
    reason: str


def _table_line(text: str, table: str, nth: int) -> int:
    """The line (1-based) of the ``nth`` ``[[table]]`` header in ``text`` (0 if not found)."""
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().replace(" ", "") == f"[[{table}]]":
            seen += 1
            if seen == nth:
                return number
    return 0


@dataclass(frozen=True)
class CalendarOverrides:
    """Extra days off and extra working days that ``holidays.KZ`` does not know (yet)."""

    entries: tuple[Override, ...] = ()

    @classmethod
    def from_toml(cls, path: Path | str) -> CalendarOverrides:
        """Read ``[[day_off]]`` and ``[[working_day]]`` tables (``date``, ``reason``) from a file."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"calendar override file {path}: {exc}") from exc
        entries: list[Override] = []
        for table, working in (("day_off", False), ("working_day", True)):
            for i, row in enumerate(data.get(table, []), start=1):
                where = f"calendar override file {path} line {_table_line(text, table, i)}: [[{table}]] #{i}"
                day = row.get("date")
                if not isinstance(day, date) or isinstance(day, datetime):
                    raise ValueError(f"{where} needs date = YYYY-MM-DD")
                reason = str(row.get("reason", "")).strip()
                if not reason:
                    raise ValueError(f"{where} ({day}) needs a reason")
                entries.append(Override(day=day, working=working, reason=reason))
        days = [e.day for e in entries]
        dupes = sorted({d for d in days if days.count(d) > 1})
        if dupes:
            raise ValueError(f"calendar override file {path}: days listed twice: {', '.join(map(str, dupes))}")
        return cls(tuple(sorted(entries, key=lambda e: e.day)))

    def digest(self) -> str:
        """A short stable hash of the overrides' content."""
        canon = "\n".join(f"{e.day.isoformat()}|{int(e.working)}|{e.reason}" for e in self.entries)
        return hashlib.sha256(canon.encode()).hexdigest()[:12]


@dataclass
class _YearTables:
    first_year: int
    last_year: int
    working: list[int] = field(default_factory=list)  # sorted ordinals of working days
    working_set: set[int] = field(default_factory=set)
    day_off: dict[int, SkippedDay] = field(default_factory=dict)


class WorkingCalendar:
    """Kazakhstan working days, office hours and the after-hours registration rule."""

    _SPAN = 12  # years built at once around the first date asked

    def __init__(
        self,
        overrides: CalendarOverrides | Path | str | None = None,
        office_hours: OfficeHours | None = None,
    ) -> None:
        if isinstance(overrides, str | Path):
            overrides = CalendarOverrides.from_toml(overrides)
        self.overrides: CalendarOverrides = overrides or CalendarOverrides()
        self.office_hours: OfficeHours = office_hours or OfficeHours()
        self.tz: ZoneInfo = ALMATY
        self.version: str = f"holidays-{holidays.__version__}+overrides-{self.overrides.digest()}"
        self._tables: _YearTables | None = None

    # -- tables -----------------------------------------------------------------------------

    def _build(self, first_year: int, last_year: int) -> _YearTables:
        years = range(first_year, last_year + 1)
        kz = holidays.KZ(years=years)
        transfers_to_work = set(kz.weekend_workdays)
        overrides = {e.day: e for e in self.overrides.entries}
        tables = _YearTables(first_year, last_year)
        day = date(first_year, 1, 1)
        end = date(last_year, 12, 31)
        while day <= end:
            ordinal = day.toordinal()
            override = overrides.get(day)
            skipped: SkippedDay | None = None
            if override is not None:
                if not override.working:
                    skipped = SkippedDay(day, DayOffReason.OVERRIDE, override.reason)
            elif day in kz:
                name = _US_DATE.sub(lambda m: f"{m[3]}-{m[1]}-{m[2]}", kz.get(day) or "")
                reason = DayOffReason.TRANSFER if "substituted" in name.lower() else DayOffReason.HOLIDAY
                skipped = SkippedDay(day, reason, name)
            elif day.weekday() >= 5 and day not in transfers_to_work:
                skipped = SkippedDay(day, DayOffReason.WEEKEND, day.strftime("%A"))
            if skipped is None:
                tables.working.append(ordinal)
                tables.working_set.add(ordinal)
            else:
                tables.day_off[ordinal] = skipped
            day += timedelta(days=1)
        return tables

    def _cover(self, *days: date) -> _YearTables:
        lo = min(d.year for d in days) - 1
        hi = max(d.year for d in days) + 1
        t = self._tables
        if t is None or lo < t.first_year or hi > t.last_year:
            first = lo if t is None else min(lo, t.first_year)
            last = max(hi, first + self._SPAN) if t is None else max(hi, t.last_year)
            t = self._tables = self._build(first, last)
        return t

    # -- public API ---------------------------------------------------------------------------

    @staticmethod
    def _known(day: date) -> date:
        """``day``, when its year is one of ``HOLIDAY_YEARS``; a ``ValueError`` otherwise (a day off there is unknown,
        and an answer would skip weekends only)."""
        if day.year not in HOLIDAY_YEARS:
            raise ValueError(
                f"{day.isoformat()} is outside {HOLIDAY_YEARS.start}–{HOLIDAY_YEARS.stop - 1}, the years the calendar "
                "knows Kazakhstan's days off for: it is not counted with weekends only"
            )
        return day

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day in Kazakhstan under this calendar's data."""
        return day.toordinal() in self._cover(self._known(day)).working_set

    def registration_day(self, received_at: datetime) -> date:
        """The day an application received at ``received_at`` is registered (665/NK p.6).

        Received on a working day before the office closes → that day; otherwise the next working day.
        """
        local = self.to_local(received_at)
        day = local.date()
        if self.is_working_day(day) and local.time() < self.office_hours.closes:
            return day
        return self.add_working_days(day, 1)

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``day`` itself not counted); negative ``n`` counts back."""
        if n == 0:
            return day
        # Tables are extended until the answer lies inside them (about 250 working days a year).
        span = abs(n) // 240 + 2
        t = self._cover(day, date(min(max(day.year + (span if n > 0 else -span), 1), 9999), 1, 1))
        ordinal = day.toordinal()
        index = bisect.bisect_right(t.working, ordinal) + n - 1 if n > 0 else bisect.bisect_left(t.working, ordinal) + n
        return self._known(date.fromordinal(t.working[index]))

    def deadline(self, received_at: datetime, working_days: int) -> datetime:
        """18:30 Asia/Almaty on the ``working_days``-th working day after the registration day."""
        due_day = self.add_working_days(self.registration_day(received_at), working_days)
        return datetime.combine(due_day, self.office_hours.closes, tzinfo=self.tz)

    # -- explanations -------------------------------------------------------------------------

    def to_local(self, moment: datetime) -> datetime:
        """``moment`` in Asia/Almaty; a naive datetime is refused (its instant is unknown)."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"naive datetime {moment.isoformat()}: give a timezone (e.g. +05:00 or UTC)")
        return moment.astimezone(self.tz)

    def skipped_days(self, start: date, end: date) -> list[SkippedDay]:
        """The non-working days strictly after ``start`` up to and including ``end``, with reasons."""
        lo, hi = (start, end) if start <= end else (end, start)
        t = self._cover(lo, hi)
        return [t.day_off[o] for o in range(lo.toordinal() + 1, hi.toordinal() + 1) if o in t.day_off]

    def day_off_reason(self, day: date) -> SkippedDay | None:
        """Why ``day`` is not a working day, or ``None`` when it is one."""
        return self._cover(day).day_off.get(day.toordinal())

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative when ``end`` is earlier)."""
        if start == end:
            return 0
        lo, hi = (start, end) if start <= end else (end, start)
        t = self._cover(lo, hi)
        count = bisect.bisect_right(t.working, hi.toordinal()) - bisect.bisect_right(t.working, lo.toordinal())
        return count if start <= end else -count

    def working_weekend_days(self, days: Iterable[date]) -> list[date]:
        """Those of ``days`` that fall on a weekend but are working days by a Government transfer."""
        return [d for d in days if d.weekday() >= 5 and self.is_working_day(d)]
