"""Property-based run of the OpenAPI schema (schemathesis): no generated request gives a 5xx.

The API runs in uvicorn on a thread of its own, with its own worker, connecting lazily to the dev server
(listing needs visibility). Bounded and deterministic: few examples per operation, derandomized.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.temporal import Gateway
from infra.client import data_converter
from tests.api.conftest import Keys
from tests.api.procedures import SPEC, DemoCheck
from worker import make_worker

QUEUE = "api-schemathesis"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module", params=["test_procedure", "registry"])
def live_api(request: pytest.FixtureRequest, dev_env: WorkflowEnvironment) -> Iterator[str]:
    """The API for the test-only procedure, then for every registered procedure (with the real worker)."""
    target = dev_env.client.service_client.config.target_host
    port = _free_port()
    queue = f"{QUEUE}-{request.param}"

    async def connect() -> Client:
        return await Client.connect(target, data_converter=data_converter())

    procedures = {SPEC.key: SPEC} if request.param == "test_procedure" else None
    app = create_app(procedures=procedures, gateway=Gateway(connect), task_queue=queue, secret="schema")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))

    async def main() -> None:
        client = await connect()
        workflows = [DemoCheck] if request.param == "test_procedure" else None  # None: every registered one
        async with make_worker(client, task_queue=queue, workflows=workflows):
            await server.serve()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def test_no_generated_request_gives_a_server_error(live_api: str, keys: Keys) -> None:
    schema = schemathesis.openapi.from_url(f"{live_api}/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    failures: list[str] = []
    seen: Counter[int] = Counter()
    for op in operations:

        @given(case=op.as_strategy())
        @settings(
            max_examples=12, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def run(case: schemathesis.Case) -> None:
            response = case.call_and_validate(
                base_url=live_api, headers={"X-API-Key": keys.staff}, checks=[not_a_server_error], timeout=30
            )
            seen[response.status_code] += 1

        try:
            run()
        except Exception as exc:
            failures.append(f"{op.label}: {str(exc)[:2000]}")
    assert failures == []
    # the run reached past authentication and validation, into Temporal
    assert sum(seen.values()) >= 3 * len(operations)
    assert seen[200] and seen[404] and seen[422], seen
