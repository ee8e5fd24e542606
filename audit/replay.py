"""Replay recorded cases with today's workflow code: does it reproduce each case, and if not, where not.

The replayer is built like the worker (its ``WORKFLOWS`` and ``data_converter()``, so encrypted histories decode),
with the strict ``SANDBOX`` whatever the worker runs (``infra/sandbox.py``): a replay before a deploy checks the
workflow code under the sandbox's restrictions. When a case does not reproduce, the divergence is located by replaying
prefixes of the history (each cut just before a workflow task): the first workflow task whose recorded
commands today's code does not produce is the one that diverged, and its first recorded command event
(event id and type) is reported together with the SDK's non-determinism message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from audit.history import decode_history, event_type_name
from infra.codec import CodecError, EncryptionCodec

__all__ = ["Replay", "ReplayOutcome", "divergence_from_message"]

_EVENT_IN_MESSAGE = re.compile(r"HistoryEvent\(id: (\d+), (\w+)")
_WFT_STARTED = EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
_WFT_COMPLETED = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED


class ReplayOutcome(BaseModel):
    """One case: reproduced, or where today's code departs from the record."""

    case_id: str
    run_id: str | None = None
    """The run the history records (an id names several where a case closed and another took the id)."""
    workflow_type: str
    reproduced: bool
    error: str | None = None
    error_kind: str | None = None  # nondeterminism, workflow_type_not_registered, cannot_decrypt, other
    diverged_event_id: int | None = None
    diverged_event_type: str | None = None
    diverged_after_event_id: int | None = None  # the WorkflowTaskCompleted whose commands differ

    def where(self) -> str:
        """Where the case diverged, in words."""
        if self.reproduced:
            return "reproduces"
        if self.diverged_event_id is None:
            return self.error or self.error_kind or "does not reproduce"
        after = (
            f" (commands of the workflow task completed at event {self.diverged_after_event_id})"
            if self.diverged_after_event_id
            else ""
        )
        return f"diverged at event {self.diverged_event_id} {self.diverged_event_type}{after}"


def divergence_from_message(message: str) -> tuple[int, str] | None:
    """The event a core non-determinism message names, when it names one (``HistoryEvent(id: 12, TimerStarted``)."""
    m = _EVENT_IN_MESSAGE.search(message)
    return (int(m.group(1)), m.group(2)) if m else None


def _kind(exc: BaseException) -> str:
    text = str(exc)
    if "Nondeterminism" in text or "NondeterminismError" in type(exc).__name__:
        return "nondeterminism"
    if "not registered" in text or "NotFoundError" in text or "not found" in text.lower():
        return "workflow_type_not_registered"
    return "other"


class Replay:
    """A replayer configured like the worker; ``check`` tells for one history whether it reproduces."""

    def __init__(
        self,
        workflows: Sequence[type] | None = None,
        *,
        converter: DataConverter | None = None,
        runner: SandboxedWorkflowRunner | None = None,
    ) -> None:
        if workflows is None or runner is None:
            from infra.sandbox import SANDBOX
            from workflows.catalogue import WORKFLOWS

            workflows = WORKFLOWS if workflows is None else workflows
            runner = runner or SANDBOX
        if converter is None:
            from infra.client import data_converter

            converter = data_converter()
        self.codec = converter.payload_codec
        self.workflow_names = {getattr(w, "__temporal_workflow_definition").name for w in workflows}
        from infra.receipts import WORKER_INTERCEPTORS  # the worker's: a replay reads the receipts as it did

        self._replayer = (
            Replayer(
                workflows=list(workflows),
                data_converter=converter,
                workflow_runner=runner,
                interceptors=WORKER_INTERCEPTORS,
            )
            if workflows
            else None
        )

    async def _failure(self, history: WorkflowHistory) -> BaseException | None:
        assert self._replayer is not None
        result = await self._replayer.replay_workflow(history, raise_on_replay_failure=False)
        return result.replay_failure

    async def check(self, history: WorkflowHistory) -> ReplayOutcome:
        """Replay one history; on failure locate the workflow task and the event where it diverged."""
        events = list(history.events)
        started = events[0].workflow_execution_started_event_attributes if events else None
        wtype = started.workflow_type.name if started else ""
        run_id = started.original_execution_run_id if started else ""
        outcome = ReplayOutcome(
            case_id=history.workflow_id, run_id=run_id or None, workflow_type=wtype, reproduced=True
        )
        if wtype not in self.workflow_names:
            outcome.reproduced = False
            outcome.error_kind = "workflow_type_not_registered"
            outcome.error = f"workflow type {wtype!r} is not among today's workflows"
            return outcome
        if isinstance(self.codec, EncryptionCodec):
            try:
                decode_history(history, self.codec)
            except CodecError as exc:
                outcome.reproduced = False
                outcome.error_kind = "cannot_decrypt"
                outcome.error = str(exc)
                return outcome
        failure = await self._failure(history)
        if failure is None:
            return outcome
        outcome.reproduced = False
        outcome.error = str(failure)
        outcome.error_kind = _kind(failure)
        located = await self._locate(history, events)
        if located is not None:
            outcome.diverged_after_event_id, eid, etype = located
            outcome.diverged_event_id, outcome.diverged_event_type = eid, etype
        named = divergence_from_message(outcome.error)
        if named is not None:  # the event core itself complained about, when it names one
            outcome.diverged_event_id, outcome.diverged_event_type = named
        return outcome

    async def _locate(self, history: WorkflowHistory, events: list[Any]) -> tuple[int, int | None, str | None] | None:
        """Binary search over prefixes cut at each WorkflowTaskStarted: the first prefix that fails."""
        cuts = [i + 1 for i, e in enumerate(events) if e.event_type == _WFT_STARTED]
        lo, hi = 0, len(cuts) - 1
        first_bad: int | None = None
        while lo <= hi:
            mid = (lo + hi) // 2
            prefix = WorkflowHistory(history.workflow_id, events[: cuts[mid]])
            if await self._failure(prefix) is None:
                lo = mid + 1
            else:
                first_bad, hi = mid, mid - 1
        if first_bad is None:
            return None
        # The failing prefix ends at task `first_bad`; the commands that differ are those of the task before it.
        end = cuts[first_bad]
        completed = [i for i in range(end) if events[i].event_type == _WFT_COMPLETED]
        if not completed:
            return None
        anchor = completed[-1]
        after = events[anchor + 1] if anchor + 1 < len(events) else None
        if after is None:
            return events[anchor].event_id, None, None
        return events[anchor].event_id, after.event_id, event_type_name(after.event_type)
