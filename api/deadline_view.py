"""Each deadline of a case explains itself on the console, in the page's language, and as a picture.

The explanation is the one ``Deadline.explain()`` gives the command line, rebuilt from the recorded fields so that
every word is translated: the term and its citation, where counting starts (the after-hours roll), the days not
counted with their reasons and names, transferred working weekend days, the due instant and the calendar version.

The picture is a calendar strip drawn as SVG on the server (no script, no chart library): one cell per day from the
start to the due day (or to today, or to a late act), non-working days shaded and named, counted days numbered, the
start, the due instant, today and the outcome marked. A term longer than ``MAX_DAYS`` days, or one counted in
minutes or years, is drawn as a proportional bar instead. Nothing is recomputed: only what the case recorded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from models.deadlines import DeadlineState, DeadlineStatus
from rules.calendar import ALMATY, DayOffReason, almaty_text
from rules.lawdata import Direction, Unit

__all__ = ["MAX_DAYS", "Picture", "day_off_name", "explain", "picture"]

Translate = Callable[[str], str]

MAX_DAYS = 62
"""The longest strip drawn day by day; longer terms are drawn as a proportional bar."""

_WIDTH = 960.0
_MIN_WIDTH = 420.0  # room for the labels under a short strip
_CELL = 64.0  # the widest day cell
_PAD = 6.0
_STRIP_Y, _STRIP_H = 36.0, 36.0
_MONTH_Y, _NAME_Y = 12.0, 28.0  # month labels, and the names of days off above their runs

FILL = {
    "counted": "#ffffff",
    "before": "#e8edf3",
    "after": "#f4f4f4",
    "late": "#fde8e8",
    DayOffReason.WEEKEND.value: "#cfd6df",
    DayOffReason.HOLIDAY.value: "#f6c9a0",
    DayOffReason.TRANSFER.value: "#f3e2a0",
    DayOffReason.OVERRIDE.value: "#d9c8f0",
}
"""Cell colours (SVG ``fill`` attributes): counted, not counted yet, after the due day, and days off by reason."""
MARK = {"start": "#555555", "due": "#00457c", "breached": "#b00020", "met": "#1e7e34", "today": "#6a1b9a"}

_UNITS = {
    Unit.WORKING_DAYS: "{n} working days",
    Unit.CALENDAR_DAYS: "{n} calendar days",
    Unit.MINUTES: "{n} minutes",
    Unit.YEARS: "{n} years",
}
_SUBSTITUTED = re.compile(r"^Day off \(substituted from (?:(\d\d)/(\d\d)/(\d{4})|(\d{4}-\d\d-\d\d))\)$")
"""A transferred day's name: the date in ISO form (``rules.calendar``), or as ``holidays`` wrote it in days
recorded before (month/day/year)."""
_QUALIFIED = re.compile(r"^(.*) \((observed|estimated)\)$")


def _t(_: Translate, text: str) -> str:
    """A text the code names through a variable (its msgids are listed in ``api.i18n.DYNAMIC``)."""
    return _(text)


def day_off_name(reason: DayOffReason, name: str, _: Translate) -> str:
    """A day off's name in the page's language: weekday names and the holiday names of ``holidays.KZ`` (one day may
    carry two: ``Eid al-Adha; Nowruz Holiday``); an operator's override reason as it was written."""
    if reason is DayOffReason.OVERRIDE:
        return name
    parts = []
    for part in name.split("; "):
        if m := _SUBSTITUTED.match(part):
            parts.append(_("Day off (substituted from {date})").format(date=m[4] or f"{m[3]}-{m[1]}-{m[2]}"))
        elif m := _QUALIFIED.match(part):
            parts.append(f"{_t(_, m[1])} ({_t(_, m[2])})")
        else:
            parts.append(_t(_, part))
    return "; ".join(parts)


def roll_text(text: str, start: datetime, counted_from: date | None, _: Translate) -> str:
    """The after-hours roll in words (the recorded sentence gives its citation in its last parentheses)."""
    why = _("on a non-working day") if "non-working" in text else _("after office hours")
    cite = text[text.rfind("(") + 1 : text.rfind(")")] if text.rstrip().endswith(")") else ""
    return _("received {when} ({why}), registered on the next working day {day} ({cite})").format(
        when=almaty_text(start), why=why, day=counted_from.isoformat() if counted_from else "", cite=cite
    )


