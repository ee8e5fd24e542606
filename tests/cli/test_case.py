"""``starter.py case …``, the commands generated from the catalogue, run as a user runs them (a subprocess
against the time-skipping server): start, send, show, events, their refusals, and shell completion."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from activities.state_registry import add_person
from models.case import CaseView
from starter import app
from tests.cli.conftest import ROOT, Starter
from tests.forkserver import enabled, forkserver
from tests.laws import amended_171, use_law
from tests.refs import opaque
from tests.subscribers import new_iin, new_phone, sms_secret, sms_to, until

DEMO = ROOT / "demo"


def flat(text: str) -> str:
    """The output with the console's line wrapping undone."""
    return " ".join(text.split())


def case_id_in(out: str, procedure: str) -> str:
    m = re.search(rf"{procedure}-[0-9a-f]+", out)
    assert m, out
    return m.group(0)


async def pending(env: WorkflowEnvironment, case_id: str, event: str) -> CaseView:
    """Wait until the case takes ``event`` (its activities run in real time)."""
    handle = env.client.get_workflow_handle(case_id)
    return await until(lambda: handle.query("case", result_type=CaseView), lambda v: event in v.pending_events)


def test_events_list_fields_and_who_may_send_them() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["case", "events"], env={"COLUMNS": "200"})
    assert out.exit_code == 0 and "mvno_permit" in out.output and "electronic_mailbox" in out.output
    out = runner.invoke(app, ["case", "events", "mvno_permit"], env={"COLUMNS": "200"})
    assert out.exit_code == 0
    for text in ("case start mvno_permit", "qualification_decision", "hearing.at", "decided_by", "staff", "665/NK p.7"):
        assert text in out.output, text
    out = runner.invoke(app, ["case", "events", "fraud_check"], env={"COLUMNS": "200"})
    for text in (
        "first.reporter_number",
        "subscriber_report|centre_information|internal_detection",
        "antifraud_centre",
    ):
        assert text in out.output, text
    out = runner.invoke(app, ["case", "events", "egov_number_connection"], env={"COLUMNS": "200"})
    assert "enter_otp" in out.output and "text (secret)" in out.output  # the edge model: the code as typed


def test_unknown_procedure_event_or_pair_is_a_usage_error() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["case", "events", "no_such"], env={"COLUMNS": "200"})
    assert out.exit_code == 2 and "no procedure 'no_such'" in out.output and "mvno_permit" in out.output
    out = runner.invoke(app, ["case", "start", "no_such", "a=1"], env={"COLUMNS": "200"})
    assert out.exit_code == 2 and "no procedure" in out.output
    out = runner.invoke(app, ["case", "send", "mvno_permit-0", "completeness_decision", "complete"])
    assert out.exit_code == 2 and "key=value" in out.output


