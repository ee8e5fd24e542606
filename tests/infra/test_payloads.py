"""Payloads are read tolerantly inside Temporal: unknown fields of another deploy are ignored, every other rule
holds (``infra/payloads.py``); the edge stays strict. Shown on the converter and on a running workflow whose
activity worker is one version ahead."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pydantic import ValidationError
from temporalio import activity, workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from infra.client import data_converter
from infra.payloads import TYPE_ADAPTERS, TolerantJSONPayloadConverter, TolerantPayloadConverter
from models.base import BinaryModel, Model
from tests.conftest import SERVER_STARTUP, binary


class Inner(Model):
    n: int


class Outer(BinaryModel):
    name: str
    inner: Inner
    items: list[Inner]
    blob: bytes


CONVERTER = TolerantPayloadConverter()


def payload_of(raw: bytes) -> object:
    [p] = CONVERTER.to_payloads(["placeholder"])
    p.data = raw
    return p


def test_unknown_fields_are_ignored_at_any_depth_and_the_rest_is_read_as_strictly_as_before() -> None:
    raw = b'{"name":"a","inner":{"n":1,"new":true},"items":[{"n":2},{"n":3,"x":"y"}],"blob":"AAE=","added":1}'
    [value] = CONVERTER.from_payloads([payload_of(raw)], [Outer])  # type: ignore[list-item]
    assert value == Outer(name="a", inner=Inner(n=1), items=[Inner(n=2), Inner(n=3)], blob=b"\x00\x01")
    # the edge keeps refusing them
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Outer.model_validate_json(raw)


def test_a_payload_with_another_error_is_still_refused() -> None:
    raw = b'{"name":"a","inner":{"n":"not a number","new":true},"items":[],"blob":""}'
    with pytest.raises(ValidationError, match="valid integer"):
        CONVERTER.from_payloads([payload_of(raw)], [Outer])  # type: ignore[list-item]


@activity.defn(name="result_of_a_newer_deploy")
async def newer_deploy(_: str) -> dict[str, object]:
    """The result of an activity worker one version ahead: a field this code's strict model does not know."""
    return {"name": "a", "inner": {"n": 7, "since": "v2"}, "items": [], "blob": "", "delivered_via": "5G"}


@workflow.defn(sandboxed=False)
class ReadsAResult:
    @workflow.run
    async def run(self) -> int:
        result = await workflow.execute_activity(
            "result_of_a_newer_deploy", "x", result_type=Outer, start_to_close_timeout=timedelta(seconds=10)
        )
        return result.inner.n


async def test_16_4_an_activity_result_with_an_unknown_field_does_not_fail_the_case(env: WorkflowEnvironment) -> None:
    """A rolling deploy: the workflow reads the newer activity's result (the extra field ignored) and goes on."""
    assert env.client.data_converter.payload_converter_class is data_converter().payload_converter_class
    tq = f"tq-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=tq, workflows=[ReadsAResult], activities=[newer_deploy]):
        assert await env.client.execute_workflow(ReadsAResult.run, id=f"reads-{uuid.uuid4().hex}", task_queue=tq) == 7


@activity.defn(name="result_of_a_newer_deploy")
async def broken_deploy(_: str) -> dict[str, object]:
    """A result this code cannot read at all (a field changed its type)."""
    return {"name": "a", "inner": {"n": "seven"}, "items": [], "blob": ""}


@pytest.fixture
async def own_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of this test's own: a workflow task failing on every attempt keeps the server from
    skipping time, even after the case is terminated, so it must not share the session's server."""
    e = await WorkflowEnvironment.start_time_skipping(
        test_server_startup_timeout=SERVER_STARTUP,
        test_server_existing_path=binary("temporal-test-server"),
        data_converter=data_converter(),
    )
    try:
        yield e
    finally:
        await e.shutdown()


async def test_16_4_a_result_the_worker_cannot_read_fails_the_task_and_waits_it_never_fails_the_case(
    own_env: WorkflowEnvironment,
) -> None:
    """pydantic's ValidationError is not a workflow failure type: the task fails and is retried (the SDK's
    workflow-task-failure metric alerts), the workflow stays running until a worker that reads it comes."""
    env = own_env
    from temporalio.api.enums.v1 import EventType
    from temporalio.client import WorkflowExecutionStatus

    from worker import make_worker

    tq = f"tq-{uuid.uuid4().hex[:8]}"
    handle = await env.client.start_workflow(ReadsAResult.run, id=f"reads-{uuid.uuid4().hex}", task_queue=tq)
    async with make_worker(env.client, task_queue=tq, workflows=[ReadsAResult], activities=[broken_deploy]):
        for _ in range(100):
            events = [e.event_type async for e in handle.fetch_history_events()]
            if EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED in events:
                break
            await env.sleep(timedelta(milliseconds=100))
        assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED in events
        assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
    await handle.terminate("test over")


def test_every_case_reads_with_the_processs_type_adapters() -> None:
    """The SDK makes a payload converter per case; each built and held its own adapter for every type it read."""
    first, second = TolerantPayloadConverter(), TolerantPayloadConverter()
    [payload] = first.to_payloads([Inner(n=1)])
    assert first.from_payloads([payload], [Inner]) == [Inner(n=1)]
    before = TYPE_ADAPTERS.cache_info()
    assert second.from_payloads([payload], [Inner]) == [Inner(n=1)]
    after = TYPE_ADAPTERS.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (1, 0)


def test_the_converter_made_for_each_activation_shares_the_processs_encoding_converters() -> None:
    """The SDK makes a payload converter for every activation and serialization context: its parts are built once,
    read-only, with JSON read tolerantly."""
    first, second = TolerantPayloadConverter(), TolerantPayloadConverter()
    assert second.converters is first.converters
    json_converter = first.converters[b"json/plain"]
    assert isinstance(json_converter, TolerantJSONPayloadConverter)
    with pytest.raises(TypeError):
        first.converters[b"json/plain"] = json_converter  # type: ignore[index]
