"""Two events of one step sent at once: one is taken, the other refused as a state conflict (``CaseWorkflow.taking``;
the API's 409). Both used to be taken: they passed their validators before either handler
had recorded its outcome (an adversarial run: two EDS issued for one step 8, two verdicts for one biometric check).

Sent while no worker runs (the one before kept no case: ``max_cached_workflows=0``, so no sticky queue holds the case's
next task), the two reach the case together, so the race is the same in every run: both validators pass, the first
handler awaits its outside call, and the second is refused as its handler starts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.eds import seal_eds_password
from api.i18n import say
from api.temporal import problem_from_temporal
from infra.db import session
from models.case import LawMigration, LawMigrationRecord
from models.contract_eds_signing import SealedPassword
from models.tables import SubscriberKey
from tests.e2e.scenarios import SCENARIOS, poll
from tests.golden_tools import save_golden
from tests.workflows.test_contract_eds_signing import at_step, drive, start, subscriber
from tests.workflows.test_individual_numbers import JUSTIFICATION, apply, in_review, individual
from worker import make_worker


def _send_at_once(handle: WorkflowHandle[Any, Any], name: str, args: list[list[Any]]) -> list[asyncio.Task[Any]]:
    """Send ``name`` once per ``args`` while no worker runs; each task ends once a worker has accepted or refused it."""
    return [
        asyncio.create_task(
            handle.start_update(name, args=a, id=f"{name}-{k}", wait_for_stage=WorkflowUpdateStage.ACCEPTED)
        )
        for k, a in enumerate(args)
    ]


async def _answers(sends: list[asyncio.Task[Any]]) -> list[Any]:
    """Each Update's result, or its failure."""
    answers: list[Any] = []
    for send in sends:
        try:
            answers.append(await (await send).result())
        except WorkflowUpdateFailedError as exc:
            answers.append(exc)
    return answers


def _one_taken_one_refused(answers: list[Any]) -> Any:
    [refused] = [a for a in answers if isinstance(a, WorkflowUpdateFailedError)]
    [taken] = [a for a in answers if not isinstance(a, WorkflowUpdateFailedError)]
    assert isinstance(refused.cause, ApplicationError) and refused.cause.type == "EventDoesNotFit", refused.cause
    problem = problem_from_temporal(refused)
    assert problem.status == 409 and "is being taken now" in problem.detail
    assert "сейчас принимается" in say("ru", problem.detail)  # the console says it in the clerk's language
    return taken


async def test_two_eds_passwords_at_once_issue_one_eds(env: WorkflowEnvironment, task_queue: str) -> None:
    """almatel-eds step 8: the subscriber's EDS is issued once, under the password of the event that was taken."""
    iin, phone = await subscriber()
    async with make_worker(env.client, task_queue=task_queue, max_cached_workflows=0):
        handle = await start(env, task_queue, iin, phone)
        await drive(handle, phone, 7)
        await at_step(handle, 8)
    passwords = ["Alpha#2026pass", "Bravo#2026pass"]
    sealed = [[SealedPassword(sealed=seal_eds_password(handle.id, p))] for p in passwords]
    sends = _send_at_once(handle, "choose_eds_password", sealed)
    await asyncio.sleep(1.0)  # both wait at the server for a worker to take them
    async with make_worker(env.client, task_queue=task_queue):
        taken = _one_taken_one_refused(await _answers(sends))
        assert taken["accepted"] is True
        assert (await handle.result()).outcome == "signed"
    with session() as s:
        assert s.get(SubscriberKey, handle.id) is not None  # one key, issued once
    await save_golden(handle, "contract_eds_signing", "second_password_at_once_refused")


async def _scenario_case(client: Client, task_queue: str, key: str) -> WorkflowHandle[Any, Any]:
    sc = next(s for s in SCENARIOS if s.name == key)
    case_id = await sc.start(client, task_queue, uuid.uuid4().hex[:8])
    await sc.registered(client, case_id)
    await poll(client, case_id, lambda v: not v.closed and v.registration is not None)
    return client.get_workflow_handle(case_id)


async def _numbers_case(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle[Any, Any]:
    iin, contract = await individual(10)
    handle = await apply(env, task_queue, iin, contract, 1, justification=JUSTIFICATION)
    await in_review(handle)
    return handle


STARTS: dict[str, Callable[[WorkflowEnvironment, str], Awaitable[WorkflowHandle[Any, Any]]]] = {
    **{
        s.name: (lambda env, tq, key=s.name: _scenario_case(env.client, tq, key))  # type: ignore[misc]
        for s in SCENARIOS
    },
    "individual_numbers": _numbers_case,
}


@pytest.mark.parametrize("procedure", sorted(STARTS))
async def test_two_law_migrations_at_once_take_one(env: WorkflowEnvironment, task_queue: str, procedure: str) -> None:
    """Every case takes ``migrate_law``: sent twice at once, the second is refused while the first is taken."""
    async with make_worker(env.client, task_queue=task_queue, max_cached_workflows=0):
        handle = await STARTS[procedure](env, task_queue)
    migration = LawMigration(to_version="no-such-version", reason="amending order no. 1", decided_by="Head")
    sends = _send_at_once(handle, "migrate_law", [[migration], [migration]])
    await asyncio.sleep(1.0)  # both wait at the server for a worker to take them
    async with make_worker(env.client, task_queue=task_queue):
        taken = LawMigrationRecord.model_validate(_one_taken_one_refused(await _answers(sends)))
        assert taken.refused  # no such version: recorded as refused, the case stays under its law
        await handle.terminate("test done")
    await save_golden(handle, procedure, "second_law_migration_at_once_refused")
