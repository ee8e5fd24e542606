"""The supervisors' overview: legal terms met and breached per procedure per week, the cases overdue now, the
breaches as CSV, and the compliance report (``audit.report``) of the cases started in the period.

The weekly figures are read from each case's ``deadlines`` memo (recorded by the case on every change of a term, and
returned, encrypted, with the visibility list), so no history is fetched: a term met on time counts in the week it
was met, a breached term (met late or not yet) in the week of its breach, both in Asia/Almaty weeks (Monday to
Sunday). The charts are SVG drawn here, with no script.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from pydantic import ValidationError
from temporalio.client import Client
from temporalio.service import RPCError

from api.listing import MAX_ROWS, instant, procedures_clause
from api.temporal import problem_from_temporal
from models import search_attributes as sa
from models.deadlines import DeadlineState, DeadlineStatus, deadline_records
from models.procedure import ProcedureSpec
from rules.calendar import ALMATY

__all__ = [
    "BREACH_COLUMNS",
    "Bar",
    "Breach",
    "Chart",
    "Overview",
    "ProcedureWeeks",
    "overdue_chart",
    "overview",
    "week_chart",
]


@dataclass
class Breach:
    """A breached term (a row of the breaches CSV)."""

    case_id: str
    procedure: str
    term: str
    cite: str
    due: datetime
    breached_at: datetime
    met_at: datetime | None
    escalated: bool


BREACH_COLUMNS = ("case_id", "procedure", "term", "cite", "due", "breached_at", "met_at", "escalated")


@dataclass
class ProcedureWeeks:
    procedure: str
    met: dict[date, int] = field(default_factory=dict)
    breached: dict[date, int] = field(default_factory=dict)
    overdue_now: int = 0


@dataclass
class Overview:
    weeks: list[date]
    """The Mondays of the weeks shown, oldest first."""
    procedures: list[ProcedureWeeks]
    breaches: list[Breach]
    cases_read: int
    truncated: bool


def _monday(moment: datetime) -> date:
    day = moment.astimezone(ALMATY).date()
    return day - timedelta(days=day.weekday())


async def overview(
    client: Client, procedures: Mapping[str, ProcedureSpec], weeks: int, now: datetime | None = None
) -> Overview:
    """The figures of the last ``weeks`` weeks (this one included)."""
    now = now or datetime.now(UTC)
    this_week = _monday(now)
    mondays = [this_week - timedelta(weeks=n) for n in reversed(range(weeks))]
    since = datetime.combine(mondays[0], time(0), tzinfo=ALMATY)
    query = (
        f"{procedures_clause(procedures)} AND ExecutionStatus != 'ContinuedAsNew' AND "
        f"(ExecutionStatus = 'Running' OR CloseTime >= {instant(since)})"
    )
    per = {k: ProcedureWeeks(k, {m: 0 for m in mondays}, {m: 0 for m in mondays}) for k in sorted(procedures)}
    breaches: list[Breach] = []
    read = 0
    try:
        async for wf in client.list_workflows(query, limit=MAX_ROWS * 5 + 1):
            read += 1
            if read > MAX_ROWS * 5:
                break
            procedure = wf.typed_search_attributes.get(sa.PROCEDURE) or ""
            if procedure not in per:
                continue
            stats = per[procedure]
            if wf.status is not None and wf.status.name == "RUNNING" and wf.typed_search_attributes.get(sa.OVERDUE):
                stats.overdue_now += 1
            for state in _states(await wf.memo()):
                _count(state, stats, since, wf.id, breaches)
    except RPCError as exc:
        raise problem_from_temporal(exc) from None
    breaches.sort(key=lambda b: b.breached_at, reverse=True)
    return Overview(
        weeks=mondays,
        procedures=list(per.values()),
        breaches=breaches,
        cases_read=min(read, MAX_ROWS * 5),
        truncated=read > MAX_ROWS * 5,
    )


def _states(memo: Mapping[str, object]) -> list[DeadlineState]:
    out = []
    for item in deadline_records(dict(memo)):
        try:
            out.append(DeadlineState.model_validate(item))
        except ValidationError:
            continue  # a record this version cannot read: left out of the figures, never guessed
    return out


def _count(state: DeadlineState, stats: ProcedureWeeks, since: datetime, case_id: str, out: list[Breach]) -> None:
    """A term's part of the figures: a breach in the week its term ran out (its due instant), even when it was
    recorded later (a back-dated receipt: a year-old breach was counted in the week the case began, an adversarial
    run of 2026-12-04); a term met on time in the week it was met."""
    if state.breached_at is not None and state.due >= since:
        week = _monday(state.due)
        if week in stats.breached:
            stats.breached[week] += 1
        out.append(
            Breach(
                case_id=case_id,
                procedure=stats.procedure,
                term=state.key,
                cite=state.deadline.cite,
                due=state.due,
                breached_at=state.breached_at,
                met_at=state.met_at,
                escalated=state.escalated,
            )
        )
    elif state.status is DeadlineStatus.MET and state.met_at is not None and state.met_at >= since:
        week = _monday(state.met_at)
        if week in stats.met:
            stats.met[week] += 1


# --- charts: geometry here, markup in the template (api/templates/_charts.html) ----------------------------------


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # css class: met, breached, overdue
    title: str  # the tooltip: what the bar counts
    value: int


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[tuple[float, float, str]]  # x, y, text
    top: int
    """The value of the highest gridline."""
    gridlines: list[tuple[float, int]] = field(default_factory=list)  # y, value


def _nice(top: int) -> int:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000):
        if top <= step * 4:
            return step * 4
    return top


def week_chart(stats: ProcedureWeeks, weeks: list[date], top: int, met: str, breached: str) -> Chart:
    """Two bars a week (met on time, breached), on a shared scale ``top`` so procedures compare; ``met`` and
    ``breached`` are the legend's words (in the page's language) for the tooltips."""
    left, bottom, plot_h, group = 36, 28, 140, 44
    width, height = left + group * len(weeks) + 8, plot_h + bottom + 10
    scale = _nice(max(top, 1))
    bars: list[Bar] = []
    labels: list[tuple[float, float, str]] = []
    for i, monday in enumerate(weeks):
        x0 = left + i * group + 6
        for j, (kind, value, word) in enumerate(
            (("met", stats.met.get(monday, 0), met), ("breached", stats.breached.get(monday, 0), breached))
        ):
            h = plot_h * value / scale
            bars.append(Bar(x0 + j * 16, 10 + plot_h - h, 14, h, kind, f"{monday.isoformat()}: {value} {word}", value))
        labels.append((x0 + 15, 10 + plot_h + 16, monday.strftime("%m-%d")))
    grid = [(10 + plot_h - plot_h * v / scale, v) for v in (0, scale // 2, scale)]
    return Chart(width, height, bars, labels, scale, grid)


def overdue_chart(counts: list[tuple[str, int]]) -> Chart:
    """One horizontal bar per procedure (its label above it, its cases overdue now at its end)."""
    left, row, plot_w = 8, 40, 420
    top = _nice(max([c for _, c in counts] + [1]))
    bars: list[Bar] = []
    labels: list[tuple[float, float, str]] = []
    for i, (label, value) in enumerate(counts):
        y = 6 + i * row
        w = plot_w * value / top
        bars.append(Bar(left, y + 16, w, 16, "overdue", f"{label}: {value}", value))
        labels.append((left, y + 12, label))
        labels.append((left + w + 6, y + 29, str(value)))
    return Chart(left + plot_w + 60, 10 + row * len(counts), bars, labels, top)
