"""Golden histories: record a finished case's history into ``tests/golden/<procedure>/<path>.json``.

A workflow test calls ``await save_golden(handle, "mvno_permit", "happy_path")`` after its case
completes. The file is (re)written only when ``KZ_RECORD_GOLDEN=1`` is set, so ordinary runs never
change committed files; ``tests/replay/test_golden.py`` replays every committed file with today's code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from temporalio.client import WorkflowHandle

GOLDEN = Path(__file__).resolve().parent / "golden"


async def save_golden(handle: WorkflowHandle, procedure: str, path_name: str) -> Path:
    """Record the handle's history as a golden file when recording is switched on; returns the file's path."""
    target = GOLDEN / procedure / f"{path_name}.json"
    mode = os.environ.get("KZ_RECORD_GOLDEN")
    if mode == "1" or (mode == "missing" and not target.exists()):
        history = await handle.fetch_history()
        target.parent.mkdir(parents=True, exist_ok=True)
        doc = {"workflow_id": handle.id, "history": json.loads(history.to_json())}
        target.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return target
