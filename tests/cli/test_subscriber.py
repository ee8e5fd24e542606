"""``starter.py subscriber`` end to end against the time-skipping server: the README's act 58 example, and
the edge's refusals (a weak EDS password) that never reach Temporal."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner, Result

import infra.cases
from activities.mobile_citizens import numbers_of
from infra.settings import settings
from starter import app
from tests.subscribers import new_iin, new_phone, sms_secret
from worker import make_worker


@pytest.fixture
async def cli(env: WorkflowEnvironment, task_queue: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    # the commands connect through Temporal's environment configuration, as from a terminal
    monkeypatch.setenv("TEMPORAL_ADDRESS", env.client.service_client.config.target_host)
    ours = settings().model_copy(update={"task_queue": task_queue})
    monkeypatch.setattr(infra.cases, "settings", lambda: ours)
    async with make_worker(env.client, task_queue=task_queue):
        yield


async def run(*args: str, input: str | None = None) -> Result:
    """Invoke the command line in a thread (each command runs its own event loop)."""
    return await asyncio.to_thread(CliRunner().invoke, app, ["subscriber", *args], input=input)


async def test_portal_connection_through_the_command_line(
    cli: None,
    env: WorkflowEnvironment,
    tmp_path: Path,
) -> None:
    iin, phone = new_iin(), new_phone()
    assert (await run("demo-person", iin, "ASANOV ASAN")).exit_code == 0
    assert (await run("demo-eds", iin, "ASANOV ASAN", "--out", str(tmp_path))).exit_code == 0
    # The server's clock is ahead of the wall clock after earlier tests moved it: date the request by it.
    received = (await env.get_current_time()).isoformat()
    started = await run(
        "egov", "start", "--iin", iin, "--phone", phone, "--channel", "portal", "--received-at", received
    )
    assert started.exit_code == 0, started.output
    m = re.search(r"case (\S+) started", started.output)
    assert m
    case_id = m.group(1)
    for _ in range(200):
        if (await run("sms", phone)).output.count("1414"):
            break
        await asyncio.sleep(0.05)
    code = sms_secret(phone, "1414")
    wrong = await run("egov", "otp", case_id, "--code", f"{(int(code) + 1) % 10**6:06d}")
    assert "not accepted" in wrong.output and "2 attempt(s) left" in wrong.output
    right = await run("egov", "otp", case_id, input=f"{code}\n")  # prompted, hidden
    assert "accepted" in right.output and code not in right.output
    key, cert = str(tmp_path / "key.pem"), str(tmp_path / "cert.pem")
    signed = await run("egov", "sign", case_id, "--key", key, "--cert", cert)
    assert signed.exit_code == 0 and "accepted" in signed.output and "IIN" in signed.output
    for _ in range(200):
        shown = await run("show", case_id)
        if "connected" in shown.output:
            break
        await asyncio.sleep(0.05)
    assert "(outcome: connected)" in shown.output and "connection_result" in shown.output
    assert numbers_of(iin) == [phone]


async def test_weak_password_is_refused_at_the_edge_with_a_clear_message(cli: None) -> None:
    weak = "password123"
    result = await run("signing", "password", "contract_eds_signing-0000", input=f"{weak}\n{weak}\n")
    assert result.exit_code == 1
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "EDS password must contain a special character (@$!%*#?&) (almatel-eds step 8)" in said
    assert result.output.count(weak) == 0


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["subscriber", "demo-person", "900101300127", "Test"], "IIN check digit is wrong"),
        (["subscriber", "demo-person", "000000000000", "Test"], "IIN 7th digit"),
        (["subscriber", "demo-person", "900101300126", "Test", "--legal-entity"], "BIN"),
        (["subscriber", "sms", "+7701"], "not a Kazakhstan mobile number"),
        (["case", "show", ""], "not a case id"),
        (["case", "send", "no such/id", "withdraw"], "not a case id"),
    ],
)
def test_bad_input_is_a_clear_error_not_a_traceback(args: list[str], said: str) -> None:
    """Found by an adversarial run (2026-12-04): each of these ended in a traceback, or put an IIN that cannot
    exist into the local state registry."""
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and said in " ".join(result.output.replace("│", " ").split()), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
