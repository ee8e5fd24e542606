"""The worker refuses payloads that come without encryption (issue 15 item 7): on the real stack (dev server and
``worker.py`` as processes), a decision sent in clear by a Temporal client without our codec — what the Temporal
CLI sends — is rejected and the case does not move; a case started in clear fails at once, acting on nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from infra.client import UNENCRYPTED
from models.mvno_permit import CompletenessDecision, PermitApplication
from tests.cases import stop
from tests.e2e.procs import DevServer, WorkerProcess
from tests.e2e.scenarios import DEMO, poll, update
from workflows.mvno_permit import SPEC as PERMIT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Client, str]]:
    """One dev server and worker for the module's tests: each starts a case of its own."""
    tmp_path = tmp_path_factory.mktemp("clear")
    server = DevServer(tmp_path / "temporal.db")
    client = await server.start()
    tq = f"clear-{uuid.uuid4().hex[:6]}"
    worker = WorkerProcess(server.target, tq, tmp_path / "worker.log")
    worker.start()
    try:
        yield client, tq
    finally:
        worker.stop()
        server.stop()


def application(number: str) -> PermitApplication:
    app = PermitApplication.model_validate_json(DEMO.read_text(encoding="utf-8"))
    return app.model_copy(update={"application_number": number, "received_at": datetime.now(UTC)})


def without_codec(client: Client) -> Client:
    """What the Temporal CLI or a script is: the same server, JSON in clear."""
    return Client(client.service_client, namespace=client.namespace, data_converter=pydantic_data_converter)


async def test_a_decision_sent_in_clear_is_refused_and_the_case_does_not_move(stack: tuple[Client, str]) -> None:
    client, tq = stack
    from infra.cases import start_case

    case_id = (await start_case(client, PERMIT, application(f"CLEAR-{uuid.uuid4().hex[:6]}"), task_queue=tq)).case_id
    await poll(client, case_id, lambda v: "completeness_decision" in v.pending_events)

    clear = CompletenessDecision(complete=True, decided_by="someone with the Temporal CLI")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await without_codec(client).get_workflow_handle(case_id).execute_update("completeness_decision", clear)
    assert isinstance(refused.value.cause, ApplicationError) and refused.value.cause.type == UNENCRYPTED

    view = await poll(client, case_id, lambda v: True)
    assert view.status == "completeness_check" and view.pending_events == ["completeness_decision"]
    history = await client.get_workflow_handle(case_id).fetch_history()
    accepted = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED]
    assert accepted == []  # the clear decision never entered the history

    # The same decision through the codec is taken.
    await update(client, case_id, "completeness_decision", clear, f"{case_id}/completeness")
    await poll(client, case_id, lambda v: "qualification_decision" in v.pending_events)
    await stop(client.get_workflow_handle(case_id))


async def test_a_case_started_in_clear_fails_at_once_and_acts_on_nothing(stack: tuple[Client, str]) -> None:
    client, tq = stack
    app = application(f"CLEAR-{uuid.uuid4().hex[:6]}")
    handle = await without_codec(client).start_workflow(
        "MvnoPermit", app, id=PERMIT.case_id(app), task_queue=tq, result_type=dict
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert isinstance(failed.value.cause, ApplicationError) and failed.value.cause.type == UNENCRYPTED
    history = await client.get_workflow_handle(handle.id).fetch_history()
    kinds = {e.event_type for e in history.events}
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in kinds
    assert EventType.EVENT_TYPE_MARKER_RECORDED not in kinds  # not even registered (a local activity)
