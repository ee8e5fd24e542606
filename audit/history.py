"""Case histories as auditors read them: files, decryption, and a readable timeline of events.

A history file is ``{"workflow_id": ..., "history": <Temporal's JSON history>}`` (the golden-history
format); Temporal's own ``{"events": [...]}`` JSON is accepted too, the workflow id then comes from the
file name. Exported files keep their payloads encrypted; ``decode_history`` decrypts a copy in memory.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from google.protobuf.message import Message
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter

from infra.cases import sender_of
from infra.codec import EncryptionCodec, default_codec
from models.case import BEGUN_CASE_MEMO
from models.deadlines import deadline_records

__all__ = [
    "CaseHistory",
    "HistoryEntry",
    "deadline_records",
    "decode_history",
    "event_type_name",
    "failure_message",
    "history_document",
    "load_history",
    "parse_history",
    "payloads",
    "save_history",
]

_PAYLOAD = Payload.DESCRIPTOR.full_name
_SKIP = {"temporal.api.common.v1.SearchAttributes"}  # the server indexes them: never encoded by a codec
LOCAL_ACTIVITY_MARKER = "core_local_activity"


def history_document(history: WorkflowHistory) -> dict[str, Any]:
    """The JSON document of a history file."""
    return {"workflow_id": history.workflow_id, "history": json.loads(history.to_json())}


def save_history(history: WorkflowHistory, path: Path) -> Path:
    """Write ``history`` to ``path`` (payloads as they are: exported files stay encrypted)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(history_document(history), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load_history(path: Path) -> WorkflowHistory:
    """Read a history file (ours, or Temporal's ``{"events": [...]}`` named ``<workflow id>.json``)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable JSON history ({exc})") from None
    if isinstance(doc, dict) and "history" in doc and "workflow_id" in doc:
        return WorkflowHistory.from_json(doc["workflow_id"], doc["history"])
    if isinstance(doc, dict) and "events" in doc:
        return WorkflowHistory.from_json(path.stem, doc)
    raise ValueError(f"{path}: neither a case history file nor Temporal's JSON history")


def _payload_slots(msg: Message, out: list[Payload]) -> None:
    for fd, value in msg.ListFields():
        mt = fd.message_type
        if mt is None or mt.full_name in _SKIP:
            continue
        if mt.GetOptions().map_entry:
            vt = mt.fields_by_name["value"].message_type
            if vt is None:
                continue
            for v in value.values():
                out.append(v) if vt.full_name == _PAYLOAD else _payload_slots(v, out)
        elif fd.is_repeated:
            for v in value:
                out.append(v) if mt.full_name == _PAYLOAD else _payload_slots(v, out)
        elif mt.full_name == _PAYLOAD:
            out.append(value)
        else:
            _payload_slots(value, out)


def payloads(event: Message) -> list[Payload]:
    """Every payload a codec sees in ``event`` (search attributes excluded), in the event's field order."""
    out: list[Payload] = []
    _payload_slots(event, out)
    return out


def decode_history(history: WorkflowHistory, codec: EncryptionCodec | None = None) -> WorkflowHistory:
    """A copy of ``history`` with every encrypted payload (memos, inputs, results, failures) decrypted."""
    codec = codec or default_codec()
    events: list[HistoryEvent] = []
    for event in history.events:
        copy = HistoryEvent()
        copy.CopyFrom(event)
        for slot in payloads(copy):
            slot.CopyFrom(codec.decode_one(slot))
        events.append(copy)
    return WorkflowHistory(history.workflow_id, events)


def value_of(payload: Payload) -> Any:
    """The JSON value of a decoded payload (binary payloads are described, not decoded)."""
    encoding = payload.metadata.get("encoding", b"")
    if encoding == b"binary/encrypted":
        return {"encrypted_with_key": payload.metadata.get("encryption-key-id", b"").decode()}
    if encoding == b"binary/plain":
        return {"binary_bytes": len(payload.data)}
    return pydantic_data_converter.payload_converter.from_payload(payload)


def values_of(payloads: Any) -> list[Any]:
    return [value_of(p) for p in payloads.payloads]


def failure_message(failure: Failure) -> str:
    """A failure's message chain, reading messages moved into (decoded) encoded attributes."""
    parts: list[str] = []
    f: Failure | None = failure
    while f is not None:
        message = f.message
        if f.HasField("encoded_attributes"):
            attrs = value_of(f.encoded_attributes)
            if isinstance(attrs, dict):
                message = attrs.get("message", message)
        kind = f.application_failure_info.type if f.HasField("application_failure_info") else ""
        part = f"{kind}: {message}" if kind else message
        if part and (not parts or parts[-1] != part):
            parts.append(part)
        f = f.cause if f.HasField("cause") else None
    return " <- ".join(parts)


def event_type_name(event_type: int) -> str:
    """``EVENT_TYPE_ACTIVITY_TASK_SCHEDULED`` → ``ActivityTaskScheduled`` (as the web UI names them)."""
    name = EventType.Name(event_type).removeprefix("EVENT_TYPE_")  # type: ignore[arg-type]
    return "".join(w.capitalize() for w in name.split("_"))


class HistoryEntry(BaseModel):
    """One meaningful event of a case: what happened, when, with what data."""

    event_id: int
    at: datetime
    event_type: str
    kind: str  # application, update, update_result, activity, activity_result, activity_failure, local_activity,
    #            timer_started, timer_fired, timer_cancelled, memo, status, signal, child, outcome
    name: str = ""
    data: Any = None
    ref_event_id: int | None = None
    sent_by_key: str | None = None
    """For an Update: the id of the API key that sent it, from the Update's id (``infra.cases.sent_as``)."""


class CaseHistory(BaseModel):
    """A decoded case history: the application, the timeline, the memo snapshots, the outcome."""

    workflow_id: str
    run_id: str | None = None
    """Which case, where its id names several: the first run of the id's chain (``first_execution_run_id``), or the
    run itself for a case begun after another of its chain ended (``BEGUN_CASE_MEMO``: a fraud case's next check)."""
    workflow_type: str
    started_at: datetime
    closed_at: datetime | None = None
    execution_status: str = "Running"
    application: list[Any] = Field(default_factory=list)
    result: Any = None
    failure: str | None = None
    entries: list[HistoryEntry] = Field(default_factory=list)
    memo: dict[str, Any] = Field(default_factory=dict)  # the latest value of every memo key
    memo_snapshots: list[tuple[int, datetime, dict[str, Any]]] = Field(default_factory=list)
    status_changes: list[tuple[int, datetime, str]] = Field(default_factory=list)
    event_count: int = 0

    @property
    def procedure(self) -> str:
        return str(self.memo.get("case", {}).get("procedure") or self.workflow_type)

    def deadline_snapshots(self) -> list[tuple[int, datetime, list[dict[str, Any]]]]:
        """Every published state of the case's deadlines, in history order: each the terms that memo event wrote."""
        snapshots = [(eid, at, deadline_records(m)) for eid, at, m in self.memo_snapshots]
        return [(eid, at, states) for eid, at, states in snapshots if states]

    def deadlines(self) -> list[dict[str, Any]]:
        """The latest record of every term of the case, in the order they were opened."""
        return deadline_records(self.memo)

    def status_at(self, instant: datetime) -> str | None:
        status = None
        for _eid, at, s in self.status_changes:
            if at <= instant:
                status = s
        return status


_CLOSE = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "Completed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "Failed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: "Canceled",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "Terminated",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: "TimedOut",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "ContinuedAsNew",
}


