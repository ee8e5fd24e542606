"""The publication benchmark's workflow (``bench.workflows.PublishingSteps``) publishes what each kind says, once per
step, with the attributes and the memo's size of a step of ours. No timing is asserted."""

from __future__ import annotations

import uuid

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.workflows import PUBLISHING, PublishingSteps


@pytest.mark.parametrize("publishing", PUBLISHING)
async def test_each_step_publishes_what_its_kind_says(env: WorkflowEnvironment, publishing: str) -> None:
    tq = f"publish-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=tq, workflows=[PublishingSteps]):
        h = await env.client.start_workflow(PublishingSteps.run, args=[publishing, 3], id=tq, task_queue=tq)
        assert await h.result() == 3
        events = (await h.fetch_history()).events
    attributes = [
        set(e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)
        for e in events
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    ]
    memos = [
        e.workflow_properties_modified_event_attributes.upserted_memo.fields
        for e in events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED
    ]
    timers = [e for e in events if e.event_type == EventType.EVENT_TYPE_TIMER_FIRED]
    assert len(timers) == 3  # a workflow task per step
    assert attributes == ([{"KzStatus", "KzNextDeadline"}] * 3 if publishing in ("search_attributes", "both") else [])
    assert len(memos) == (3 if publishing in ("memo", "both") else 0)
    for memo in memos:  # a term's record as ours stores it, sealed: about 200 bytes
        [(key, payload)] = memo.items()
        assert key.startswith("deadline:step") and 150 <= len(payload.data) <= 260, len(payload.data)