def explain(state: DeadlineState, _: Translate) -> list[str]:
    """Why the due instant is what it is, sentence by sentence, in the page's language."""
    d, req = state.deadline, state.request
    out = [_(_UNITS[d.unit]).format(n=d.amount) + f" ({d.cite})"]
    if d.direction is Direction.BEFORE:
        out.append(_("counted back from the act"))
    if req is not None and req.earliest_act and d.counted_from_day is not None:
        out.append(
            _("the act no earlier than {day}: the first working day that the event of {event} precedes by {n}").format(
                day=d.due.astimezone(ALMATY).date().isoformat(), event=d.counted_from_day.isoformat(), n=d.amount
            )
        )
    elif req is not None and req.not_before is not None and req.start < req.not_before:
        out.append(
            _(
                "counted from {when}, the event it counts from at the earliest (the start given, {given}, lies before)"
            ).format(when=almaty_text(req.not_before), given=almaty_text(req.start))
        )
    elif d.note:
        out.append(d.note)  # a note of another kind: as the case recorded it
    if d.after_hours_roll:
        out.append(roll_text(d.after_hours_roll, d.start, d.counted_from_day, _))
    elif d.unit is not Unit.MINUTES:
        out.append(_("started {when}").format(when=almaty_text(d.start)))
    if d.counted_from_day is not None and not (req is not None and req.earliest_act):
        out.append(_("counted from {day} (that day not counted)").format(day=d.counted_from_day.isoformat()))
    if d.skipped:
        days = ", ".join(
            f"{s.day.isoformat()} ({_t(_, s.reason.value)}: {day_off_name(s.reason, s.name, _)})" for s in d.skipped
        )
        out.append(_("not counted: {days}").format(days=days))
    if d.working_weekend_days:
        days = ", ".join(x.isoformat() for x in d.working_weekend_days)
        out.append(_("working weekend days by a Government transfer, counted: {days}").format(days=days))
    if d.to_be_confirmed:
        out.append(_("the term's value is to be confirmed"))
    out.append(_("due {when}").format(when=almaty_text(d.due)))
    out.append(_("calendar version {version}").format(version=d.calendar_version))
    for ch in state.changes:
        out.append(
            _("moved {at}: {old} → {new} ({reason})").format(
                at=almaty_text(ch.at), old=almaty_text(ch.old_due), new=almaty_text(ch.new_due), reason=ch.reason
            )
        )
    return out


# --- the picture ----------------------------------------------------------------------------------------------


@dataclass
class Cell:
    x: float
    w: float
    day: date
    fill: str
    kind: str = "counted"  # counted, before, after, late, or the reason of a day off
    number: str = ""
    title: str = ""
    month: str = ""  # the month's label above its first cell


@dataclass
class Mark:
    """A vertical line at an instant, with its label in a row of its own under the strip."""

    x: float
    colour: str
    label: str
    row: int
    dashed: bool = False
    anchor: str = "middle"


@dataclass
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass
class Picture:
    """What the template draws (``api/templates/_deadline.html``)."""

    key: str
    title: str
    days: bool
    """A strip of days, else a proportional bar."""
    cells: list[Cell] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    """Names of the days off, under their runs."""
    ticks: list[Label] = field(default_factory=list)
    width: float = _WIDTH
    strip_y: float = _STRIP_Y
    strip_h: float = _STRIP_H
    legend: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    """Names of days off that found no room above their run (narrow cells, neighbours' names): the run shows the
    note's mark (``*1``), the legend the mark with the name, in the day's colour."""

    month_y: float = _MONTH_Y

    @property
    def height(self) -> float:
        rows = max([m.row for m in self.marks] + [0])
        return self.strip_y + self.strip_h + 14.0 * (rows + 1) + 6.0

    def row_y(self, row: int) -> float:
        return self.strip_y + self.strip_h + 14.0 * (row + 1)


def _local(moment: datetime) -> datetime:
    return moment.astimezone(ALMATY)


def _end_day(moment: datetime) -> tuple[date, float]:
    """The day an instant falls on and where in it (a due instant at 00:00 ends the day before)."""
    local = _local(moment)
    if local.time() == time(0):
        return local.date() - timedelta(days=1), 1.0
    return local.date(), (local.hour * 60 + local.minute) / 1440.0


def _anchor(x: float, width: float = _WIDTH) -> str:
    return "start" if x < 80 else "end" if x > width - 80 else "middle"


