"""The cases' own counters, on the worker's Prometheus endpoint beside the SDK's (``infra.telemetry``).

Recorded through ``workflow.metric_meter()``, which records nothing while a workflow replays: a case evicted
from the worker's cache and replayed, or moved to another worker, is not counted twice. The counters change no
command, so they need no ``workflow.patched``.

- ``kz_cases_started{procedure}``: a case's first run began (a continued run is the same case);
- ``kz_cases_closed{procedure, outcome}``: a case ended: ``completed``, ``failed`` or ``cancelled``;
- ``kz_deadlines_breached{procedure, term}``: a legal term passed without its act (``CaseDeadlines.breach``);
- ``kz_cases_blocked{procedure, system}``: an outside system refused for good and the step waits for staff.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import FailureError, is_cancelled_exception
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

__all__ = ["BLOCKED", "BREACHED", "CLOSED", "STARTED", "CaseMetrics", "case_blocked", "deadline_breached"]

STARTED = "kz_cases_started"
CLOSED = "kz_cases_closed"
BREACHED = "kz_deadlines_breached"
BLOCKED = "kz_cases_blocked"


def _count(name: str, description: str, **labels: str) -> None:
    workflow.metric_meter().create_counter(name, description).add(1, labels)


def deadline_breached(procedure: str, term: str) -> None:
    """Count a breached legal term of this case."""
    _count(BREACHED, "legal terms breached", procedure=procedure, term=term)


def case_blocked(procedure: str, system: str) -> None:
    """Count a step of this case blocked by an outside system's permanent refusal."""
    _count(BLOCKED, "steps blocked by an outside system's permanent refusal", procedure=procedure, system=system)


class _CaseMetricsInbound(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        procedure: str = getattr(input.type, "PROCEDURE", None) or workflow.info().workflow_type
        if workflow.info().continued_run_id is None:
            _count(STARTED, "cases started", procedure=procedure)
        try:
            result = await self.next.execute_workflow(input)
        except workflow.ContinueAsNewError:
            raise
        except BaseException as exc:
            if is_cancelled_exception(exc):
                _count(CLOSED, "cases closed", procedure=procedure, outcome="cancelled")
            elif isinstance(exc, FailureError):  # fails the case; anything else fails the task and is retried
                _count(CLOSED, "cases closed", procedure=procedure, outcome="failed")
            raise
        _count(CLOSED, "cases closed", procedure=procedure, outcome="completed")
        return result


class CaseMetrics(Interceptor):
    """The worker interceptor that counts cases started and closed, per procedure."""

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _CaseMetricsInbound
