"""The fair floor of a procedure: its command sequence read from one of its real histories, replayed by
``bench.workflows.FloorCase`` with no logic.

``script_of`` walks a history in order and keeps what the engine has to do for the case: activities started and
awaited, local activities (their markers; the ``workflow.patched`` markers are ours, not the floor's), timers
started and then fired or cancelled, Updates accepted and completed (those ours took with its start, an
update-with-start, the floor's driver sends so too). Memo and search-attribute upserts are left
out: they are our cost, the thing the floor shows. A fired timer waits as long as it waited in the history (on
the wall clock of the run that wrote it, capped), so a deadline met in seconds is met in seconds. The case's input
and each Update's argument are stored in as many bytes as the procedure's (data the outside world sends, whoever
handles it; ``filler`` text, which the payload codec packs no smaller than ours was); activities carry none: what
ours pass to and from them is ours to weigh (``extras`` ``payloads`` weighs it).
"""

from __future__ import annotations

import json
import random
from collections.abc import Collection, Iterable

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle, WorkflowHistory
from temporalio.common import WorkflowIDConflictPolicy

from audit.history import LOCAL_ACTIVITY_MARKER
from bench.workflows import FloorCase, FloorOp, FloorScript, filler

__all__ = ["MAX_FIRED_TIMER_SECONDS", "PATCH_MARKER", "counts", "script_of", "start_floor"]

PATCH_MARKER = "core_patch"

MAX_FIRED_TIMER_SECONDS = 5.0
"""A fired timer of a golden history (written with time skipping) may span days: the floor waits at most this."""

_E = EventType
_ACTIVITY_ENDS = {
    _E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "activity_task_completed_event_attributes",
    _E.EVENT_TYPE_ACTIVITY_TASK_FAILED: "activity_task_failed_event_attributes",
    _E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "activity_task_timed_out_event_attributes",
    _E.EVENT_TYPE_ACTIVITY_TASK_CANCELED: "activity_task_canceled_event_attributes",
}


def script_of(
    history: WorkflowHistory | list[HistoryEvent], procedure: str = "", extras: Collection[str] = ()
) -> FloorScript:
    """The command sequence of ``history`` (see the module's docstring). ``extras`` adds back costs of ours, to weigh
    them: ``patches`` (the ``workflow.patched`` markers, each with its TemporalChangeVersion upsert), ``upserts``
    (our search-attribute upserts, the same attributes with the same values, and our memo upserts), ``payloads``
    (each activity's and local activity's argument and result in as many bytes as ours), ``latency`` (each activity
    answers after as long as ours took, idle: a case that takes longer is asked more often and wakes the engine
    more)."""
    events = history.events if isinstance(history, WorkflowHistory) else history
    payloads = "payloads" in extras
    started_at: dict[int, float] = {}
    activity_started: dict[int, float] = {}
    size = 0
    first_task = 0  # the first workflow task's scheduled event: an Update sequenced there came with the start
    with_start = False
    ops: list[FloorOp] = []
    for e in events:
        t = e.event_type
        if t == _E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            carried = _bytes(e.activity_task_scheduled_event_attributes.input.payloads) if payloads else 0
            ops.append(FloorOp(kind="activity_start", ref=e.event_id, carried=carried))
        elif t == _E.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            activity_started[e.activity_task_started_event_attributes.scheduled_event_id] = _seconds(e)
        elif t in _ACTIVITY_ENDS:
            end = getattr(e, _ACTIVITY_ENDS[t])
            start = next(op for op in ops if op.kind == "activity_start" and op.ref == end.scheduled_event_id)
            if payloads and t == _E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                start.result = _bytes(end.result.payloads)
            if "latency" in extras and end.scheduled_event_id in activity_started:
                took = _seconds(e) - activity_started[end.scheduled_event_id]
                start.took = min(max(took, 0.0), MAX_FIRED_TIMER_SECONDS)
            ops.append(FloorOp(kind="activity_wait", ref=end.scheduled_event_id))
        elif t == _E.EVENT_TYPE_MARKER_RECORDED:
            marker = e.marker_recorded_event_attributes
            if marker.marker_name == LOCAL_ACTIVITY_MARKER:
                # its argument is not in the history (the marker's ``data`` is the SDK's own record of the call)
                result = _bytes(marker.details["result"].payloads) if payloads and "result" in marker.details else 0
                ops.append(FloorOp(kind="local", ref=e.event_id, result=result))
            elif marker.marker_name == PATCH_MARKER and "patches" in extras:
                name = json.loads(marker.details["patch-data"].payloads[0].data)["id"]
                ops.append(FloorOp(kind="patch", name=name))
        elif t == _E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES and "upserts" in extras:
            fields = e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            if "TemporalChangeVersion" not in fields:  # the SDK's, made with a patch marker
                attributes = {k: (v.metadata["type"].decode(), json.loads(v.data)) for k, v in fields.items()}
                ops.append(FloorOp(kind="upsert_sa", ref=e.event_id, attributes=attributes))
        elif t == _E.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED and "upserts" in extras:
            memo = e.workflow_properties_modified_event_attributes.upserted_memo.fields
            ops.append(FloorOp(kind="upsert_memo", ref=e.event_id, size=sum(len(p.data) for p in memo.values())))
        elif t == _E.EVENT_TYPE_TIMER_STARTED:
            started_at[e.event_id] = _seconds(e)
            seconds = e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta().total_seconds()
            ops.append(FloorOp(kind="timer_start", ref=e.event_id, seconds=seconds))
        elif t == _E.EVENT_TYPE_TIMER_FIRED:
            ref = e.timer_fired_event_attributes.started_event_id
            waited = _seconds(e) - started_at[ref]
            start = next(op for op in ops if op.kind == "timer_start" and op.ref == ref)
            start.seconds = min(max(waited, 0.001), MAX_FIRED_TIMER_SECONDS)
            ops.append(FloorOp(kind="timer_wait", ref=ref))
        elif t == _E.EVENT_TYPE_TIMER_CANCELED:
            ops.append(FloorOp(kind="timer_cancel", ref=e.timer_canceled_event_attributes.started_event_id))
        elif t == _E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED and not first_task:
            first_task = e.event_id
        elif t == _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            accepted = e.workflow_execution_update_accepted_event_attributes
            with_start |= accepted.accepted_request_sequencing_event_id == first_task
            args = accepted.accepted_request.input.args.payloads
            ops.append(FloorOp(kind="update_accept", size=sum(len(p.data) for p in args)))
        elif t == _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            ops.append(FloorOp(kind="update_complete"))
        elif t == _E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            size = sum(len(p.data) for p in e.workflow_execution_started_event_attributes.input.payloads)
    return FloorScript(procedure=procedure, ops=ops, input=filler(size, random.Random(size)), with_start=with_start)