def _memo_fields(memo: Any) -> dict[str, Any]:
    return {k: value_of(v) for k, v in memo.fields.items()}


def parse_history(history: WorkflowHistory, codec: EncryptionCodec | None = None) -> CaseHistory:
    """Decrypt and read a history into a ``CaseHistory`` (no server, no workflow code needed)."""
    decoded = decode_history(history, codec)
    events = list(decoded.events)
    if not events or events[0].event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        raise ValueError(f"{history.workflow_id}: a history starts with WorkflowExecutionStarted")
    first = events[0].workflow_execution_started_event_attributes
    case = CaseHistory(
        workflow_id=history.workflow_id,
        run_id=first.first_execution_run_id or None,
        workflow_type=first.workflow_type.name,
        started_at=events[0].event_time.ToDatetime(UTC),
        application=values_of(first.input),
        event_count=len(events),
    )
    if first.HasField("memo"):
        case.memo.update(_memo_fields(first.memo))
        case.memo_snapshots.append((events[0].event_id, case.started_at, dict(case.memo)))
    if BEGUN_CASE_MEMO in case.memo:
        case.run_id = first.original_execution_run_id or case.run_id
    activities: dict[int, str] = {}
    updates: dict[str, tuple[int, str]] = {}
    for e in events:
        at = e.event_time.ToDatetime(UTC)
        t = e.event_type

        def add(
            kind: str,
            name: str = "",
            data: Any = None,
            ref: int | None = None,
            *,
            _e: HistoryEvent = e,
            _at: datetime = at,
        ) -> None:
            case.entries.append(
                HistoryEntry(
                    event_id=_e.event_id,
                    at=_at,
                    event_type=event_type_name(_e.event_type),
                    kind=kind,
                    name=name,
                    data=data,
                    ref_event_id=ref,
                )
            )

        if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            add("application", first.workflow_type.name, case.application)
        elif t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            a = e.workflow_execution_update_accepted_event_attributes
            updates[a.accepted_request.meta.update_id] = (e.event_id, a.accepted_request.input.name)
            add("update", a.accepted_request.input.name, values_of(a.accepted_request.input.args))
            case.entries[-1].sent_by_key = sender_of(a.accepted_request.meta.update_id)
        elif t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            c = e.workflow_execution_update_completed_event_attributes
            accepted_id, name = updates.get(c.meta.update_id, (c.accepted_event_id or None, ""))
            if c.outcome.HasField("failure"):
                add("update_result", name, {"failure": failure_message(c.outcome.failure)}, accepted_id)
            else:
                add("update_result", name, values_of(c.outcome.success), accepted_id)
        elif t == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            s = e.activity_task_scheduled_event_attributes
            activities[e.event_id] = s.activity_type.name
            add("activity", s.activity_type.name, values_of(s.input))
        elif t == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            r = e.activity_task_completed_event_attributes
            add("activity_result", activities.get(r.scheduled_event_id, ""), values_of(r.result), r.scheduled_event_id)
        elif t == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            f = e.activity_task_failed_event_attributes
            add(
                "activity_failure",
                activities.get(f.scheduled_event_id, ""),
                failure_message(f.failure),
                f.scheduled_event_id,
            )
        elif t == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            o = e.activity_task_timed_out_event_attributes
            add(
                "activity_failure",
                activities.get(o.scheduled_event_id, ""),
                failure_message(o.failure),
                o.scheduled_event_id,
            )
        elif t == EventType.EVENT_TYPE_MARKER_RECORDED:
            m = e.marker_recorded_event_attributes
            details = {k: values_of(v) for k, v in m.details.items()}
            if m.marker_name == LOCAL_ACTIVITY_MARKER:
                meta = (details.get("data") or [{}])[0] or {}
                result = details.get("result") or []
                data = {"result": result[0] if result else None}
                if m.HasField("failure"):
                    data = {"failure": failure_message(m.failure)}
                add("local_activity", str(meta.get("activity_type", "")), data)
            else:
                add("marker", m.marker_name, details)
        elif t == EventType.EVENT_TYPE_TIMER_STARTED:
            ts = e.timer_started_event_attributes
            fire = at + ts.start_to_fire_timeout.ToTimedelta()
            add(
                "timer_started",
                ts.timer_id,
                {"fires_at": fire.isoformat(), "seconds": ts.start_to_fire_timeout.ToTimedelta().total_seconds()},
            )
        elif t == EventType.EVENT_TYPE_TIMER_FIRED:
            tf = e.timer_fired_event_attributes
            add("timer_fired", tf.timer_id, None, tf.started_event_id)
        elif t == EventType.EVENT_TYPE_TIMER_CANCELED:
            tc = e.timer_canceled_event_attributes
            add("timer_cancelled", tc.timer_id, None, tc.started_event_id)
        elif t == EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
            fields = _memo_fields(e.workflow_properties_modified_event_attributes.upserted_memo)
            case.memo.update(fields)
            case.memo_snapshots.append((e.event_id, at, fields))
            add("memo", ",".join(sorted(fields)), fields)
        elif t == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            sa = e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            if "KzStatus" in sa:
                status = value_of(sa["KzStatus"])
                case.status_changes.append((e.event_id, at, str(status)))
                add("status", str(status))
        elif t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            sg = e.workflow_execution_signaled_event_attributes
            add("signal", sg.signal_name, values_of(sg.input))
        elif t == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            ch = e.start_child_workflow_execution_initiated_event_attributes
            add("child", ch.workflow_type.name, {"workflow_id": ch.workflow_id, "input": values_of(ch.input)})
        elif t in _CLOSE:
            case.execution_status = _CLOSE[t]  # type: ignore[index]
            case.closed_at = at
            if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
                case.result = (values_of(e.workflow_execution_completed_event_attributes.result) or [None])[0]
                add("outcome", "Completed", case.result)
            elif t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
                case.failure = failure_message(e.workflow_execution_failed_event_attributes.failure)
                add("outcome", "Failed", {"failure": case.failure})
            elif t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
                reason = e.workflow_execution_terminated_event_attributes.reason
                case.failure = f"terminated: {reason}"
                add("outcome", "Terminated", {"reason": reason})
            else:
                add("outcome", _CLOSE[t])  # type: ignore[index]
    return case
