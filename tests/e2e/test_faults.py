"""Faults on the real stack: the worker is SIGKILLed in the middle of cases of every procedure
and restarted; the dev server is stopped and restarted on its SQLite file. Every case completes, and no
SMS, notification, document, permit or suspension happens twice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import col, func, select
from temporalio.client import Client

from infra.db import session
from models.tables import Document, SmsOutbox
from tests.e2e.procs import SHORT_ATTEMPTS, DevServer, WorkerProcess
from tests.e2e.scenarios import SCENARIOS, Scenario

pytestmark = pytest.mark.e2e


@dataclass
class Stack:
    server: DevServer
    worker: WorkerProcess
    client: Client
    task_queue: str


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    server = DevServer(tmp_path / "temporal.db")
    client = await server.start()
    tq = f"faults-{uuid.uuid4().hex[:6]}"
    worker = WorkerProcess(server.target, tq, tmp_path / "worker.log", **SHORT_ATTEMPTS)
    worker.start()
    try:
        yield Stack(server, worker, client, tq)
    finally:
        worker.stop()
        server.stop()


def count(model: type, case_ids: list[str]) -> int:
    with session() as s:
        return int(s.exec(select(func.count()).select_from(model).where(col(model.case_id).in_(case_ids))).one())


async def run_all(stack: Stack, scenarios: list[Scenario], n: int) -> list[tuple[Scenario, str]]:
    cases: list[tuple[Scenario, str]] = []
    for sc in scenarios:
        for i in range(n):
            cases.append((sc, await sc.start(stack.client, stack.task_queue, f"{uuid.uuid4().hex[:8]}-{i}")))
    return cases


def _once_after_a_kill(sc: Scenario, case_id: str) -> int:
    """Every effect of the case made once, a one-time code's SMS at most once more (``fresh_after_a_lost_attempt``);
    returns how many more SMS than expected it sent."""
    got, want = sc.effects(case_id), sc.expected_effects
    for kind, n in want.items():
        extra = 1 if kind in sc.fresh_after_a_lost_attempt else 0
        assert n <= got[kind] <= n + extra, f"{sc.name} {case_id}: {kind} {got[kind]}, expected {n}: {got}"
    return got.get("sms", 0) - want.get("sms", 0)


async def test_worker_killed_mid_case_every_case_completes_once(stack: Stack) -> None:
    cases = await run_all(stack, SCENARIOS, 3)
    # Decisions for every case at once, and the worker killed while their activities run.
    drives = [asyncio.create_task(sc.drive(stack.client, case_id)) for sc, case_id in cases]
    # Kill as soon as some case has acted on the outside world while others have not finished.
    for _ in range(600):
        done = [sum(sc.effects(c).values()) == sum(sc.expected_effects.values()) for sc, c in cases]
        if any(sum(sc.effects(c).values()) for sc, c in cases):
            break
        await asyncio.sleep(0.05)
    stack.worker.kill()
    done = [sum(sc.effects(c).values()) == sum(sc.expected_effects.values()) for sc, c in cases]
    assert not all(done), "every case had finished before the kill: the test would prove nothing"
    await asyncio.sleep(1.0)
    stack.worker.start()
    await asyncio.wait_for(asyncio.gather(*drives), timeout=240)
    resent = 0
    for sc, case_id in cases:
        await asyncio.wait_for(sc.finished(stack.client, case_id), timeout=240)
        resent += _once_after_a_kill(sc, case_id)
    ids = [c for _, c in cases]
    assert count(SmsOutbox, ids) == sum(sc.expected_effects.get("sms", 0) for sc, _ in cases) + resent
    assert count(Document, ids) == sum(sc.expected_effects.get("documents", 0) for sc, _ in cases)


async def test_server_restart_keeps_open_cases_their_timers_and_deadlines(stack: Stack) -> None:
    cases = await run_all(stack, SCENARIOS, 1)
    before = {}
    for sc, case_id in cases:
        await sc.registered(stack.client, case_id)
        before[case_id] = await sc.deadlines(stack.client, case_id)
        assert before[case_id] or not sc.has_deadlines, f"{sc.name}: no deadline recorded before the restart"
    stack.worker.stop()
    stack.server.stop()

    stack.client = await stack.server.start()
    stack.worker.start()
    for sc, case_id in cases:
        after = await sc.deadlines(stack.client, case_id)
        assert after == before[case_id], f"{sc.name}: deadlines changed across the restart"
        history = await stack.client.get_workflow_handle(case_id).fetch_history()
        started = {
            e.timer_started_event_attributes.timer_id
            for e in history.events
            if e.HasField("timer_started_event_attributes")
        }
        ended = {
            e.timer_fired_event_attributes.timer_id
            for e in history.events
            if e.HasField("timer_fired_event_attributes")
        } | {
            e.timer_canceled_event_attributes.timer_id
            for e in history.events
            if e.HasField("timer_canceled_event_attributes")
        }
        assert started - ended or not sc.has_deadlines, f"{sc.name}: the deadline timer did not survive the restart"
    for sc, case_id in cases:
        await sc.drive(stack.client, case_id)
        await asyncio.wait_for(sc.finished(stack.client, case_id), timeout=240)
        assert sc.effects(case_id) == sc.expected_effects


async def test_two_workers_share_the_load_and_one_may_die(stack: Stack, tmp_path: Path) -> None:
    second = WorkerProcess(stack.server.target, stack.task_queue, tmp_path / "worker2.log", **SHORT_ATTEMPTS)
    second.start()
    try:
        cases = await run_all(stack, SCENARIOS, 4)
        drives = [asyncio.create_task(sc.drive(stack.client, case_id)) for sc, case_id in cases]
        for _ in range(600):
            if any(sum(sc.effects(c).values()) for sc, c in cases):
                break
            await asyncio.sleep(0.05)
        stack.worker.kill()  # the first worker dies for good; the second carries on alone
        await asyncio.wait_for(asyncio.gather(*drives), timeout=240)
        for sc, case_id in cases:
            await asyncio.wait_for(sc.finished(stack.client, case_id), timeout=240)
            _once_after_a_kill(sc, case_id)
        identities = set()
        for _, case_id in cases:
            history = await stack.client.get_workflow_handle(case_id).fetch_history()
            identities |= {
                e.workflow_task_completed_event_attributes.identity
                for e in history.events
                if e.HasField("workflow_task_completed_event_attributes")
            }
        assert len(identities) >= 2, "both worker processes should have served workflow tasks"
    finally:
        second.stop()
