"""The test command ends: a stuck async test fails where it waits (``tests/deadline.py``), what a test process
left running is ended with the run (``scripts/test.py``), and a failed test leaves its module's later tests a new
time-skipping server (``tests/conftest.py``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

STUCK = """
import asyncio


async def test_waits_for_an_answer_that_never_comes():
    never = asyncio.Event()
    await never.wait()  # the await the failure must point at


async def test_the_next_test_runs_on_the_same_loop():
    await asyncio.sleep(0.01)
"""


def test_a_stuck_async_test_fails_at_its_await_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "test_stuck.py").write_text(textwrap.dedent(STUCK))
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_test_loop_scope = session\n"
        "asyncio_default_fixture_loop_scope = session\ntimeout = 30\ntimeout_method = thread\n"
    )
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.deadline", "-p", "no:cacheprovider", "-q", str(tmp_path)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "KZ_TEST_DEADLINE_SHARE": "0.1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = run.stdout + run.stderr
    assert time.monotonic() - started < 60, out
    assert "1 failed, 1 passed" in out, out
    assert "DeadlinePassed: the test did not end in 3 s" in out, out  # a tenth of 30 s, long before the backstop
    assert "await never.wait()  # the await the failure must point at" in out, out
    assert "+ Timeout +" not in out, out  # the backstop did not have to act


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_CHILD_SUBREAPER is Linux's")
def test_what_a_test_process_left_running_is_ended_with_the_run(tmp_path: Path) -> None:
    """A server started by a test process that was ended at once (pytest-timeout's thread method) is handed to the
    test command, which ends it; here played by a child that leaves a grandchild running and exits."""
    probe = textwrap.dedent(
        f"""
        import importlib.util, pathlib, subprocess, sys, time
        spec = importlib.util.spec_from_file_location("t", {str(ROOT / "scripts" / "test.py")!r})
        t = importlib.util.module_from_spec(spec); spec.loader.exec_module(t)
        assert t.adopt_orphans()
        subprocess.run(["sh", "-c", "sleep 300 & echo $! > {tmp_path / "pid"}"], check=True)
        cmdline = pathlib.Path("/proc", pathlib.Path({str(tmp_path / "pid")!r}).read_text().strip(), "cmdline")
        for _ in range(100):  # the forked shell becomes sleep when it execs it
            if cmdline.read_bytes().startswith(b"sleep"):
                break
            time.sleep(0.05)
        print(t.end_orphans())
        """
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "1"
    assert "[test] ended 1 process(es) the tests left running: sleep 300 ×1" in run.stderr
    orphan = int((tmp_path / "pid").read_text())
    assert not Path(f"/proc/{orphan}").exists() or "Z" in Path(f"/proc/{orphan}/stat").read_text().split()[2]


AFTER_A_FAILURE = """
from datetime import UTC, datetime, timedelta

pytest_plugins = ["tests.conftest"]
SEEN = []


async def test_first(env):
    SEEN.append(env)
    await env.sleep(timedelta(days=400))


async def test_shares_the_server_then_fails(env):
    SEEN.append(env)
    assert await env.get_current_time() > datetime.now(UTC) + timedelta(days=399)
    assert False, "a failed test"


async def test_after_the_failure(env):
    assert SEEN[0] is SEEN[1] and env is not SEEN[0]
    assert await env.get_current_time() < datetime.now(UTC) + timedelta(days=1)
"""


def test_a_failed_test_leaves_its_modules_later_tests_a_new_server(tmp_path: Path) -> None:
    """Tests of a module share its server until one fails; the next test gets a new one, whose clock has not moved."""
    (tmp_path / "test_module.py").write_text(AFTER_A_FAILURE)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_test_loop_scope = session\n"
        "asyncio_default_fixture_loop_scope = session\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = run.stdout + run.stderr
    assert "1 failed, 2 passed" in out, out
    assert "AssertionError: a failed test" in out, out