async def test_start_send_show_a_permit(env: WorkflowEnvironment, starter: Starter, tmp_path: Path) -> None:
    number = f"CLI-GEN-{uuid.uuid4().hex[:8]}"
    received = (await env.get_current_time()).isoformat()
    app_file = str(DEMO / "mvno_permit" / "application_legal_entity.json")
    given = (app_file, f"application_number={number}", f"received_at={received}")
    code, out = await starter("case", "start", "mvno_permit", *given)
    assert code == 0 and "opened: case mvno_permit-" in out, out
    case = case_id_in(out, "mvno_permit")
    code, again = await starter("case", "start", "mvno_permit", *given, "--id-only")
    assert code == 0 and again.strip() == case  # the same application is the same case
    code, out = await starter("case", "start", "mvno_permit", *given)
    assert code == 0 and f"existing: case {case}" in out

    await pending(env, case, "completeness_decision")
    code, out = await starter("case", "send", case, "qualification_decision", "compliant=true", "decided_by=B. Omarov")
    assert code == 1 and "not possible now: qualification_decision does not fit" in flat(out)
    assert "events it accepts now: completeness_decision" in flat(out)

    # a value that breaks the model: the field and the rule, never the value
    naive = "2027-03-24T15:00:00"
    code, out = await starter(
        "case",
        "send",
        case,
        "completeness_decision",
        "complete=false",
        "reasons=expired licence",
        f"reasons={naive}",
        "decided_by=",
    )
    assert code == 1 and "decided_by" in out and "at least 1 character" in flat(out), out
    # a hearing time without a zone is Asia/Almaty time (14 item 5): the refusal names the fields still missing
    code, out = await starter("case", "send", case, "qualification_decision", f"hearing.at={naive}", "compliant=false")
    assert code == 1 and "hearing.at" not in flat(out) and "give the place or the means" in flat(out), out
    assert "decided_by: Field required" in flat(out) and naive not in out
    code, out = await starter("case", "send", case, "no_such_event")
    assert code == 2 and "mvno_permit has no event 'no_such_event'" in flat(out) and "reopen" in out
    code, out = await starter("case", "send", "mvno_permit-0000", "completeness_decision", "complete=true")
    assert code == 1 and "not found: no such case" in out

    body = tmp_path / "decision.json"
    body.write_text(json.dumps({"complete": True}))
    code, out = await starter("case", "send", case, "completeness_decision", "--json", str(body), "decided_by=A. S.")
    assert code == 0 and f"accepted completeness_decision: qualification check next ({case})" in flat(out), out

    await pending(env, case, "qualification_decision")
    code, out = await starter("case", "show", case)
    shown = flat(out)
    assert code == 0
    for text in (
        f"Case {case} — mvno_permit: Permit for a mobile virtual network operator",
        "status: qualification_check",
        "possible now: qualification_decision",
        "completeness_check",
        "665/NK p.6",
        number,
        "System pre-check",
        "Timeline",
    ):
        assert text in shown, (text, out)
    await env.client.get_workflow_handle(case).terminate(reason="end of test")


async def test_a_refused_input_names_the_field_and_never_echoes_the_value(starter: Starter) -> None:
    complaint = str(DEMO / "complaint" / "complaint.json")
    code, out = await starter("case", "start", "complaint", complaint, "complainant.iin=900101300127")
    assert code == 1 and "complainant.iin: IIN check digit is wrong" in flat(out) and "900101300127" not in out
    code, out = await starter("case", "start", "complaint", complaint, "complainant.phone=+7 999 1234567")
    assert code == 1 and "complainant.phone: not a Kazakhstan mobile number" in flat(out)
    assert "9991234567" not in out.replace(" ", "")
    # an act's intake check refuses before Temporal is asked (act 71 was abolished by 305/NK)
    code, out = await starter(
        "case", "start", "electronic_mailbox", "iin=900101300126", "login=asanov.a", "channel=online", "--received-now"
    )
    assert code == 1 and "refused:" in out and "305/NK" in out
    # a paragraph not in force on the governing day: a fraud report dated before 554/NK added 171 ch.3
    code, out = await starter(
        "case",
        "start",
        "fraud_check",
        "first.way_in=centre_information",
        "first.ref=nb-afc:cli-2025-06",
        "first.suspect_number=+77010000222",
        "first.received_at=2025-06-16T10:00:00+05:00",
        "first.description=GSM gateway pattern",
    )
    assert code == 1 and "171 p.119 does not apply on 2025-06-16" in flat(out)
    code, out = await starter("case", "start", "mvno_permit", str(DEMO / "nope.json"))
    assert code == 1 and "no such file" in out and "Traceback" not in out


async def test_a_fraud_report_through_case_start_joins_the_running_case(
    env: WorkflowEnvironment, starter: Starter, tmp_path: Path
) -> None:
    number = f"+7707{uuid.uuid4().int % 10**7:07d}"
    first = f"afs-{uuid.uuid4().hex[:8]}"
    code, out = await starter(
        "case",
        "start",
        "fraud_check",
        "first.way_in=internal_detection",
        f"first.suspect_number={number}",
        f"first.ref={first}",
        "first.description=SIM box burst",
        "first.simbox=true",
        "--received-now",
    )
    assert code == 0 and "opened: case fraud_check-" in out, out
    case = case_id_in(out, "fraud_check")
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps(
            {
                "first": {
                    "way_in": "subscriber_report",
                    "ref": opaque("rs-", 8),
                    "suspect_number": number,
                    "reporter_number": "+77770000302",
                    "description": "SMS: your card is blocked",
                }
            }
        )
    )
    code, out = await starter("case", "start", "fraud_check", str(report), "--received-now")
    assert code == 0 and f"joined: case {case}" in out and "reports in case: 2" in out, out
    code, out = await starter("case", "start", "fraud_check", str(report), "--received-now")
    assert code == 0 and f"duplicate: case {case}" in out
    code, out = await starter(
        "case", "send", case, "record_check_outcome", "confirmed=false", "evidence=no burst", "analyst=a-7"
    )
    assert code == 0 and f"accepted record_check_outcome ({case})" in out and "outcome at:" in out, out
    await env.client.get_workflow_handle(case).result()  # not confirmed: the centre is told, the case closes


