"""``starter.py fraud`` commands end to end against the time-skipping server (each command runs in a
thread with its own client, as from a terminal, while the test's worker runs the cases)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from typer.testing import CliRunner, Result

from activities.antifraud import messages_for_case
from infra.settings import settings
from models.fraud_check import NoticeKind
from starter import app
from worker import make_worker
from workflows.fraud_check import FraudCheck, fraud_case_id

_rng = random.Random()


@pytest.fixture
async def cli_worker(env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Worker]:
    monkeypatch.setenv("TEMPORAL_ADDRESS", env.client.service_client.config.target_host)
    monkeypatch.setenv("COLUMNS", "200")
    async with make_worker(env.client, task_queue=settings().task_queue, workflows=[FraudCheck]) as w:
        yield w


async def starter(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, app, ["fraud", *args])


async def test_commands_take_reports_record_decisions_and_lift(env: WorkflowEnvironment, cli_worker: Worker) -> None:
    number = f"+7707{_rng.randrange(10**7):07d}"
    case = fraud_case_id(number)
    detection = f"afs-{_rng.randrange(10**9)}"
    said = "SIM box burst [/] [red]x :smile:"  # a person's words: printed as they are, never read as markup
    out = await starter("detect", number, "--simbox", "--text", said, "--ref", detection)
    assert out.exit_code == 0 and f"opened case {case}" in out.output
    ref = f"rs-{_rng.randrange(10**9)}"
    out = await starter("report", number, "--reporter", "+77770000302", "--text", "SMS: card blocked", "--ref", ref)
    assert out.exit_code == 0 and "joined the open case" in out.output
    out = await starter("report", number, "--reporter", "+77770000302", "--text", "SMS: card blocked", "--ref", ref)
    assert out.exit_code == 0 and "already taken in" in out.output
    out = await starter("centre-info", number, "--text", "centre says so")
    assert out.exit_code == 0 and "joined the open case" in out.output
    out = await starter("report", number, "--reporter", "+7777", "--text", "x")
    assert out.exit_code == 1

    out = await starter("lift", number, "--reason", "r", "--by", "b")
    # the one send path (infra.cases.send_event) refuses an event the case does not take now, as the API does
    assert out.exit_code == 1 and "lift_suspension does not fit the case's state now (status check)" in out.output
    out = await starter("decide", number, "--confirmed", "--evidence", "CDR burst", "--analyst", "analyst-07")
    assert out.exit_code == 0 and "confirmed → suspension" in out.output
    await env.sleep(5)
    out = await starter("show", number)
    assert out.exit_code == 0
    for text in (
        "status suspended",
        "internal_detection",
        "subscriber_report",
        "centre_information",
        "confirmed by analyst-07",
        "services suspended",
        "detection (171 p.118): delivered",
        "suspension (171 p.120): delivered",
        "suspension_notice",
        "lift_suspension",
        said,
    ):
        assert text in out.output, text
    out = await starter("lift", case, "--reason", "complaint upheld", "--by", "head", "--complaint-ref", "C-1")
    assert out.exit_code == 0
    await env.client.get_workflow_handle_for(FraudCheck.run, case).result()
    assert [m.kind for m in messages_for_case(case)] == [
        NoticeKind.DETECTION,
        NoticeKind.SUSPENSION,
        NoticeKind.RESTORATION,
    ]
    out = await starter("show", number)
    assert "outcome suspension_lifted" in out.output and "services restored" in out.output
    out = await starter(
        "decide", f"+7707{_rng.randrange(10**7):07d}", "--confirmed", "--evidence", "x", "--analyst", "y"
    )
    assert out.exit_code == 1 and "no case for this number" in out.output


async def test_bulk_command_reports_bad_lines_and_reruns_cleanly(
    env: WorkflowEnvironment,
    cli_worker: Worker,
    tmp_path: Path,
) -> None:
    numbers = [f"+7707{_rng.randrange(10**7):07d}" for _ in range(3)]
    sweep = tmp_path / "sweep-cli.csv"
    sweep.write_text(
        "number,signal,simbox,description\n" + "\n".join(f"{n},call,yes,g" for n in numbers) + "\n+7 1,call,yes,bad\n",
        encoding="utf-8",
    )
    sweep_id = f"cli-{_rng.randrange(10**9)}"
    out = await starter("bulk", str(sweep), "--sweep-id", sweep_id)
    assert out.exit_code == 0, out.output
    assert "3 cases opened" in out.output and "line 5:" in out.output and "1 bad lines" in out.output
    out = await starter("bulk", str(sweep), "--sweep-id", sweep_id)
    assert "0 cases opened, 0 joined open cases, 3 already taken in" in out.output
    out = await starter("bulk", str(sweep), "--sweep-id", "bad id!")
    assert out.exit_code != 0
    # a sweep id that reads as a phone number goes into no ref: refused before any line is sent (each line failed,
    # "re-run the file to retry": the third adversarial run of 2026-12-03)
    out = await starter("bulk", str(sweep), "--sweep-id", "8-701-234-56-78")
    assert out.exit_code == 2 and "reads as a phone number" in out.output and "opened" not in out.output, out.output
    # a sweep received in the future is refused whole, not line by line as failures to retry (2026-12-04)
    ahead = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings(), "future_tolerance_seconds", 300.0)
        out = await starter("bulk", str(sweep), "--sweep-id", f"{sweep_id}-ahead", "--received-at", ahead)
    assert out.exit_code == 1 and "received_at is in the future" in out.output, out.output
    assert "not taken in" not in out.output and "opened" not in out.output
    for n in numbers:
        await env.client.get_workflow_handle(fraud_case_id(n)).terminate(reason="end of test")
