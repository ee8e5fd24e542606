"""The edge's check that a case takes an event now (``infra.cases._fitting``), before any Update is sent."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionResponse
from temporalio.client import WorkflowExecutionStatus

from api.cases import _problem
from infra.cases import CaseError, _fitting, _taking_a_step
from models.case import CaseView
from workflows.mvno_permit import SPEC


async def _refusal(view: CaseView, event: str, *, operator: bool = False, busy: bool = True) -> CaseError:
    client: Any = None  # the view is given: nothing is asked of Temporal
    with pytest.raises(CaseError) as refused:
        await _fitting(
            client,
            SPEC.event(event),
            view.case_id,
            WorkflowExecutionStatus.RUNNING,
            None,
            view=view,
            operator=operator,
            busy=busy,
        )
    return refused.value


async def test_an_event_sent_while_the_case_takes_its_step_is_told_to_come_again_in_a_moment() -> None:
    """Sent right after the start's 201, an event met 409 "events it accepts now: none" while the case registered
    and asked the registries (an adversarial run, 2026-12-03): while a workflow task or a first attempt of an outside
    call is under way and the case takes no event, it says so, with ``Retry-After``; an operator system is told no
    more than that the event does not fit now."""
    starting = CaseView(case_id="mvno_permit-x", procedure="mvno_permit", status="registered")
    staff = await _refusal(starting, "completeness_decision")
    assert staff.kind == "conflict" and "taking its step now (status registered)" in staff.message
    assert staff.message.endswith("try again in a moment")
    answer = _problem(staff).response()
    assert answer.status_code == 409 and answer.headers["Retry-After"] == "1"
    operator = await _refusal(starting, "completeness_decision", operator=True)
    assert operator.message == "completeness_decision does not fit the case's state now" and operator.retry_after == 1
    # at rest and taking nothing (e.g. waiting for the registration day), or taking other events: as before
    for view, busy in ((starting, False), (starting.model_copy(update={"pending_events": ["x"]}), True)):
        other = await _refusal(view, "completeness_decision", busy=busy)
        assert "events it accepts now:" in other.message and other.retry_after is None
        assert "Retry-After" not in _problem(other).response().headers


def test_a_step_under_way_is_a_workflow_task_or_a_first_attempt_of_an_outside_call() -> None:
    """An outside call retried is an outage (``pending_calls`` says so), not a moment."""
    raw = DescribeWorkflowExecutionResponse()
    assert not _taking_a_step(raw)
    raw.pending_activities.add(attempt=3)
    assert not _taking_a_step(raw)
    raw.pending_activities.add(attempt=1)
    assert _taking_a_step(raw)
    del raw.pending_activities[:]
    raw.pending_workflow_task.SetInParent()
    assert _taking_a_step(raw)
