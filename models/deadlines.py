"""Deadlines as recorded in a case's history: what was computed, why, and what became of it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from models.base import SHARED
from rules.calendar import DayOffReason, almaty_text
from rules.lawdata import TermValue
from rules.terms import Direction, Unit

__all__ = [
    "DEADLINE_MEMO_PREFIX",
    "RECORDED_LATE_AFTER",
    "CalendarCorrection",
    "CorrectionResult",
    "Deadline",
    "DeadlineChange",
    "DeadlineRequest",
    "DeadlineState",
    "DeadlineStatus",
    "Escalation",
    "SkippedDayRecord",
    "deadline_records",
    "recorded_late",
]

DEADLINE_MEMO_PREFIX = "deadline:"
"""Memo key of one term's current state, ``deadline:<key>`` (cases started before it rewrote the whole list under
``deadlines`` on every change; ``deadline_records`` reads both)."""


class DeadlineRequest(BaseModel):
    """Ask the calendar when a term that starts at ``start`` ends, under the term value the case recorded."""

    term_key: str
    start: datetime
    term: TermValue | None = None
    """The value the case keeps (from its registration or a law migration): its amount, unit, direction and
    whether an after-hours start rolls to the next working day. Empty in requests of cases registered before
    the law was recorded: the value in force on the start's day is used, and ``counted_from`` decides the roll."""
    act: str = ""
    """The case's act, to find the value when ``term`` is empty (complaint terms exist under two acts)."""
    # "registration": the start is when something was received, so the after-hours rule applies first.
    # "day": the start is already a day of the case (a decision, a notice); counting starts after it.
    counted_from: str = Field(default="registration", pattern="^(registration|day)$")
    label: str = ""
    not_before: datetime | None = None
    """The event the term may not count from before (e.g. the receipt of the application): a start earlier than
    it is counted from it instead, and the deadline says so. A term never falls due before the event it counts
    from."""
    earliest_act: bool = False
    """For a term counted back from an act (``direction = before``, e.g. "the hearing notice goes out no later than
    3 working days before the act", 665/NK p.7): ``start`` is the earlier event, and the answer is the earliest
    lawful act, the first working day D such that the start's day is no later than D minus the term; ``due`` is
    the office's closing on D."""


class SkippedDayRecord(BaseModel):
    """A non-working day the count passed over."""

    model_config = ConfigDict(frozen=True)

    day: date
    reason: DayOffReason
    name: str


class Deadline(BaseModel):
    """A computed deadline that explains itself."""

    term_key: str
    label: str = ""
    amount: int
    unit: Unit
    direction: Direction
    cite: str
    text: str
    start: datetime
    counted_from_day: date | None = None
    due: datetime
    calendar_version: str
    after_hours_roll: str | None = None
    skipped: list[Annotated[SkippedDayRecord, SHARED]] = Field(default_factory=list)
    working_weekend_days: list[date] = Field(default_factory=list)
    to_be_confirmed: bool = False
    note: str | None = None
    """What else a person checking the deadline needs to know (a start moved to the event it counts from, the
    earliest act a backward term allows)."""

    def explain(self) -> str:
        """One paragraph a person can check against a calendar."""
        parts = [f"{self.amount} {self.unit.value.replace('_', ' ')} ({self.cite})"]
        if self.note:
            parts.append(self.note)
        if self.after_hours_roll:
            parts.append(self.after_hours_roll)
        if self.counted_from_day:
            parts.append(f"counted from {self.counted_from_day.isoformat()}")
        if self.skipped:
            parts.append(
                "skipping " + ", ".join(f"{s.day.isoformat()} ({s.reason.value}: {s.name})" for s in self.skipped)
            )
        if self.working_weekend_days:
            days = ", ".join(d.isoformat() for d in self.working_weekend_days)
            parts.append(f"counting transferred working days {days}")
        parts.append(f"due {almaty_text(self.due)} [calendar {self.calendar_version}]")
        return "; ".join(parts)


class DeadlineStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    BREACHED = "breached"
    CANCELLED = "cancelled"


class DeadlineChange(BaseModel):
    """A recorded move of an open deadline's due instant: a calendar correction, a law migration, or an extension
    (e.g. a refused permit's complaint window held open while a complaint about the case is considered)."""

    at: datetime
    reason: str
    old_due: datetime
    new_due: datetime
    old_calendar_version: str
    new_calendar_version: str


