"""Case histories as auditors read them (``audit.history``), on recorded (encrypted) histories of a test
procedure: no personal data in clear, yet everything decodes; a failed case's encrypted failure message."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from audit.history import decode_history, parse_history
from audit.report import build_report
from tests.audit.conftest import PERSON_LATE, PERSON_ON_TIME, Recorded
from tests.audit.probe import AuditProbe


def raw(history: WorkflowHistory) -> bytes:
    """The history's bytes as the server stores them (protobuf: payload data appear verbatim)."""
    return b"".join(e.SerializeToString() for e in history.events)


def test_recorded_histories_hold_no_personal_data_in_clear_but_decode(recorded: Recorded) -> None:
    for history, person in ((recorded.late, PERSON_LATE), (recorded.on_time, PERSON_ON_TIME)):
        stored = raw(history)
        for value in person.values():
            assert value.encode() not in stored
        case = parse_history(history)
        assert case.application[0]["applicant"] == person
        clear = raw(decode_history(history))  # the control: decrypted, the same bytes show every value
        assert all(value.encode() in clear for value in person.values())


async def test_failed_case_reads_its_encrypted_failure_message(env: WorkflowEnvironment) -> None:
    from datetime import UTC, datetime

    from temporalio.client import WorkflowFailureError

    from tests.audit.probe import ProbeApplication, issue_probe_document
    from worker import ACTIVITIES, make_worker

    tq = "tq-audit-failed"
    app = ProbeApplication.model_validate(
        {"applicant": PERSON_ON_TIME, "received_at": datetime(2020, 3, 2, 10, tzinfo=UTC)}
    )
    async with make_worker(
        env.client, task_queue=tq, workflows=[AuditProbe], activities=[*ACTIVITIES, issue_probe_document]
    ):
        handle = await env.client.start_workflow(AuditProbe.run, app, id=f"audit_probe-failed-{tq}", task_queue=tq)
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        history = await handle.fetch_history()
    stored = b"".join(e.SerializeToString() for e in history.events)
    assert b"is not in force" not in stored and b"665/NK" not in stored  # messages are encrypted too
    case = parse_history(history)
    assert case.execution_status == "Failed"
    assert case.failure and case.failure.startswith("ActNotInForce: act 665/NK is not in force on 2020-03-02")
    [rep] = build_report([case]).cases
    assert rep.failure == case.failure and rep.terms == []


def test_an_event_names_the_key_that_sent_it() -> None:
    """The API sends an event under an Update id that begins with the sending key's id (``infra.cases.sent_as``):
    the audit's history and the administrative case say which key sent each decision, from the history alone."""
    from pathlib import Path

    from audit.admin_case import build_admin_case
    from audit.history import load_history

    golden = Path(__file__).parents[1] / "golden" / "mvno_permit" / "hearing_then_permit.json"
    history = load_history(golden)
    accepted = [e for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")]
    assert accepted, "the golden holds decisions"
    meta = accepted[0].workflow_execution_update_accepted_event_attributes.accepted_request.meta
    meta.update_id = "by-k3f9a01/idem-0123"
    entries = [e for e in parse_history(history).entries if e.kind == "update"]
    assert entries[0].sent_by_key == "k3f9a01" and all(e.sent_by_key is None for e in entries[1:])
    decisions = build_admin_case(history).decisions
    assert decisions[0].sent_by_key == "k3f9a01" and decisions[1].sent_by_key is None