def picture(state: DeadlineState, now: datetime, _: Translate) -> Picture:
    """The deadline as a calendar strip (or a bar for long terms) at ``now``."""
    d = state.deadline
    due_text = _("due {when}").format(when=almaty_text(d.due))
    title = _t(_, d.label or state.key) + ": " + due_text
    first = _local(d.start).date()
    due_day = _end_day(d.due)[0]
    last = due_day
    if state.met_at is not None:
        last = max(last, _local(state.met_at).date())
    today = _local(now).date()
    open_or_late = state.status is DeadlineStatus.OPEN or (state.status is DeadlineStatus.BREACHED and not state.met_at)
    if open_or_late and today > last and (today - first).days < MAX_DAYS:
        last = today
    if d.unit in (Unit.MINUTES, Unit.YEARS) or (last - first).days + 1 > MAX_DAYS or last < first:
        return _bar(state, now, title, _)
    n = (last - first).days + 1
    w = min(_CELL, (_WIDTH - 2 * _PAD) / n)
    pic = Picture(key=state.key, title=title, days=True, width=max(2 * _PAD + n * w, _MIN_WIDTH))
    skipped = {s.day: s for s in d.skipped}
    counted_from = d.counted_from_day or first
    counting = d.unit in (Unit.WORKING_DAYS, Unit.CALENDAR_DAYS)
    number = 0
    late = state.status is DeadlineStatus.BREACHED
    for i in range(n):
        day = first + timedelta(days=i)
        x = _PAD + i * w
        off = skipped.get(day)
        cell = Cell(x=x, w=w, day=day, fill=FILL["counted"], title=day.isoformat())
        if off is not None:
            name = day_off_name(off.reason, off.name, _)
            cell.kind = off.reason.value
            cell.fill, cell.title = FILL[cell.kind], f"{day.isoformat()}: {_t(_, off.reason.value)}, {name}"
        elif day <= counted_from:
            cell.kind = "before"
            cell.fill, cell.title = FILL["before"], day.isoformat() + ": " + _("not counted")
        elif day > due_day:
            cell.kind = "late" if late else "after"
            cell.fill = FILL[cell.kind]
        elif counting:
            number += 1
            cell.number = str(number)
            cell.title = day.isoformat() + ": " + _("day {n} of the term").format(n=number)
        if i == 0 or day.day == 1:
            cell.month = f"{day:%Y-%m}"
        pic.cells.append(cell)
    _day_off_labels(pic, d.skipped, first, w, _)

    def x_at(moment: datetime) -> float:
        day, frac = _end_day(moment) if moment == d.due else (_local(moment).date(), _frac(moment))
        return _PAD + ((day - first).days + frac) * w

    _marks(pic, state, now, x_at, first, last, _)
    pic.legend = _legend(pic, d.skipped, _)
    return pic


def _frac(moment: datetime) -> float:
    local = _local(moment)
    return (local.hour * 60 + local.minute) / 1440.0


_UPPER_NAME_Y = _NAME_Y - 11.0
"""The row above, for a name that would run into its neighbour's (a holiday next to a weekend and a transferred day)."""


def _text_width(text: str) -> float:
    """About how wide ``text`` is at the strip's 10-pixel font (Cyrillic a little wider than Latin)."""
    return len(text) * 6.0


def _day_off_labels(pic: Picture, skipped: list, first: date, w: float, _: Translate) -> None:
    """One name above each run of consecutive days off with the same name (a weekend is one run); a name that would
    run into the one before it goes a row higher, where the month's label leaves room."""
    runs: list[list] = []
    for s in sorted(skipped, key=lambda s: s.day):
        label = _t(_, "weekend") if s.reason is DayOffReason.WEEKEND else day_off_name(s.reason, s.name, _)
        if runs and (s.day - runs[-1][1]).days == 1 and runs[-1][2] == label:
            runs[-1][1] = s.day
        else:
            runs.append([s.day, s.day, label])
    taken: dict[float, list[tuple[float, float]]] = {_NAME_Y: [], _UPPER_NAME_Y: []}
    taken[_UPPER_NAME_Y] += [(c.x, c.x + 1 + _text_width(c.month)) for c in pic.cells if c.month]
    fills = {s.day: FILL[s.reason.value] for s in skipped}
    for a, b, label in runs:
        if (b - first).days < 0:
            continue
        x = _PAD + ((max((a - first).days, 0) + (b - first).days + 1) / 2) * w
        placed = _placed(label, x, pic.width, taken)
        if placed is None:  # no room in either row: a mark here, the name in the legend
            mark = f"*{len(pic.notes) + 1}"
            pic.notes.append((fills.get(a, FILL["counted"]), f"{mark} {label}"))
            placed = _placed(mark, x, pic.width, taken) or (x, _NAME_Y, "middle")
            label = mark
        x, y, anchor = placed
        pic.labels.append(Label(x=x, y=y, text=label, anchor=anchor))


