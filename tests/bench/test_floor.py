"""The fair floor of the benchmarks (``bench/floor.py``, ``bench.workflows.FloorCase``): a procedure's command
sequence read from a real history, replayed with no logic, issues the same commands. No timing is asserted."""

from __future__ import annotations

import copy
import json
import random
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory, WorkflowUpdateStage
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import PayloadCodec
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from audit.history import LOCAL_ACTIVITY_MARKER
from bench.floor import MAX_FIRED_TIMER_SECONDS, counts, script_of, start_floor
from bench.workflows import FloorCase, carry, filler, noop
from infra.codec import EncryptionCodec, KeyRing

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
# One history per procedure with Updates, timers started and cancelled or fired, activities and local activities.
CASES = [
    "complaint/satisfied_signed_and_delivered_publishing_changes_only.json",
    "contract_eds_signing/signed_publishing_changes_only.json",
    "fraud_check/centre_outage_recovered.json",
    "mvno_permit/hearing_then_permit_publishing_changes_only.json",
    "egov_number_connection/portal_connected_publishing_changes_only.json",
]


def _golden(name: str) -> WorkflowHistory:
    doc = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    return WorkflowHistory.from_json(doc["workflow_id"], doc["history"])


def test_the_script_keeps_every_command_and_leaves_out_patch_markers_and_upserts() -> None:
    history = _golden(CASES[1])
    script = script_of(history, "contract_eds_signing")
    kinds = [op.kind for op in script.ops]
    n = counts(history)
    assert kinds.count("activity_start") == kinds.count("activity_wait") == n["activities"] == 9
    assert kinds.count("local") == n["local_activities"] == 10  # the 4 patch markers are not local activities
    assert kinds.count("timer_start") == n["timers_started"] == 8
    assert kinds.count("timer_cancel") == n["timers_cancelled"] == 8
    assert kinds.count("update_accept") == kinds.count("update_complete") == n["updates"] == 8
    sizes = [op.size for op in script.ops if op.kind == "update_accept"]
    assert sizes.count(0) == 1 and min(s for s in sizes if s) > 16  # each event's argument, as sent; step 3 has none
    assert len(script.input) > 0  # the floor starts from as many bytes as the case's input
    # every wait and cancel refers to a start before it
    started: set[int] = set()
    for op in script.ops:
        if op.kind in ("activity_start", "timer_start"):
            started.add(op.ref)
        elif op.kind in ("activity_wait", "timer_cancel", "timer_wait"):
            assert op.ref in started


def test_an_update_that_came_with_the_start_comes_with_the_floors_and_the_open_floor_has_taken_it() -> None:
    """A fraud case starts with its report (an update-with-start): the floor's driver starts it so, and a floor left
    open at its first event has taken that report, registered and opened the check's term, where ours is left
    (memory per open case compares the two there)."""
    fraud = script_of(_golden(CASES[2]), "fraud_check")
    signing = script_of(_golden(CASES[1]), "contract_eds_signing")
    assert fraud.with_start and not signing.with_start
    kinds = [op.kind for op in fraud.until_first_event().ops]
    assert kinds.count("update_accept") == 2 and kinds[-1] == "update_accept"
    assert kinds.count("update_complete") == 1 and "timer_start" in kinds  # the report answered, the check's term on
    kinds = [op.kind for op in signing.until_first_event().ops]
    assert kinds.count("update_accept") == 1 and kinds[-1] == "update_accept"


def test_a_fired_timer_of_a_time_skipped_history_waits_at_most_the_cap() -> None:
    script = script_of(_golden(CASES[2]), "fraud_check")
    fired = {op.ref for op in script.ops if op.kind == "timer_wait"}
    assert fired
    waits = [op.seconds for op in script.ops if op.kind == "timer_start" and op.ref in fired]
    assert len(waits) == 10 and all(0 < w <= MAX_FIRED_TIMER_SECONDS for w in waits)


@pytest.mark.parametrize(
    "extras",
    [(), ("patches", "upserts"), ("patches", "upserts", "payloads"), ("patches", "upserts", "payloads", "latency")],
    ids=["floor", "floor_with_our_costs", "floor_with_our_payloads", "floor_with_our_latency"],
)
@pytest.mark.parametrize("name", CASES)
async def test_the_floor_replays_the_procedures_commands(
    env: WorkflowEnvironment, name: str, extras: tuple[str, ...]
) -> None:
    """Run the floor of a golden history (Updates sent one at a time, as the benchmark's driver does) and compare
    the commands of its history with the golden's; with our costs added back, the patch markers and the upserts
    too."""
    golden = _golden(name)
    if "payloads" in extras:  # the benchmark reads the stored history: the activities' payloads sealed
        golden = _sealed(golden, env.client.data_converter.payload_codec)
    script = script_of(golden, name.split("/")[0], extras)
    fired = {op.ref for op in script.ops if op.kind == "timer_wait"}
    for op in script.ops:  # the golden's fired timers span days of skipped time: a floor run here waits a moment
        if op.kind == "timer_start" and op.ref in fired:
            op.seconds = min(op.seconds, 0.05)
    tq = f"floor-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=tq, workflows=[FloorCase], activities=[noop, carry]):
        sizes = [op.size for op in script.ops if op.kind == "update_accept"]
        case_id = f"floor-{uuid.uuid4().hex}"
        h = await start_floor(env.client, script, id=case_id, task_queue=tq, first_event="x" * sizes[0])
        for k, size in enumerate(sizes[script.with_start :], start=1 + script.with_start):
            while await h.query(FloorCase.waiting_for) != k:
                await env.sleep(0.01)
            u = await h.start_update(FloorCase.event, args=[k, "x" * size], wait_for_stage=WorkflowUpdateStage.ACCEPTED)
            assert await u.result() == k
        assert await h.result() == len(sizes)
        replayed = await h.fetch_history()
    assert counts(replayed, ours_costs=bool(extras)) == counts(golden, ours_costs=bool(extras))
    if "latency" in extras:  # each activity answers after as long as ours took
        took = _took(golden)
        assert any(took) and all(t >= 0.0005 for t in took if t)
        assert all(mine >= min(t, MAX_FIRED_TIMER_SECONDS) for mine, t in zip(_took(replayed), took, strict=True))
    if "upserts" in extras:  # our search attributes with our values, as the server indexes them
        assert _upserted(replayed) == _upserted(golden)
    if "payloads" in extras and "latency" not in extras:  # each activity's argument and result in about as many
        # stored bytes as ours (an attempt of ours that failed for good still completes in the floor, with a null
        # result; with ``latency`` each argument also says how long to take, a few bytes more)
        assert sum(len(p.data) for p in _carried(replayed)) == pytest.approx(
            sum(len(p.data) for p in _carried(golden)), rel=0.15
        )


