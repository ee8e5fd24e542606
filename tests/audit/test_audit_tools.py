"""Replay, compliance report and administrative case on recorded (encrypted) histories of a test procedure."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import zipfile
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from audit import cli
from audit.admin_case import build_admin_case, render_admin_case
from audit.history import decode_history, load_history, parse_history, save_history
from audit.replay import Replay
from audit.report import build_report, render_report_html
from infra.client import data_converter
from infra.codec import ENCODING, EncryptionCodec, KeyRing
from infra.sandbox import SANDBOX
from tests.audit.conftest import PERSON_LATE, PERSON_ON_TIME, Recorded
from tests.audit.probe import DOCUMENTS, AuditProbe, AuditProbeChanged


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


async def test_todays_code_reproduces_the_recorded_cases(recorded: Recorded) -> None:
    replay = Replay([AuditProbe], runner=SANDBOX)
    for history in (recorded.late, recorded.on_time):
        outcome = await replay.check(history)
        assert outcome.reproduced, outcome.error


async def test_changed_code_is_reported_with_the_event_where_it_diverged(recorded: Recorded) -> None:
    outcome = await Replay([AuditProbeChanged], runner=SANDBOX).check(recorded.late)
    assert not outcome.reproduced and outcome.error_kind == "nondeterminism"
    events = list(recorded.late.events)
    # The recorded case registered first (a local-activity marker); the changed code starts a timer instead.
    first_marker = next(e for e in events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED)
    assert (outcome.diverged_event_id, outcome.diverged_event_type) == (first_marker.event_id, "MarkerRecorded")
    assert outcome.diverged_after_event_id == first_marker.event_id - 1
    assert f"event {first_marker.event_id} MarkerRecorded" in outcome.where()


async def test_history_under_an_unknown_key_is_reported_not_replayed(recorded: Recorded) -> None:
    other = dataclasses.replace(
        data_converter(), payload_codec=EncryptionCodec(KeyRing(keys={"elsewhere": b"\x05" * 32}, active="elsewhere"))
    )
    outcome = await Replay([AuditProbe], converter=other, runner=SANDBOX).check(recorded.late)
    assert not outcome.reproduced and outcome.error_kind == "cannot_decrypt"
    assert "not in the keyring" in (outcome.error or "")


async def test_decrypted_history_still_replays_through_the_codec(recorded: Recorded) -> None:
    decoded = decode_history(recorded.late)
    assert all(p.metadata.get("encoding") != ENCODING for p in _payloads(decoded))
    assert (await Replay([AuditProbe], runner=SANDBOX).check(decoded)).reproduced


def _payloads(history: WorkflowHistory) -> list:  # type: ignore[type-arg]
    from audit.history import _payload_slots

    out: list = []  # type: ignore[type-arg]
    for e in history.events:
        _payload_slots(e, out)
    return out


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


def test_cli_report_and_replay_work_offline_on_exported_files(
    recorded: Recorded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for h in (recorded.late, recorded.on_time):
        save_history(h, tmp_path / "export" / f"{h.workflow_id}.json")
    exported = (tmp_path / "export" / f"{recorded.late.workflow_id}.json").read_text()
    assert base64.b64encode(ENCODING).decode() in exported  # payloads stay encrypted in exported files
    assert load_history(tmp_path / "export" / f"{recorded.late.workflow_id}.json").events == recorded.late.events

    runner = CliRunner()
    res = runner.invoke(cli.app, ["report", str(tmp_path / "export"), "--out", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert rep["histories"] == 2 and len(rep["overruns"]) == 1
    assert "service_term" in (tmp_path / "rep" / "report.html").read_text()

    monkeypatch.setattr(cli, "Replay", lambda: Replay([AuditProbe], runner=SANDBOX))
    res = runner.invoke(cli.app, ["replay", str(tmp_path / "export"), "--json", str(tmp_path / "replay.json")])
    assert res.exit_code == 0, res.output
    assert [o["reproduced"] for o in json.loads((tmp_path / "replay.json").read_text())] == [True, True]

    monkeypatch.setattr(cli, "Replay", lambda: Replay([AuditProbeChanged], runner=SANDBOX))
    res = runner.invoke(cli.app, ["replay", str(tmp_path / "export")])
    assert res.exit_code == 1 and "0 of 2 cases reproduce" in res.output


def test_admin_case_from_history(recorded: Recorded) -> None:
    case = build_admin_case(recorded.late)
    assert case.application["applicant"] == PERSON_LATE
    assert case.registration and case.registration["act_version_id"] == recorded.late_view.registration.act_version_id  # type: ignore[union-attr]
    assert [(d.name, d.answer) for d in case.decisions] == [
        ("hold_hearing", case.decisions[0].answer),
        ("decide", "recorded"),
    ]
    assert case.decisions[0].input["place"] == "Astana" and case.decisions[0].answer.startswith("hearing on ")
    assert case.documents == recorded.late_view.documents  # found in the activity's result in the history
    kinds = {e.kind for e in case.events}
    assert {
        "application",
        "update",
        "update_result",
        "activity",
        "activity_result",
        "local_activity",
        "timer_started",
        "timer_fired",
        "memo",
        "status",
        "outcome",
    } <= kinds
    assert case.terms[0].outcome == "met_late" and case.terms[0].reason


def test_admin_case_bundle(recorded: Recorded) -> None:
    case = build_admin_case(recorded.late)
    [doc] = case.documents
    bundle = render_admin_case(case, lambda ref: DOCUMENTS[ref.doc_id])
    assert bundle == render_admin_case(build_admin_case(recorded.late), lambda ref: DOCUMENTS[ref.doc_id])
    zf = zipfile.ZipFile(io.BytesIO(bundle))
    manifest = json.loads(zf.read("manifest.json"))
    [listed] = manifest["documents"]
    assert listed["included"] and zf.read(listed["path"]) == DOCUMENTS[doc.doc_id]
    for f in manifest["files"]:
        import hashlib

        assert hashlib.sha256(zf.read(f["path"])).hexdigest() == f["sha256"]
    html = zf.read("case.html").decode()
    assert PERSON_LATE["full_name"] in html and "665/NK Annex 1 item 4" in html and "hold_hearing" in html
    assert json.loads(zf.read("case.json"))["case_id"] == recorded.late.workflow_id

    with pytest.raises(ValueError, match="do not match the SHA-256"):
        render_admin_case(case, lambda ref: DOCUMENTS[ref.doc_id] + b"tampered")
    without = zipfile.ZipFile(io.BytesIO(render_admin_case(case)))
    assert json.loads(without.read("manifest.json"))["documents"][0]["included"] is False


async def test_golden_files_are_recorded_decrypted_and_replay(
    recorded: Recorded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests import golden_tools

    class Handle:
        async def fetch_history(self) -> WorkflowHistory:
            return recorded.on_time

    monkeypatch.setattr(golden_tools, "GOLDEN", tmp_path)
    monkeypatch.setenv("KZ_RECORD_GOLDEN", "missing")
    path = await golden_tools.save_golden(Handle(), "audit_probe", "refused")  # type: ignore[arg-type]
    assert (
        PERSON_ON_TIME["address"]
        in base64.b64decode(
            json.loads(path.read_text())["history"]["events"][0]["workflowExecutionStartedEventAttributes"]["input"][
                "payloads"
            ][0]["data"]
        ).decode()
    )
    golden = load_history(path)
    assert (await Replay([AuditProbe], runner=SANDBOX).check(golden)).reproduced


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "[TMPRL1100] Nondeterminism error: Timer machine does not handle this event: "
            "HistoryEvent(id: 8, TimerFired)",
            (8, "TimerFired"),
        ),
        ("[TMPRL1100] Nondeterminism error: Missing associated machine for LocalActivity(1)", None),
    ],
)
def test_event_named_by_a_nondeterminism_message(message: str, expected: tuple[int, str] | None) -> None:
    from audit.replay import divergence_from_message

    assert divergence_from_message(message) == expected


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


def test_admin_case_documents_from_our_document_store(recorded: Recorded, tmp_path: Path) -> None:
    import hashlib

    from audit.admin_case import fetch_from_store
    from infra.store import store_document

    [ref] = build_admin_case(recorded.late).documents
    body = DOCUMENTS[ref.doc_id]
    store_document(
        doc_id=ref.doc_id,
        case_id=recorded.late.workflow_id,
        kind=ref.kind,
        title=ref.title,
        cite=ref.cite,
        content=body,
        sha256=hashlib.sha256(body).hexdigest(),
        created_at=ref.created_at,
    )
    assert fetch_from_store(ref) == body
    with pytest.raises(ValueError, match="not in the document store"):
        fetch_from_store(ref.model_copy(update={"doc_id": "missing"}))

    save_history(recorded.late, tmp_path / "late.json")
    res = CliRunner().invoke(
        cli.app, ["admin-case", str(tmp_path / "late.json"), "--documents", "--out", str(tmp_path / "case.zip")]
    )
    assert res.exit_code == 0, res.output
    zf = zipfile.ZipFile(tmp_path / "case.zip")
    assert zf.read(f"documents/{ref.doc_id}") == body


def test_a_deadline_record_the_report_cannot_read_is_listed_not_dropped(recorded: Recorded) -> None:
    case = parse_history(recorded.on_time)
    case.memo["deadlines"] = [*case.memo["deadlines"], {"key": "from_a_future_version", "deadline": {}}]
    [rep] = build_report([case]).cases
    assert len(rep.terms) == 1 and len(rep.problems) == 1 and "from_a_future_version" in rep.problems[0]
    assert "from_a_future_version" in render_report_html(build_report([case]))
