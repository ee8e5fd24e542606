"""The edge's receipt instant on every Update (``infra.receipts``, issue 16 item 15): stamped by the client, read back
by the worker's interceptor, set by the API when it takes an event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio import client
from temporalio.converter import PayloadConverter

from infra import receipts
from infra.receipts import HEADER, StampReceipts, read_receipt, received


class _Capture(client.OutboundInterceptor):
    """The end of the interceptor chain: keeps the Update's input instead of sending it."""

    def __init__(self) -> None:
        self.inputs: list[Any] = []

    async def start_workflow_update(self, input: client.StartWorkflowUpdateInput) -> Any:
        self.inputs.append(input)
        return None


def _update_input(headers: dict[str, Any] | None = None) -> client.StartWorkflowUpdateInput:
    return client.StartWorkflowUpdateInput(
        id="case-1",
        run_id=None,
        first_execution_run_id=None,
        update_id="u-1",
        update="decide",
        args=[],
        wait_for_stage=client.WorkflowUpdateStage.ACCEPTED,
        headers=headers or {},
        ret_type=None,
        rpc_metadata={},
        rpc_timeout=None,
    )


async def _stamped(headers: dict[str, Any] | None = None) -> datetime | None:
    capture = _Capture()
    await StampReceipts().intercept_client(capture).start_workflow_update(_update_input(headers))
    return read_receipt(capture.inputs[0].headers)


async def test_an_update_carries_the_instant_the_edge_received_it() -> None:
    at = datetime(2027, 3, 19, 13, 29, 40, tzinfo=UTC)
    with received(at):
        assert await _stamped() == at
    before = datetime.now(UTC)
    stamped = await _stamped()  # no instant set: the client's clock
    assert stamped is not None and before <= stamped <= datetime.now(UTC)


async def test_a_receipt_already_on_the_update_is_kept() -> None:
    at = datetime(2027, 3, 19, 13, 29, 40, tzinfo=UTC)
    header = {HEADER: PayloadConverter.default.to_payload(at.isoformat())}
    with received(at + timedelta(hours=1)):
        assert await _stamped(header) == at


@pytest.mark.parametrize("value", ["not an instant", "2027-03-19T13:29:40", 42])
def test_an_unreadable_or_naive_receipt_is_ignored(value: object) -> None:
    assert read_receipt({HEADER: PayloadConverter.default.to_payload(value)}) is None
    assert read_receipt({}) is None


async def test_the_api_stamps_the_instant_it_took_the_event(monkeypatch: pytest.MonkeyPatch) -> None:
    from api import cases as api_cases

    seen: list[datetime | None] = []

    async def send_event(*args: Any, **kwargs: Any) -> None:
        seen.append(receipts._AT.get())

    monkeypatch.setattr(api_cases.cases, "send_event", send_event)
    before = datetime.now(UTC)
    await api_cases.send_event(None, None, None, "case-1", None)  # type: ignore[arg-type]
    [at] = seen
    assert at is not None and before <= at <= datetime.now(UTC)
    assert receipts._AT.get() is None  # only for that event
