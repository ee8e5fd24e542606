"""Every Temporal client error the API can meet maps to a deliberate problem status, never a 500
(``api.temporal``)."""

from __future__ import annotations

import pytest
from temporalio.client import RPCTimeoutOrCancelledError, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.temporal import problem_from_temporal


@pytest.mark.parametrize(
    ("code", "message", "status"),
    [
        (RPCStatusCode.NOT_FOUND, "workflow not found for ID: x", 404),
        (RPCStatusCode.NOT_FOUND, "workflow execution already completed", 409),
        # an Update racing the case's last task: the case exists (was a 404 "no such case", adversarial run)
        (RPCStatusCode.NOT_FOUND, "workflow update was aborted by closing workflow", 409),
        (RPCStatusCode.FAILED_PRECONDITION, "update rejected", 409),
        (RPCStatusCode.ALREADY_EXISTS, "exists", 409),
        (RPCStatusCode.INVALID_ARGUMENT, "bad query", 422),
        (RPCStatusCode.UNAVAILABLE, "connection refused", 503),
        (RPCStatusCode.DEADLINE_EXCEEDED, "timeout", 503),
        (RPCStatusCode.UNIMPLEMENTED, "list not implemented", 501),
        (RPCStatusCode.INTERNAL, "boom", 502),
    ],
)
def test_rpc_errors(code: RPCStatusCode, message: str, status: int) -> None:
    problem = problem_from_temporal(RPCError(message, code, b""))
    assert problem.status == status and problem.detail


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ApplicationError("the decision was recorded already", type="EventDoesNotFit"), 409),
        (ApplicationError("the case is closed", type="CaseClosed"), 409),
        (ApplicationError("'satisfy' does not fit the complaint now", type="EventNotAllowed"), 409),
        (ApplicationError("reason is required", type="ValueError"), 422),
        (ValueError("reason is required"), 422),
    ],
)
def test_update_refusals(error: BaseException, status: int) -> None:
    problem = problem_from_temporal(WorkflowUpdateFailedError(error))
    assert problem.status == status
    assert problem.detail == getattr(error, "message", str(error))


@pytest.mark.parametrize(
    "error",
    [
        RPCError("no poller seen for task queue recently, worker may be down", RPCStatusCode.FAILED_PRECONDITION, b""),
        RPCTimeoutOrCancelledError("timed out"),
        WorkflowQueryFailedError("the workflow task failed"),
    ],
)
def test_a_case_whose_worker_is_down_is_503_with_retry_after_not_a_conflict(error: Exception) -> None:
    problem = problem_from_temporal(error)
    assert problem.status == 503 and problem.headers == {"Retry-After": "30"}
    assert "worker may be down" in problem.detail


def test_other_errors_are_not_swallowed() -> None:
    with pytest.raises(KeyError):
        problem_from_temporal(KeyError("x"))
