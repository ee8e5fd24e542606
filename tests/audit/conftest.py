"""Two recorded cases of the test procedure: one decided in time, one whose hearing pushed the decision past
the 7-working-day service term. Recorded once per test session on the time-skipping server (encrypted), for
every audit test module."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from models.case import CaseView
from tests.audit.probe import AuditProbe, Decision, Hearing, ProbeApplication, issue_probe_document
from worker import ACTIVITIES, make_worker

PERSON_LATE = {
    "iin": "900101300126",
    "full_name": "Айгерим Нурланқызы Сейтова",
    "phone": "+77015550142",
    "address": "Алматы, проспект Абая 150, кв. 12",
}
PERSON_ON_TIME = {
    "iin": "850412400309",
    "full_name": "Daniyar Bekov",
    "phone": "+77471234567",
    "address": "Astana, Mangilik El 55/20",
}


@dataclass
class Recorded:
    late: WorkflowHistory
    on_time: WorkflowHistory
    late_view: CaseView
    on_time_view: CaseView


@pytest.fixture(scope="module")
def env(module_env: WorkflowEnvironment) -> WorkflowEnvironment:
    """The module's one server: its module-scoped fixtures start a worker on it."""
    return module_env


@pytest.fixture(scope="module")
async def recorded(env: WorkflowEnvironment) -> AsyncIterator[Recorded]:
    tq = f"tq-audit-{uuid.uuid4().hex[:8]}"
    now = await env.get_current_time()
    async with make_worker(
        env.client, task_queue=tq, workflows=[AuditProbe], activities=[*ACTIVITIES, issue_probe_document]
    ):
        late = await env.client.start_workflow(
            AuditProbe.run,
            ProbeApplication.model_validate({"applicant": PERSON_LATE, "received_at": now}),
            id=f"audit_probe-{uuid.uuid4().hex[:12]}",
            task_queue=tq,
        )
        on_time = await env.client.start_workflow(
            AuditProbe.run,
            ProbeApplication.model_validate({"applicant": PERSON_ON_TIME, "received_at": now}),
            id=f"audit_probe-{uuid.uuid4().hex[:12]}",
            task_queue=tq,
        )
        # Time moves only by env.sleep: waiting on a result lets the test server jump to the next timer.
        await env.sleep(timedelta(days=1))
        await late.execute_update(AuditProbe.hold_hearing, Hearing(at=now + timedelta(days=12), place="Astana"))
        await on_time.execute_update(AuditProbe.decide, Decision(approve=False, note="incomplete documents"))
        await env.sleep(timedelta(days=15))
        await late.execute_update(AuditProbe.decide, Decision(approve=True, note="conditions met after hearing"))
        await late.result()
        await on_time.result()
        yield Recorded(
            late=await late.fetch_history(),
            on_time=await on_time.fetch_history(),
            late_view=await late.query(AuditProbe.case),
            on_time_view=await on_time.query(AuditProbe.case),
        )
