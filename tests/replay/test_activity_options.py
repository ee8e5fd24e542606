"""What replay compares when workflow code changes how it schedules an activity (issue 16).

The complaint now schedules the administrative case with a heartbeat timeout (``CASE_FILE_HEARTBEAT``); its
golden histories were recorded without one and still replay: the SDK matches a ScheduleActivityTask command
with the recorded event by activity type and id, not by its timeouts, so this change needs no
``workflow.patched``. The same history with another activity type recorded does not replay, so the first
check is not vacuous. (Turning an activity from ``async def`` into ``def`` changes no command at all.)
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from infra.client import data_converter
from infra.sandbox import SANDBOX
from tests.golden_tools import GOLDEN
from workflows.catalogue import WORKFLOWS
from workflows.outside import CASE_FILE_HEARTBEAT

PATH = GOLDEN / "complaint" / "rejected_after_holding_the_window.json"


def _scheduled(doc: dict[str, Any], name: str) -> list[dict[str, Any]]:
    events = doc["history"]["events"]
    found = [e.get("activityTaskScheduledEventAttributes") for e in events]
    return [a for a in found if a and a["activityType"]["name"] == name]


async def _replay(doc: dict[str, Any]) -> Exception | None:
    history = WorkflowHistory.from_json(doc["workflow_id"], doc["history"])
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter(), workflow_runner=SANDBOX)
    return (await replayer.replay_workflow(history, raise_on_replay_failure=False)).replay_failure


async def test_a_new_heartbeat_timeout_replays_over_a_history_recorded_without_one() -> None:
    doc = json.loads(PATH.read_text(encoding="utf-8"))
    [recorded] = _scheduled(doc, "build_administrative_case")
    assert recorded.get("heartbeatTimeout", "0s") == "0s" and timedelta(0) < CASE_FILE_HEARTBEAT
    assert await _replay(doc) is None


async def test_another_activity_type_in_the_same_place_does_not_replay() -> None:
    doc = copy.deepcopy(json.loads(PATH.read_text(encoding="utf-8")))
    [recorded] = _scheduled(doc, "build_administrative_case")
    recorded["activityType"]["name"] = "build_case_file"
    failure = await _replay(doc)
    assert failure is not None
    assert "nondetermin" in str(failure).lower() and "build_case_file" in str(failure), failure