def _took(history: WorkflowHistory) -> list[float]:
    """Each activity's last attempt, started to completed, seconds, in scheduling order (0: it never completed)."""
    started: dict[int, float] = {}
    took: dict[int, float] = {}
    for e in history.events:
        at = e.event_time.ToDatetime().timestamp()
        if e.HasField("activity_task_scheduled_event_attributes"):
            took[e.event_id] = 0.0
        elif e.HasField("activity_task_started_event_attributes"):
            started[e.activity_task_started_event_attributes.scheduled_event_id] = at
        elif e.HasField("activity_task_completed_event_attributes"):
            ref = e.activity_task_completed_event_attributes.scheduled_event_id
            took[ref] = at - started[ref]
    return list(took.values())


def _upserted(history: WorkflowHistory) -> list[dict[str, tuple[bytes, Any]]]:
    """Each search-attribute upsert of a history but the SDK's patch versions: name to (type, value)."""
    out = []
    for e in history.events:
        if e.HasField("upsert_workflow_search_attributes_event_attributes"):
            fields = e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            if "TemporalChangeVersion" not in fields:
                out.append({k: (v.metadata["type"], json.loads(v.data)) for k, v in fields.items()})
    return out


def _carried(history: WorkflowHistory) -> list[Payload]:
    """The arguments and results of a history's activities and local activities."""
    out = []
    for e in history.events:
        if e.HasField("activity_task_scheduled_event_attributes"):
            out.append(e.activity_task_scheduled_event_attributes.input)
        elif e.HasField("activity_task_completed_event_attributes"):
            out.append(e.activity_task_completed_event_attributes.result)
        elif e.HasField("marker_recorded_event_attributes") and e.marker_recorded_event_attributes.marker_name == (
            LOCAL_ACTIVITY_MARKER
        ):
            details = e.marker_recorded_event_attributes.details  # its "data" is the SDK's record of the call
            out += [details["result"]] if "result" in details else []
    return [p for payloads in out for p in payloads.payloads]


def _sealed(history: WorkflowHistory, codec: PayloadCodec | None) -> WorkflowHistory:
    """A copy of ``history`` with its activities' payloads sealed by ``codec``, as the server stores them."""
    assert codec is not None
    sealed = WorkflowHistory(history.workflow_id, [copy.deepcopy(e) for e in history.events])
    for p in _carried(sealed):
        [stored] = codec.encode_sync([p])  # type: ignore[attr-defined]
        p.CopyFrom(stored)
    return sealed


async def test_the_cpu_benchmark_runs_on_a_tiny_size() -> None:
    """``python3 scripts/benchmark.py cpu`` end to end on one case of one procedure: a dev server, a worker and the
    drivers in processes of their own. Asserts what it reports, never how fast."""
    from bench import bench_cpu

    [f] = await bench_cpu.run(n=1, repeats=1, memory_n=0, procedures=["complaint"], compare={}, decompose=False)
    assert f.shape["floor"] == f.shape["ours"]  # the floor issued the procedure's commands
    assert all(f.ours[k][0] > 0 and f.floor[k][0] > 0 for k in ("worker", "server", "driver", "rate"))
    events_ours, events_floor, kb_ours, kb_floor = f.history
    assert events_ours > events_floor > 0 and kb_ours > 0 and kb_floor > 0
    assert f.queries[0] >= 1  # the driver asked the case before its event
    # our activities' bodies did work inside the worker's CPU; the floor's only activity is an async no-op
    assert 0 < f.ours["activities"][0] < f.ours["worker"][0] and f.floor["activities"][0] == 0
    row = bench_cpu.table([f]).splitlines()[-1]
    assert row.startswith("| complaint | ")


def test_the_floors_payloads_are_stored_in_as_many_bytes_as_ours() -> None:
    """The floor sends its input and Update arguments as ``filler`` text: through the payload codec, which packs a
    payload before sealing it, it is stored in about as many bytes as the procedure's was (a run of one letter would
    be packed to almost nothing, and the floor would weigh less than the data the outside world sends)."""
    codec = EncryptionCodec(KeyRing(keys={"k1": b"\x01" * 32}, active="k1"))
    to_payloads = pydantic_data_converter.payload_converter.to_payloads
    for stored in (400, 1500, 6000):
        [sealed] = codec.encode_sync(to_payloads([filler(stored, random.Random(stored))]))
        assert abs(len(sealed.data) - stored) <= stored * 0.05
        [packed_away] = codec.encode_sync(to_payloads(["x" * stored]))
        assert len(packed_away.data) < stored / 4  # the control
