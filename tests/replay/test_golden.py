"""Every committed golden history replays with today's workflow code (a change that would break a
running case fails here). See docs/GOLDEN-HISTORIES.md for how to add one and when to use
``workflow.patched``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from infra.client import data_converter
from infra.receipts import WORKER_INTERCEPTORS
from infra.sandbox import SANDBOX
from tests.golden_tools import GOLDEN
from workflows.catalogue import WORKFLOWS

FILES = sorted(GOLDEN.glob("*/*.json"))


def test_there_are_golden_histories_for_every_procedure() -> None:
    from workflows.catalogue import PROCEDURES

    recorded = {p.parent.name for p in FILES}
    missing = sorted({s.key for s in PROCEDURES} - recorded)
    assert not missing, f"procedures without a golden history: {missing}"


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
async def test_golden_history_replays(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    history = WorkflowHistory.from_json(doc["workflow_id"], doc["history"])
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=data_converter(),
        workflow_runner=SANDBOX,
        interceptors=WORKER_INTERCEPTORS,
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name} no longer replays: {result.replay_failure}"
