"""The edge's receipt instant of every event, carried in the Update's header ``kz-received-at``.

The client stamps it when it sends an Update (``StampReceipts``, installed by ``infra.client.connect``): the instant
set by ``received(...)`` (the API sets the arrival of the request), else the client's clock. The worker hands it to
the case before the handler runs (``HandReceipts`` calls ``on_edge_receipt(update, at)`` of the workflow, and what
that returns once the handler has returned), and the case judges the timeliness of the act the handler brought on
it, within a tolerance of its own clock (``workflows.clock``): a worker lagging at 18:30 does not turn a decision
received at 18:29 into a late one. An Update without the header (a client without
the interceptor, a history recorded before it) is timed by ``workflow.now()`` as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from temporalio import client, workflow
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadConverter
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

__all__ = ["HEADER", "WORKER_INTERCEPTORS", "HandReceipts", "StampReceipts", "read_receipt", "received"]

HEADER = "kz-received-at"
_AT: ContextVar[datetime | None] = ContextVar("kz_received_at", default=None)


@contextmanager
def received(at: datetime) -> Iterator[None]:
    """Updates sent inside carry ``at`` as the instant the edge received the event."""
    token = _AT.set(at)
    try:
        yield
    finally:
        _AT.reset(token)


def _stamp(headers: Mapping[str, Payload]) -> Mapping[str, Payload]:
    if HEADER in headers:
        return headers
    at = _AT.get() or datetime.now(UTC)
    return {**headers, HEADER: PayloadConverter.default.to_payload(at.isoformat())}


def read_receipt(headers: Mapping[str, Payload]) -> datetime | None:
    """The receipt instant a header carries, or ``None`` (absent or unreadable: the case uses its own clock)."""
    payload = headers.get(HEADER)
    if payload is None:
        return None
    try:
        at = datetime.fromisoformat(PayloadConverter.default.from_payload(payload, str))
    except (TypeError, ValueError):
        return None
    return at if at.tzinfo is not None else None


class StampReceipts(client.Interceptor):
    """Client side: every Update sent (also with update-with-start) carries the edge's receipt instant."""

    def intercept_client(self, next: client.OutboundInterceptor) -> client.OutboundInterceptor:
        return _Stamp(next)


class _Stamp(client.OutboundInterceptor):
    async def start_workflow_update(self, input: client.StartWorkflowUpdateInput) -> client.WorkflowUpdateHandle[Any]:
        input.headers = _stamp(input.headers)
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(
        self, input: client.StartWorkflowUpdateWithStartInput
    ) -> client.WorkflowUpdateHandle[Any]:
        input.update_workflow_input.headers = _stamp(input.update_workflow_input.headers)
        return await super().start_update_with_start_workflow(input)


class HandReceipts(Interceptor):
    """Worker side: the case learns the receipt instant of each Update before its handler runs."""

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _Hand


class _Hand(WorkflowInboundInterceptor):
    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        at = read_receipt(input.headers)
        hook = getattr(workflow.instance(), "on_edge_receipt", None)
        handled = hook(input.update, at) if at is not None and hook is not None else None
        result = await super().handle_update_handler(input)
        if handled is not None:  # the handler returned: the act it brought was received at ``at``
            handled()
        return result


WORKER_INTERCEPTORS: tuple[Interceptor, ...] = (HandReceipts(),)
"""What every worker and replayer installs, so a replay reads the receipts as the worker did."""
