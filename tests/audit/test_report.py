"""The compliance report from case histories alone (``audit.report``), on recorded histories of a test procedure:
terms met on time and late, the overrun, no personal data; a deadline record it cannot read is listed; a withdrawn
complaint's review recorded as met by older code is read as withdrawn."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from audit.history import CaseHistory, HistoryEntry, load_history, parse_history
from audit.report import _reason_in, build_report, local_time, patches_of, render_report_html
from models.complaint import WITHDRAWAL_IS_NOT_A_REVIEW
from tests.audit.conftest import PERSON_LATE, Recorded
from tests.golden_tools import GOLDEN


def test_compliance_report_from_histories(recorded: Recorded) -> None:
    report = build_report([parse_history(recorded.late), parse_history(recorded.on_time)])
    [proc] = report.procedures
    assert (proc.procedure, proc.cases, proc.terms, proc.met_on_time, proc.met_late, proc.breached) == (
        "audit_probe",
        2,
        2,
        1,
        1,
        0,
    )
    assert proc.share_met_on_time == 0.5
    by_id = {c.case_id: c for c in report.cases}
    late = by_id[recorded.late.workflow_id]
    reg = recorded.late_view.registration
    assert reg is not None
    assert (late.act_version_id, late.calendar_version, late.registered_on) == (
        reg.act_version_id,
        reg.calendar_version,
        reg.registered_on.isoformat(),
    )
    [term] = late.terms
    [state] = recorded.late_view.deadlines
    assert term.due == state.due and term.cite == "665/NK Annex 1 item 4" and term.outcome == "met_late"
    assert term.met_at == state.met_at and term.breached_at == state.breached_at and term.escalated
    assert by_id[recorded.on_time.workflow_id].terms[0].outcome == "met_on_time"

    [overrun] = report.overruns
    assert overrun.case_id == recorded.late.workflow_id and overrun.term == "service_term"
    assert "Case status at the due instant: hearing_scheduled" in overrun.reason
    assert "hold_hearing accepted" in overrun.reason and "late" in overrun.reason

    html = render_report_html(report)
    assert recorded.late.workflow_id in html and "665/NK Annex 1 item 4" in html and "50.0 %" in html
    assert PERSON_LATE["iin"] not in html  # the report has no personal data
    assert json.loads(report.model_dump_json())["procedures"][0]["share_met_on_time"] == 0.5


def test_a_deadline_record_the_report_cannot_read_is_listed_not_dropped(recorded: Recorded) -> None:
    case = parse_history(recorded.on_time)
    case.memo["deadline:from_a_future_version"] = {"key": "from_a_future_version", "deadline": {}}
    [rep] = build_report([case]).cases
    assert len(rep.terms) == 1 and len(rep.problems) == 1 and "from_a_future_version" in rep.problems[0]
    assert "from_a_future_version" in render_report_html(build_report([case]))


def _as_recorded_before_the_fix(name: str, **review: Any) -> CaseHistory:
    """A withdrawn complaint's golden history as the code before ``WITHDRAWAL_IS_NOT_A_REVIEW`` recorded it: no patch
    marker, the review term written as done at the instant the withdrawal was accepted."""
    case = parse_history(load_history(GOLDEN / "complaint" / f"{name}.json"))
    case.entries = [e for e in case.entries if not (e.kind == "marker" and WITHDRAWAL_IS_NOT_A_REVIEW in str(e.data))]
    withdraw = next(e for e in case.entries if e.kind == "update" and e.name == "withdraw")
    met_at = (withdraw.at - timedelta(milliseconds=20)).isoformat()

    def old(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
        changed = {k: (met_at if v == "withdrawal" else v) for k, v in review.items()}
        return [{**d, **changed} if d["key"] == "review" else d for d in states]

    # the old code's workflow task accepting the withdrawal published the deadlines with the review done
    answered = next(i for i, e in enumerate(case.entries) if e.kind == "update_result" and e.name == "withdraw")
    published = {"deadlines": old(case.memo["deadlines"])}
    at, eid = case.entries[answered].at, case.entries[answered].event_id
    case.entries.insert(answered + 1, HistoryEntry(event_id=eid, at=at, event_type="x", kind="memo", data=published))
    case.memo_snapshots = [
        (i, t, {**m, "deadlines": old(m["deadlines"])} if i > withdraw.event_id and "deadlines" in m else m)
        for i, t, m in case.memo_snapshots
    ]
    case.memo_snapshots.append((eid, at, published))
    case.memo_snapshots.sort(key=lambda snapshot: snapshot[0])
    case.memo["deadlines"] = published["deadlines"]
    return case


def test_14_6_an_old_record_of_a_withdrawn_review_as_met_is_counted_as_withdrawn() -> None:
    old = _as_recorded_before_the_fix("withdrawn_during_review", status="met", met_at="withdrawal", cancel_reason=None)
    assert WITHDRAWAL_IS_NOT_A_REVIEW not in patches_of(old)
    [rep] = build_report([old]).cases
    review = next(t for t in rep.terms if t.key == "review")
    assert review.outcome == "withdrawn" and review.met_at is None
    assert review.note and review.note.startswith("recorded met on time at the withdrawal")
    [proc] = build_report([old]).procedures
    assert (proc.met_on_time, proc.withdrawn) == (1, 1)  # the forwarding stays met; the review is not

    late = _as_recorded_before_the_fix("withdrawn_after_review_breached", met_at="withdrawal", late_by_seconds=3600.0)
    review = next(t for t in build_report([late]).cases[0].terms if t.key == "review")
    assert review.outcome == "breached" and review.met_at is None and review.late_by_seconds is None
    assert review.note and "recorded met late" in review.note and review.reason

    # a history recorded with the fix is read as it is
    new = parse_history(load_history(GOLDEN / "complaint" / "withdrawn_during_review.json"))
    assert WITHDRAWAL_IS_NOT_A_REVIEW in patches_of(new)
    assert {t.key: (t.outcome, t.note) for t in build_report([new]).cases[0].terms} == {
        "forward": ("met_on_time", None),
        "review": ("withdrawn", None),
    }


def test_a_breach_recorded_long_after_its_due_instant_is_said_as_recorded() -> None:
    """A complaint registered after its terms: the review's breach was recorded when the case began, not at its due
    instant, and the report said "breached <the start>" as if the term ran out then (an adversarial run, 2026-12-04).
    A breach the timer recorded at its due instant still reads "breached"."""
    recorded = GOLDEN / "complaint" / "registered_after_its_forwarding_term.json"
    late = build_report([parse_history(load_history(recorded))])
    [review] = [o for o in late.overruns if o.term == "review" and o.outcome == "breached"]
    assert review.reason.startswith(f"Due {local_time(review.due)}, breach recorded "), review.reason
    assert "нарушение зафиксировано" in (_reason_in(review, "ru") or "")
    on_time = build_report([parse_history(load_history(GOLDEN / "egov_number_connection" / "term_expired.json"))])
    [service] = [o for o in on_time.overruns if o.term == "service" and o.outcome == "breached"]
    assert f"Due {local_time(service.due)}, breached " in service.reason and "recorded" not in service.reason


def test_a_case_given_twice_is_counted_once() -> None:
    """The same history from two copies (an id given twice to export, a folder given twice to the report) was counted
    twice, its breaches too (an adversarial run, 2026-12-04)."""
    path = GOLDEN / "egov_number_connection" / "term_expired.json"
    once, twice = (
        build_report([parse_history(load_history(path))]),
        build_report([parse_history(load_history(path)), parse_history(load_history(path))]),
    )
    assert len(twice.cases) == 1 and twice.procedures == once.procedures