async def test_a_typed_code_goes_through_the_events_edge_model(env: WorkflowEnvironment, starter: Starter) -> None:
    iin, phone = new_iin(), new_phone()
    add_person(iin, "ASANOV ASAN", document_valid_until=(await env.get_current_time()).replace(year=2999))
    received = (await env.get_current_time()).isoformat()
    code, out = await starter(
        "case",
        "start",
        "egov_number_connection",
        f"iin={iin}",
        f"phone={phone}",
        "channel=portal",
        f"received_at={received}",
    )
    assert code == 0, out
    case = case_id_in(out, "egov_number_connection")
    await until(lambda: asyncio.to_thread(sms_to, phone), lambda sms: any(m.sender == "1414" for m in sms))
    await pending(env, case, "enter_otp")
    right = sms_secret(phone, "1414")
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    code, out = await starter("case", "send", case, "enter_otp", f"code={wrong}")
    assert code == 1 and "not accepted enter_otp" in out and "2 attempt(s) left" in out and wrong not in out, out
    code, out = await starter("case", "send", case, "enter_otp", f"code={right}")
    assert code == 0 and "accepted enter_otp" in out and right not in out, out
    await env.client.get_workflow_handle(case).terminate(reason="end of test")


async def complete(*words: str) -> list[str]:
    """What bash completion offers after ``starter.py <words>`` (click's completion protocol), in a process of its
    own as the shell runs it (forked from the tests' pre-imported one, ``tests/forkserver.py``, unless disabled)."""
    env = {
        **os.environ,
        "_STARTER.PY_COMPLETE": "complete_bash",
        "COMP_WORDS": " ".join(["starter.py", *words]),
        "COMP_CWORD": str(len(words)),
    }
    if enabled():
        code, out, err = await forkserver().run([str(ROOT / "starter.py")], env, ROOT)
        assert code == 0, err.decode()
        return out.decode().split()
    done = subprocess.run(
        [sys.executable, str(ROOT / "starter.py")], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.split()


async def test_shell_completion_of_procedures_events_and_fields() -> None:
    assert await complete("case", "start", "mv") == ["mvno_permit"]
    events = set(await complete("case", "events", ""))
    assert events >= {"mvno_permit", "fraud_check", "complaint", "electronic_mailbox"}
    assert await complete("case", "send", "mvno_permit-3f2a", "qual") == ["qualification_decision"]
    assert "enter_otp" in await complete("case", "send", "egov_number_connection-9c1d", "")
    assert await complete("case", "send", "mvno_permit-3f2a", "qualification_decision", "hearing.") == [
        "hearing.at=",
        "hearing.place=",
        "hearing.means=",
        "hearing.outside_office_hours_confirmed=",
    ]
    assert "first.reporter_number=" in await complete("case", "start", "fraud_check", "first.rep")


def test_a_migration_to_an_announced_version_is_refused_before_anything_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``law migrate`` sent a draft (``expected = true``) to every running case, each refused and recorded it, where
    only ``--dry-run`` takes drafts (an adversarial run, 2026-12-03). Refused before any server is asked: no
    server answers at this address."""
    use_law(monkeypatch, amended_171(tmp_path, in_force_from=date(2027, 1, 1), check_days=3, expected=True))
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:9")  # Temporal's envconfig
    args = ["law", "migrate", "--act", "171", "--to", "171/test-amendment", "--reason", "r", "--by", "b"]
    out = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert out.exit_code != 0 and "announced version, not law yet" in out.output and "nothing sent" in out.output
