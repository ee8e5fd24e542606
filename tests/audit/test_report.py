"""The compliance report from case histories alone (``audit.report``), on recorded histories of a test procedure:
terms met on time and late, the overrun, no personal data; a deadline record it cannot read is listed."""

from __future__ import annotations

import json

from audit.history import parse_history
from audit.report import build_report, render_report_html
from tests.audit.conftest import PERSON_LATE, Recorded


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
    assert "case status at the due instant: hearing_scheduled" in overrun.reason
    assert "hold_hearing accepted" in overrun.reason and "late" in overrun.reason

    html = render_report_html(report)
    assert recorded.late.workflow_id in html and "665/NK Annex 1 item 4" in html and "50.0 %" in html
    assert PERSON_LATE["iin"] not in html  # the report has no personal data
    assert json.loads(report.model_dump_json())["procedures"][0]["share_met_on_time"] == 0.5


def test_a_deadline_record_the_report_cannot_read_is_listed_not_dropped(recorded: Recorded) -> None:
    case = parse_history(recorded.on_time)
    case.memo["deadlines"] = [*case.memo["deadlines"], {"key": "from_a_future_version", "deadline": {}}]
    [rep] = build_report([case]).cases
    assert len(rep.terms) == 1 and len(rep.problems) == 1 and "from_a_future_version" in rep.problems[0]
    assert "from_a_future_version" in render_report_html(build_report([case]))
