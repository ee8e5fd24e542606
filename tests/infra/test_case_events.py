"""The edge's check that a case takes an event now (``infra.cases._fitting``), before any Update is sent."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus

from api.cases import _problem
from infra.cases import CaseError, _fitting
from models.case import CaseView
from workflows.mvno_permit import SPEC


async def _refusal(view: CaseView, event: str, *, operator: bool = False) -> CaseError:
    client: Any = None  # the view is given: nothing is asked of Temporal
    with pytest.raises(CaseError) as refused:
        await _fitting(
            client, SPEC.event(event), view.case_id, WorkflowExecutionStatus.RUNNING, None, view=view, operator=operator
        )
    return refused.value


async def test_an_event_sent_while_the_case_registers_is_told_to_come_again_in_a_moment() -> None:
    """Sent right after the start's 201, an event met 409 "events it accepts now: none" while the case's first task
    still registered it (an adversarial run, 2026-12-03): now it says so, with ``Retry-After``; an operator system is
    told no more than that the event does not fit now."""
    registering = CaseView(case_id="mvno_permit-x", procedure="mvno_permit", status="registered")
    staff = await _refusal(registering, "completeness_decision")
    assert staff.kind == "conflict" and "still being registered; try again in a moment" in staff.message
    answer = _problem(staff).response()
    assert answer.status_code == 409 and answer.headers["Retry-After"] == "1"
    operator = await _refusal(registering, "completeness_decision", operator=True)
    assert operator.message == "completeness_decision does not fit the case's state now" and operator.retry_after == 1
    # a registered case that does not take the event now: what it takes, no Retry-After
    waiting = registering.model_copy(update={"status": "qualification_check", "pending_events": ["x"]})
    other = await _refusal(waiting, "completeness_decision")
    assert "events it accepts now: x" in other.message and other.retry_after is None
    assert "Retry-After" not in _problem(other).response().headers
