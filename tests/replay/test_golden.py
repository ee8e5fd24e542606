"""Every committed golden history replays with today's workflow code (a change that would break a
running case fails here). See docs/GOLDEN-HISTORIES.md for how to add one and when to use
``workflow.patched``.

Each history replays in the sandbox a worker runs cases in (``worker_sandbox()``: the workflow modules imported once
and shared by every case, as in production); the first history of each procedure also replays in the strict sandbox,
which imports every workflow module again under the sandbox's restrictions (what ``audit replay`` runs before a
deploy). The strict replay costs twice the time of a shared one, and what it adds, the import check, is the same
for every history of a procedure (issue 18: the suite's time)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from infra.client import data_converter
from infra.receipts import WORKER_INTERCEPTORS
from infra.sandbox import SANDBOX, worker_sandbox
from tests.golden_tools import GOLDEN
from workflows.catalogue import WORKFLOWS

FILES = sorted(GOLDEN.glob("*/*.json"))
STRICT = {min(p for p in FILES if p.parent == d) for d in {p.parent for p in FILES}}
"""The first history of each procedure, also replayed in the strict sandbox."""


def test_there_are_golden_histories_for_every_procedure() -> None:
    from workflows.catalogue import PROCEDURES

    recorded = {p.parent.name for p in FILES}
    missing = sorted({s.key for s in PROCEDURES} - recorded)
    assert not missing, f"procedures without a golden history: {missing}"


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
async def test_golden_history_replays(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    history = WorkflowHistory.from_json(doc["workflow_id"], doc["history"])
    for runner in (worker_sandbox(), SANDBOX) if path in STRICT else (worker_sandbox(),):
        replayer = Replayer(
            workflows=WORKFLOWS,
            data_converter=data_converter(),
            workflow_runner=runner,
            interceptors=WORKER_INTERCEPTORS,
            # a determinism check, not a timing one: the SDK's deadlock detector (an activation that has not yielded
            # in 2 s) failed a replay once on a fresh clone's starved host; the workflow tests keep it on
            debug_mode=True,
        )
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        kind = "strict" if runner is SANDBOX else "worker's"
        assert result.replay_failure is None, f"{path.name} no longer replays ({kind} sandbox): {result.replay_failure}"