def _seconds(e: HistoryEvent) -> float:
    return e.event_time.ToDatetime().timestamp()


def _bytes(payloads: Iterable[Payload]) -> int:
    return sum(len(p.data) for p in payloads)


def counts(history: WorkflowHistory | list[HistoryEvent], ours_costs: bool = False) -> dict[str, int]:
    """How many commands of each kind a history holds, counted as ``script_of`` reads them (to compare a floor's
    history with the procedure's); with ``ours_costs``, patch markers and our upserts too."""
    events = history.events if isinstance(history, WorkflowHistory) else history
    n = dict.fromkeys(("activities", "local_activities", "timers_started", "timers_fired", "timers_cancelled"), 0)
    n["updates"] = 0
    if ours_costs:
        n.update(patches=0, search_attribute_upserts=0, memo_upserts=0)
    for e in events:
        t = e.event_type
        if t == _E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            n["activities"] += 1
        elif t == _E.EVENT_TYPE_MARKER_RECORDED:
            name = e.marker_recorded_event_attributes.marker_name
            n["local_activities"] += name == LOCAL_ACTIVITY_MARKER
            if ours_costs:
                n["patches"] += name == PATCH_MARKER
        elif t == _E.EVENT_TYPE_TIMER_STARTED:
            n["timers_started"] += 1
        elif t == _E.EVENT_TYPE_TIMER_FIRED:
            n["timers_fired"] += 1
        elif t == _E.EVENT_TYPE_TIMER_CANCELED:
            n["timers_cancelled"] += 1
        elif t == _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            n["updates"] += 1
        elif ours_costs and t == _E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            n["search_attribute_upserts"] += "TemporalChangeVersion" not in fields
        elif ours_costs and t == _E.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
            n["memo_upserts"] += 1
    return n


async def start_floor(
    client: Client, script: FloorScript, *, id: str, task_queue: str, first_event: str
) -> WorkflowHandle[FloorCase, int]:
    """Start a floor case as ours was started: with its first Update (``first_event``, its data) when ours took one
    with its start (``FloorScript.with_start``, an update-with-start), else bare."""
    if not script.with_start:
        return await client.start_workflow(FloorCase.run, script, id=id, task_queue=task_queue)
    start = WithStartWorkflowOperation(
        FloorCase.run, script, id=id, task_queue=task_queue, id_conflict_policy=WorkflowIDConflictPolicy.FAIL
    )
    await client.execute_update_with_start_workflow(
        FloorCase.event, args=[1, first_event], start_workflow_operation=start
    )
    return await start.workflow_handle()
