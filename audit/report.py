"""The compliance report, computed from case histories alone (works offline on exported files).

Per case: procedure, governing act version and calendar version (the ``case`` memo written at
registration), every legal term with its due instant, its outcome and when, and its citation (each term's
``deadline:<key>`` memo, upserted when the term changes; cases before rewrote the whole ``deadlines`` list on every
change, ``models.deadlines.deadline_records`` reads both). Per procedure: counts and the share of decided terms met
on time; a term cancelled because its request was withdrawn (a withdrawn complaint's review) is counted apart
as ``withdrawn``, never as met. Overruns (terms met late or breached and still not done) with their reason: the
case's status at the due instant and what happened between the term's opening and its end (updates accepted,
statuses, other terms opened, calendar corrections).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, Field, ValidationError

from audit.history import CaseHistory
from models.case import INTAKE_MEMO, IntakeRecord
from models.complaint import WITHDRAWAL_IS_NOT_A_REVIEW
from models.deadlines import DeadlineState, DeadlineStatus, deadline_records, recorded_late
from rules import law
from rules.calendar import almaty_text

__all__ = [
    "CaseReport",
    "ComplianceReport",
    "Overrun",
    "ProcedureSummary",
    "Scope",
    "TermRecord",
    "build_report",
    "patch_ids",
    "patches_of",
    "render_report_html",
    "templates",
]

MET_ON_TIME, MET_LATE, BREACHED, OPEN, CANCELLED = "met_on_time", "met_late", "breached", "open", "cancelled"
WITHDRAWN = "withdrawn"
"""A term whose act never happened because the request was withdrawn (a withdrawn complaint's review): neither met
nor breached, counted apart."""
WITHDRAW_UPDATE = "withdraw"
PATCH_MARKER = "core_patch"
_WAKES = {"update", "activity_result", "activity_failure", "timer_fired", "signal"}
"""Entries that begin a new workflow task's work: a term recorded after the withdrawal with none of them in between
was recorded by the workflow task that accepted the withdrawal."""


def templates(lang: str = "en") -> Environment:
    """The audit package's jinja2 templates (HTML autoescaped), their texts in ``lang`` (kk, ru, en: the console's
    catalogues, ``api/locales``) and acts' titles from the law data in that language."""
    from api.deadline_view import explain
    from api.i18n import gettext

    env = Environment(
        loader=PackageLoader("audit", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = local_time
    env.filters["duration"] = lambda seconds: duration(seconds, lambda t: gettext(lang, t))
    env.globals.update(
        _=lambda text: gettext(lang, text),
        lang=lang,
        act_title=lambda version_id: law.act_title(version_id, lang),
        procedure_title=lambda key: _procedure_title(key, lang),
        reason=lambda item: _reason_in(item, lang),
        counted=lambda term: (
            "; ".join(explain(term.state, lambda t: gettext(lang, t))) if term.state else term.explanation
        ),
    )
    return env


def _counted(term: TermRecord, _: Callable[[str], str], explain: Callable[..., list[str]]) -> str:
    """How ``term``'s due instant was counted, in the page's language (``api.deadline_view.explain``); the English
    text the record holds when the report was read back from JSON (no record at hand)."""
    return "; ".join(explain(term.state, _)) if term.state is not None else term.explanation


def _reason_in(item: TermRecord | Overrun, lang: str) -> str | None:
    """An overrun's reason in ``lang``, its events by their titles; the English text read back from JSON as it is."""
    from api.i18n import gettext

    if item.reason_said is None:
        return item.reason
    return item.reason_said.say(lambda text: gettext(lang, text), lambda event: event_title_in(event, lang))


@cache
def _event_titles() -> dict[str, str]:
    from workflows.catalogue import by_key

    return {e.name: e.title for spec in by_key().values() for e in spec.events}


def event_title_in(event: str, lang: str) -> str:
    """An event named by its Update name (``completeness_decision``), by its title in ``lang`` (the console's
    catalogues); a name no procedure declares, as it is."""
    from api.i18n import gettext

    return gettext(lang, _event_titles().get(event, event))


def _procedure_title(key: str, lang: str) -> str:
    """A procedure's name in ``lang`` (the catalogue's title through the console's catalogues), else its key."""
    from api.i18n import gettext
    from workflows.catalogue import by_key

    spec = by_key().get(key)
    return gettext(lang, spec.title) if spec else key


def local_time(value: datetime | str | None) -> str:
    """An instant in Asia/Almaty, minutes precision, as every page shows it (``2027-03-29 18:30 +05:00``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return almaty_text(value)


def duration(seconds: float | str | None, _: Callable[[str], str] = str) -> str:
    """``seconds`` as days, hours and minutes (``9 d 9 h 36 min``), the units in ``_``'s language."""
    if seconds is None:
        return ""
    minutes = int(float(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = (("{n} d", days), ("{n} h", hours), ("{n} min", mins))
    return " ".join(_(unit).format(n=n) for unit, n in parts if n or unit == "{n} min")


class Phrase(BaseModel):
    """A clause of an overrun's reason: an English text with ``{name}`` fields, a msgid of the console's catalogues
    (``api/locales``), and its fields' values (instants, and the statuses, events and terms the catalogues name)."""

    text: str
    values: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def of(cls, text: str, **values: str) -> Phrase:
        return cls(text=text, values=values)

    def say(self, _: Callable[[str], str], name: Callable[[str], str] = str) -> str:
        """Said with ``_``; an ``event`` by ``name`` (its title), a ``late`` (seconds) as a duration."""

        def value(key: str, v: str) -> str:
            if key == "event":
                return name(v)
            return duration(v, _) if key == "late" else _(v)

        return _(self.text).format(**{k: value(k, v) for k, v in self.values.items()})


class Reason(BaseModel):
    """Why a term overran, said in any language: its clauses, then what happened meanwhile."""

    parts: list[Phrase]
    meanwhile: list[Phrase] = Field(default_factory=list)

    def say(self, _: Callable[[str], str] = str, name: Callable[[str], str] = str) -> str:
        """The reason in ``_``'s language, events by ``name`` (English and events by their keys, as the JSON report
        keeps it, by default); each sentence begins with a capital."""
        said = [p.say(_, name) for p in self.parts]
        if self.meanwhile:
            said.append(_("meanwhile: {events}").format(events="; ".join(m.say(_, name) for m in self.meanwhile)))
        return ". ".join(s[:1].upper() + s[1:] for s in said)


class TermRecord(BaseModel):
    """One legal term of a case as the history records it."""

    key: str
    term_key: str
    cite: str
    text: str
    due: datetime
    outcome: str  # met_on_time, met_late, breached, open, cancelled, withdrawn
    opened_at: datetime | None = None
    met_at: datetime | None = None
    breached_at: datetime | None = None
    late_by_seconds: float | None = None
    escalated: bool = False
    calendar_version: str = ""
    explanation: str = ""
    """How the due instant was counted, in English (the JSON report); the HTML pages say it in their language."""
    changes: list[dict[str, Any]] = Field(default_factory=list)
    reason: str | None = None  # for overruns, in English
    reason_said: Reason | None = Field(default=None, exclude=True)
    """The reason's clauses, to say it in the page's language (not part of the JSON report)."""
    note: str | None = None  # how the report read a record (e.g. an old record of a withdrawn review as met)
    state: DeadlineState | None = Field(default=None, exclude=True)
    """The record itself, for explaining the count in the page's language (not part of the JSON report)."""


class CaseReport(BaseModel):
    case_id: str
    run_id: str | None = None  # the case's first run: which case, where its id names several (audit/export.py)
    workflow_type: str
    procedure: str
    execution_status: str
    started_at: datetime
    closed_at: datetime | None = None
    last_status: str | None = None
    act_key: str | None = None
    act_version_id: str | None = None
    act_basis: str | None = None
    act_version_assumed: bool | None = None
    registered_on: str | None = None
    calendar_version: str | None = None  # at registration
    calendar_versions: list[str] = Field(default_factory=list)  # every version a term was computed with
    received_at: datetime | None = None  # as the start gave it (the start's memo)
    backdated_working_days: int | None = None
    """Set when the receipt was back-dated (``IntakeRecord.backdated``): working days between the receipt given and
    the start, taken as given; the terms count from that receipt."""
    started_by: str | None = None  # who gave a back-dated receipt (set with ``backdated_working_days`` only)
    terms: list[TermRecord] = Field(default_factory=list)
    failure: str | None = None
    problems: list[str] = Field(default_factory=list)  # records the report could not read (never dropped silently)


class ProcedureSummary(BaseModel):
    procedure: str
    cases: int = 0
    by_execution_status: dict[str, int] = Field(default_factory=dict)
    terms: int = 0
    met_on_time: int = 0
    met_late: int = 0
    breached: int = 0  # breached and still not done
    open: int = 0
    cancelled: int = 0
    withdrawn: int = 0  # terms of requests withdrawn before their act (a withdrawn complaint is not a review)
    share_met_on_time: float | None = None  # met on time / (met on time + met late + breached)


class Overrun(BaseModel):
    case_id: str
    run_id: str | None = None  # as ``CaseReport.run_id``
    procedure: str
    term: str
    cite: str
    due: datetime
    outcome: str
    ended_at: datetime | None = None
    late_by_seconds: float | None = None
    reason: str  # in English
    reason_said: Reason | None = Field(default=None, exclude=True)  # to say it in the page's language


class Scope(BaseModel):
    """What a report covers, as the command chose it: history files, case ids, or the server's cases a visibility
    query selected (with the filters it was built from), so a reader knows what its figures count."""

    files: list[str] = Field(default_factory=list)
    cases: list[str] = Field(default_factory=list)
    query: str | None = None
    procedure: str | None = None
    since: datetime | None = None  # cases started at or after
    until: datetime | None = None  # cases started before
    status: str | None = None  # execution status
    case_status: str | None = None  # the case's own status (KzStatus)


class ComplianceReport(BaseModel):
    generated_at: datetime
    scope: Scope = Field(default_factory=Scope)
    histories: int
    cases: list[CaseReport]
    procedures: list[ProcedureSummary]
    overruns: list[Overrun]


def _outcome(state: DeadlineState) -> str:
    if state.status is DeadlineStatus.MET:
        return MET_ON_TIME
    if state.status is DeadlineStatus.BREACHED:
        return MET_LATE if state.met_at else BREACHED
    if state.status is DeadlineStatus.CANCELLED:
        return WITHDRAWN if state.cancel_reason == WITHDRAWN else CANCELLED
    return OPEN


def patches_of(case: CaseHistory) -> set[str]:
    """The ids of the ``workflow.patched`` markers the history carries."""
    return {pid for e in case.entries if e.kind == "marker" and e.name == PATCH_MARKER for pid in patch_ids(e.data)}


def patch_ids(details: Any) -> list[str]:
    """The patch ids a ``workflow.patched`` marker's details carry (its ``patch-data``)."""
    if not isinstance(details, dict):
        return []
    return [str(d["id"]) for d in details.get("patch-data") or [] if isinstance(d, dict) and d.get("id")]


def _done_by_withdrawal(case: CaseHistory) -> tuple[datetime | None, set[str]]:
    """For a complaint recorded before ``WITHDRAWAL_IS_NOT_A_REVIEW`` that ended withdrawn: when it accepted the
    ``withdraw`` Update, and the terms the workflow task accepting it recorded as done (else None and nothing)."""
    if not case.status_changes or case.status_changes[-1][2] != WITHDRAWN:
        return None, set()
    if WITHDRAWAL_IS_NOT_A_REVIEW in patches_of(case):
        return None, set()
    accepted = next((e for e in case.entries if e.kind == "update" and e.name == WITHDRAW_UPDATE), None)
    if accepted is None:
        return None, set()
    done: set[str] = set()
    for e in case.entries:
        if e.event_id <= accepted.event_id:
            continue
        if e.kind in _WAKES:
            break
        if e.kind == "memo" and isinstance(e.data, dict):
            for d in deadline_records(e.data):
                if d.get("met_at"):
                    done.add(str(d.get("key")))
    return accepted.at, done - _done_before(case, accepted.event_id)


def _done_before(case: CaseHistory, event_id: int) -> set[str]:
    """The terms recorded done before ``event_id``."""
    done: set[str] = set()
    for eid, _at, states in case.deadline_snapshots():
        if eid < event_id:
            done.update(str(d.get("key")) for d in states if isinstance(d, dict) and d.get("met_at"))
    return done


def _read_old_withdrawal(term: TermRecord, withdrawn_at: datetime | None, done_by_it: set[str]) -> None:
    """Complaints recorded before withdrawals were kept apart took the withdrawal that woke the review's wait for
    the review itself: the workflow task that accepted the ``withdraw`` Update recorded the term met (on time, or
    late after a breach). Read it as what happened: withdrawn, or breached and never done."""
    if withdrawn_at is None or term.key not in done_by_it or term.outcome not in (MET_ON_TIME, MET_LATE):
        return
    recorded = term.outcome.replace("_", " ")
    term.note = f"recorded {recorded} at the withdrawal ({local_time(withdrawn_at)}): read as not done"
    if term.outcome == MET_ON_TIME:
        term.outcome = WITHDRAWN
    else:
        term.outcome, term.late_by_seconds = BREACHED, None
    term.met_at = None


def _opened_at(case: CaseHistory) -> dict[str, datetime]:
    opened: dict[str, datetime] = {}
    for _eid, at, states in case.deadline_snapshots():
        for s in states:
            opened.setdefault(str(s.get("key")), at)
    return opened


def _reason(case: CaseHistory, term: TermRecord, report_time: datetime) -> Reason:
    """Why a term overran, from the record: status at the due instant and what happened meanwhile."""
    end = term.met_at or case.closed_at or report_time
    start = term.opened_at or case.started_at
    due = local_time(term.due)
    parts: list[Phrase] = []
    if term.outcome == MET_LATE:
        late = str(term.late_by_seconds or 0)
        parts.append(
            Phrase.of("due {due}, done {done} ({late} late)", due=due, done=local_time(term.met_at), late=late)
        )
    else:
        still = "case closed" if case.closed_at else "still not done"
        # a breach recorded well after the due instant (a back-dated receipt, a worker that was down) is said as
        # recorded: the term was breached at its due instant, not a year later when the case began
        found = "breach recorded" if recorded_late(term.breached_at, term.due) else "breached"
        parts.append(
            Phrase.of(f"due {{due}}, {found} {{breached}}, {still}", due=due, breached=local_time(term.breached_at))
        )
    status = case.status_at(term.due)
    if status:
        parts.append(Phrase.of("case status at the due instant: {status}", status=status))
    happened: list[Phrase] = []
    for entry in case.entries:
        if not start <= entry.at <= end:
            continue
        if entry.kind == "update" and entry.name != "apply_calendar_correction":
            happened.append(Phrase.of("{event} accepted {at}", event=entry.name, at=local_time(entry.at)))
        elif entry.kind == "status":
            happened.append(Phrase.of("status {status} {at}", status=entry.name, at=local_time(entry.at)))
    happened += [
        Phrase.of("term {term} opened {at}", term=k, at=local_time(at))
        for k, at in _opened_at(case).items()
        if k != term.key and start < at <= end
    ]
    for change in term.changes:
        happened.append(
            Phrase.of(
                "calendar correction ({reason}) moved the due instant from {old} to {new}",
                reason=str(change.get("reason")),
                old=local_time(change.get("old_due")),
                new=local_time(change.get("new_due")),
            )
        )
    if term.escalated:
        happened.append(Phrase.of("breach reported to the supervisor"))
    return Reason(parts=parts, meanwhile=happened)


def _read_intake(case: CaseHistory, rep: CaseReport) -> None:
    """The start's memo (``IntakeRecord``): the receipt as given, and who gave it when it was back-dated."""
    raw = case.memo.get(INTAKE_MEMO)
    if raw is None:
        return  # a case started before the start's memo, or past the edge
    try:
        intake = IntakeRecord.model_validate(raw)
    except ValidationError as exc:
        rep.problems.append(f"the start's memo does not match today's IntakeRecord: {exc.error_count()} field errors")
        return
    rep.received_at = intake.received_at
    if intake.backdated:
        rep.backdated_working_days = intake.backdated_working_days
        rep.started_by = intake.started_by


def case_report(case: CaseHistory, report_time: datetime | None = None) -> CaseReport:
    """The compliance facts of one case."""
    report_time = report_time or datetime.now(UTC)
    reg = case.memo.get("case") or {}
    rep = CaseReport(
        case_id=case.workflow_id,
        run_id=case.run_id,
        workflow_type=case.workflow_type,
        procedure=case.procedure,
        execution_status=case.execution_status,
        started_at=case.started_at,
        closed_at=case.closed_at,
        last_status=case.status_changes[-1][2] if case.status_changes else None,
        act_key=reg.get("act_key"),
        act_version_id=reg.get("act_version_id"),
        act_basis=reg.get("act_basis"),
        act_version_assumed=reg.get("act_version_assumed"),
        registered_on=reg.get("registered_on"),
        calendar_version=reg.get("calendar_version"),
        failure=case.failure,
    )
    _read_intake(case, rep)
    opened = _opened_at(case)
    withdrawn_at, done_by_withdrawal = _done_by_withdrawal(case)
    versions: set[str] = set()
    for raw in case.deadlines():
        try:
            state = DeadlineState.model_validate(raw)
        except ValidationError as exc:
            key = raw.get("key") if isinstance(raw, dict) else None
            rep.problems.append(
                f"deadline record {key!r} does not match today's DeadlineState: "
                f"{exc.error_count()} field errors; read it in the history itself"
            )
            continue
        versions.add(state.deadline.calendar_version)
        versions.update(c.old_calendar_version for c in state.changes)
        term = TermRecord(
            key=state.key,
            term_key=state.deadline.term_key,
            cite=state.deadline.cite,
            text=state.deadline.text,
            due=state.due,
            outcome=_outcome(state),
            opened_at=opened.get(state.key),
            met_at=state.met_at,
            breached_at=state.breached_at,
            late_by_seconds=state.late_by_seconds,
            escalated=state.escalated,
            calendar_version=state.deadline.calendar_version,
            explanation=state.deadline.explain(),
            state=state,
            changes=[c.model_dump(mode="json") for c in state.changes],
        )
        _read_old_withdrawal(term, withdrawn_at, done_by_withdrawal)
        if term.outcome in (MET_LATE, BREACHED):
            term.reason_said = _reason(case, term, report_time)
            term.reason = term.reason_said.say()
        rep.terms.append(term)
    rep.calendar_versions = sorted(versions)
    return rep


def build_report(
    cases: list[CaseHistory], report_time: datetime | None = None, scope: Scope | None = None
) -> ComplianceReport:
    """The compliance report over ``cases``, the ones ``scope`` chose; a case given twice (two copies of its history,
    by its id and first run) is counted once, as its longest history."""
    report_time = report_time or datetime.now(UTC)
    once: dict[tuple[str, str | None], CaseHistory] = {}
    for c in cases:
        key = (c.workflow_id, c.run_id)
        if key not in once or c.event_count > once[key].event_count:
            once[key] = c
    reports = [case_report(c, report_time) for c in once.values()]
    summaries: dict[str, ProcedureSummary] = {}
    overruns: list[Overrun] = []
    for rep in reports:
        s = summaries.setdefault(rep.procedure, ProcedureSummary(procedure=rep.procedure))
        s.cases += 1
        s.by_execution_status = dict(Counter(s.by_execution_status) + Counter([rep.execution_status]))
        for t in rep.terms:
            s.terms += 1
            setattr(s, t.outcome, getattr(s, t.outcome) + 1)
            if t.reason is not None:
                overruns.append(
                    Overrun(
                        case_id=rep.case_id,
                        run_id=rep.run_id,
                        procedure=rep.procedure,
                        term=t.key,
                        cite=t.cite,
                        due=t.due,
                        outcome=t.outcome,
                        ended_at=t.met_at,
                        late_by_seconds=t.late_by_seconds,
                        reason=t.reason,
                        reason_said=t.reason_said,
                    )
                )
    for s in summaries.values():
        decided = s.met_on_time + s.met_late + s.breached
        s.share_met_on_time = round(s.met_on_time / decided, 4) if decided else None
    return ComplianceReport(
        generated_at=report_time,
        scope=scope or Scope(),
        histories=len(cases),
        cases=reports,
        procedures=sorted(summaries.values(), key=lambda x: x.procedure),
        overruns=sorted(overruns, key=lambda o: o.due),
    )


def render_report_html(report: ComplianceReport, lang: str = "en") -> str:
    """The report as one self-contained HTML page."""
    return templates(lang).get_template("report.html.j2").render(report=report)