def _placed(
    text: str, x: float, width: float, taken: dict[float, list[tuple[float, float]]]
) -> tuple[float, float, str] | None:
    """Where ``text`` centred on ``x`` goes (its x, its row, its anchor) without running into a name or a month
    already there, nor past either end of the strip (then it starts or ends there); the span is taken. ``None``
    when neither row has room."""
    wide = _text_width(text)
    at, anchor, lo, hi = x, "middle", x - wide / 2, x + wide / 2
    if lo < 2:
        at, anchor, lo, hi = 2.0, "start", 2.0, 2.0 + wide
    elif hi > width - 2:
        at, anchor, lo, hi = width - 2, "end", width - 2 - wide, width - 2
    span = (lo - 2, hi + 2)
    for y, spans in taken.items():
        if all(span[1] <= a or b <= span[0] for a, b in spans):
            spans.append(span)
            return at, y, anchor
    return None


def _marks(
    pic: Picture,
    state: DeadlineState,
    now: datetime,
    x_at: Callable[[datetime], float],
    first: date,
    last: date,
    _: Translate,
) -> None:
    d = state.deadline
    breached = state.status is DeadlineStatus.BREACHED

    def add(moment: datetime, colour: str, label: str, dashed: bool = False) -> None:
        x, row = x_at(moment), len(pic.marks)
        pic.marks.append(Mark(x=x, colour=colour, label=label, row=row, dashed=dashed, anchor=_anchor(x, pic.width)))

    due_label = _("due {when}").format(when=almaty_text(d.due))
    if breached:
        due_label += " · " + _("breached")
    add(d.due, MARK["breached" if breached else "due"], due_label)
    add(d.start, MARK["start"], _("start {when}").format(when=f"{_local(d.start):%H:%M}"))
    if state.met_at is not None:
        add(state.met_at, MARK["met"], _("done {when}").format(when=almaty_text(state.met_at)))
    if state.status is DeadlineStatus.CANCELLED:
        pic.title += " · " + _("cancelled")
    if first <= _local(now).date() <= last:
        add(now, MARK["today"], _("today"), dashed=True)


def _bar(state: DeadlineState, now: datetime, title: str, _: Translate) -> Picture:
    """A long term (or one in minutes): a bar from the start to the due instant, proportional."""
    d = state.deadline
    pic = Picture(key=state.key, title=title, days=False)
    lo = d.start
    hi = max([d.due] + ([state.met_at] if state.met_at else []))
    span = (hi - lo).total_seconds() or 1.0
    usable = _WIDTH - 2 * _PAD

    def x_at(moment: datetime) -> float:
        return _PAD + max(0.0, min(1.0, (moment - lo).total_seconds() / span)) * usable

    pic.cells.append(Cell(x=_PAD, w=usable, day=_local(lo).date(), fill=FILL["counted"], title=title))
    if span > 2 * 86400:  # ticks: each year, or each month of a shorter span
        step_years = span > 400 * 86400
        tick = date(_local(lo).year + 1, 1, 1) if step_years else (_local(lo).date().replace(day=1) + timedelta(32))
        tick = tick.replace(day=1)
        while (moment := datetime.combine(tick, time(0), tzinfo=ALMATY)) < hi:
            pic.ticks.append(Label(x=x_at(moment), y=_MONTH_Y, text=f"{tick:%Y}" if step_years else f"{tick:%Y-%m}"))
            tick = date(tick.year + 1, 1, 1) if step_years else (tick + timedelta(32)).replace(day=1)
    breached = state.status is DeadlineStatus.BREACHED
    marks = [
        (d.due, MARK["breached" if breached else "due"], _("due {when}").format(when=almaty_text(d.due)), False),
        (d.start, MARK["start"], _("start {when}").format(when=almaty_text(d.start)), False),
    ]
    if state.met_at is not None:
        marks.append((state.met_at, MARK["met"], _("done {when}").format(when=almaty_text(state.met_at)), False))
    if lo <= now <= hi:
        marks.append((now, MARK["today"], _("today"), True))
    for row, (moment, colour, label, dashed) in enumerate(marks):
        x = x_at(moment)
        pic.marks.append(Mark(x=x, colour=colour, label=label, row=row, dashed=dashed, anchor=_anchor(x)))
    return pic


def _legend(pic: Picture, skipped: list, _: Translate) -> list[tuple[str, str]]:
    """The colours used, with what they mean."""
    out = [(FILL["counted"], _("counted day")), (FILL["before"], _("not counted"))]
    for reason in DayOffReason:
        if any(s.reason is reason for s in skipped):
            out.append((FILL[reason.value], _t(_, reason.value)))
    if any(c.fill == FILL["late"] for c in pic.cells):
        out.append((FILL["late"], _("after the due day (breached)")))
    return out
