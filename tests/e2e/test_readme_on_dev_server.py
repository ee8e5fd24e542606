"""README.md's commands that need the demo stack, run against the README's own first command, ``python3
scripts/up.py`` (dev server, worker, API and console, demo data; on free ports, with its data directory in the
reader's working directory): listing cases through visibility (``cases list``, ``permit list``, ``cases
calendar-correction``, ``law migrate``), the auditors' ``audit …`` commands, the HTTP API's ``curl`` calls with the
OpenSSL check of a signed document, and ``temporal workflow show`` through the codec endpoint, in the README's
order. The rest of the README runs on the time-skipping server in ``tests/test_readme.py``; the conventions are in
``tests/readme.py``."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client

from infra.client import data_converter
from tests.e2e.procs import ROOT, free_port
from tests.readme import Shell, commands, environment, run_readme, runs_where, workdir

pytestmark = pytest.mark.e2e


async def _read_until(proc: subprocess.Popen[str], marker: str, seconds: float) -> str:
    """What ``proc`` printed up to and including the line after ``marker`` appeared (its block of URLs)."""
    assert proc.stdout is not None
    out: list[str] = []
    loop = asyncio.get_running_loop()
    give_up = loop.time() + seconds
    while loop.time() < give_up:
        line = await asyncio.to_thread(proc.stdout.readline)
        if not line and proc.poll() is not None:
            break
        out.append(line)
        if marker in "".join(out) and "Ctrl-C stops everything" in line:
            return "".join(out)
    raise AssertionError(f"scripts/up.py did not get running: {''.join(out)[-3000:]}")


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[tuple[Shell, Client, str]]:
    """``python3 scripts/up.py`` as the README runs it, on free ports; yields the shell, a client of its dev
    server and what ``up.py`` printed."""
    work = workdir(tmp_path)
    api_port, temporal_port, ui_port = free_port(), free_port(), free_port()
    extra = {
        "KZ_DATA_DIR": str(work / "data"),
        "TEMPORAL_ADDRESS": f"localhost:{temporal_port}",
        "HOME": str(tmp_path / "home"),
    }
    env = environment(**extra)
    env.pop("KZ_TASK_QUEUE", None)
    up = [sys.executable, str(ROOT / "scripts" / "up.py")]
    ports = ["--api-port", str(api_port), "--temporal-port", str(temporal_port), "--ui-port", str(ui_port)]
    proc = subprocess.Popen(
        [*up, *ports],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: stopped whole below
    )
    try:
        printed = await _read_until(proc, "[up] running:", 240)
        client = await Client.connect(f"localhost:{temporal_port}", data_converter=data_converter())
        shell = Shell(work, env, api=f"http://127.0.0.1:{api_port}")
        yield shell, client, printed
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # Ctrl-C, as the README says
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


async def test_readme_commands_that_need_the_demo_stack(stack: tuple[Shell, Client, str]) -> None:
    shell, client, printed = stack
    api = shell.api.replace("127.0.0.1", "localhost")
    # up.py says where the console is (not "when present"), and the API's browsable schema
    assert re.search(rf"Console\s+{re.escape(api)}/console/", printed), printed
    assert f"{api}/v1/docs" in printed and "when present" not in printed
    assert "Demo API keys" in printed and "staff" in printed  # the demo ran and printed its keys
    assert f"also in {shell.cwd / 'data' / 'demo-keys.json'};" in printed  # where they are, not a fixed "data/"
    todo = commands()
    assert runs_where(todo[0], todo) == "stack" and todo[0].text == "python3 scripts/up.py"
    mine = [c for c in todo if c.is_("demo") or runs_where(c, todo) == "dev-server"]
    assert [c for c in mine if c.is_("demo")] and len([c for c in mine if c.program == "audit"]) >= 10
    assert len([c for c in mine if c.text.startswith("curl ")]) >= 9
    try:
        await run_readme(shell, client, mine)
    except AssertionError as exc:  # what the stack logged says why (an API's 500 names only its kind to the caller)
        logs = shell.cwd / "data" / "logs"
        tails = [
            f"--- {f.name}\n" + "\n".join(f.read_text(errors="replace").splitlines()[-40:])
            for f in sorted(logs.glob("*.log"))
        ]
        raise AssertionError(f"{exc}\n\nThe stack's logs, last lines:\n" + "\n".join(tails)) from None
    assert shell.doc_id.endswith("refusal_to_consider")  # the signed refusal the API served and OpenSSL checked