RECORDED_LATE_AFTER = timedelta(minutes=1)
"""A breach recorded later than this after its due instant was found late, not as the term ran out."""


def recorded_late(breached_at: datetime | None, due: datetime) -> bool:
    """Whether a breach recorded at ``breached_at`` was found well after ``due`` (``RECORDED_LATE_AFTER``)."""
    return breached_at is not None and breached_at - due > RECORDED_LATE_AFTER


class DeadlineState(BaseModel):
    """A deadline as the case lives it: the computation, its corrections and its outcome."""

    key: str
    deadline: Deadline
    status: DeadlineStatus = DeadlineStatus.OPEN
    met_at: datetime | None = None
    breached_at: datetime | None = None
    escalated: bool = False
    late_by_seconds: float | None = None  # when met after a breach
    cancel_reason: str | None = None
    """Why a cancelled term no longer applies, e.g. ``withdrawn``: the complaint was withdrawn, so the review it
    governed never happened (neither met nor breached). Empty for terms cancelled before reasons were kept."""
    changes: list[DeadlineChange] = Field(default_factory=list)
    request: DeadlineRequest | None = None
    """What the deadline was computed from (recomputed from it by a calendar correction or a law migration)."""

    @property
    def due(self) -> datetime:
        return self.deadline.due

    @property
    def breach_recorded_late(self) -> bool:
        """The breach was recorded well after the due instant (a back-dated receipt, a worker that was down)."""
        return recorded_late(self.breached_at, self.due)

    def computed_from(self) -> DeadlineRequest:
        """The request the deadline was computed from; for states recorded before requests were kept, rebuilt
        from the recorded deadline (a start that rolled was counted from its registration day)."""
        if self.request is not None:
            return self.request
        d = self.deadline
        counted_from = "registration" if d.after_hours_roll else "day"
        return DeadlineRequest(term_key=d.term_key, start=d.start, counted_from=counted_from, label=d.label)


class Escalation(BaseModel):
    """A breached deadline reported to a supervisor."""

    case_id: str
    procedure: str
    deadline_key: str
    term_text: str
    cite: str
    due: datetime
    breached_at: datetime


class CalendarCorrection(BaseModel):
    """A correction of the calendar (edited overrides, a newer holidays release) sent to running cases."""

    reason: str = Field(min_length=1, max_length=500)
    calendar_version: str | None = Field(default=None, max_length=200)
    """The calendar version the operator intends; a worker computing with another version refuses it."""


class CorrectionResult(BaseModel):
    """What a calendar correction changed in one case."""

    changed: list[DeadlineChange] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    refused: str = ""
    """Why nothing was changed: the worker computes with another calendar version than the one intended."""


def deadline_records(memo: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The term records in a memo (or one memo event's fields): the whole list under ``deadlines`` that cases started
    before ``case-record-publishes-only-changes`` rewrote on every change, then one key per term, ``deadline:<key>``,
    that later cases upsert only for the terms that changed (a later record of a term replaces an earlier one).

    In the order of the instants the terms count from (a memo's keys come in no set order: a case publishes the
    terms a step opens in one upsert); terms counting from the same instant, and records without one, in the
    memo's order."""
    records: dict[str, dict[str, Any]] = {}
    for d in memo.get("deadlines") or []:
        if isinstance(d, dict):
            records[str(d.get("key"))] = d
    for k, v in memo.items():
        if k.startswith(DEADLINE_MEMO_PREFIX) and isinstance(v, dict):
            records[k.removeprefix(DEADLINE_MEMO_PREFIX)] = v
    return sorted(records.values(), key=_counted_from)


def _counted_from(record: Mapping[str, Any]) -> datetime:
    """The instant a term's record counts from (``deadline.start``); the latest possible for a record without one."""
    deadline = record.get("deadline")
    start = deadline.get("start") if isinstance(deadline, Mapping) else None
    try:
        instant = datetime.fromisoformat(start) if isinstance(start, str) else _NO_START
    except ValueError:
        return _NO_START
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


_NO_START = datetime.max.replace(tzinfo=UTC)
