"""Golden histories: record a finished case's history into ``tests/golden/<procedure>/<path>.json``.

A workflow test calls ``await save_golden(handle, "mvno_permit", "happy_path")`` after its case
completes. The file is written decrypted (payload codec removed, see ``infra/codec.py``): golden files
are test fixtures with test persons only, readable in review and independent of the keys of the run
that recorded them; unencrypted payloads replay unchanged through the codec. The file is (re)written
only when ``KZ_RECORD_GOLDEN=1`` (or ``missing``) is set, so ordinary runs never change committed files;
``tests/replay/test_golden.py`` replays every committed file with today's code.
"""

from __future__ import annotations

import os
from pathlib import Path

from temporalio.client import WorkflowHandle

from audit.history import decode_history, save_history

GOLDEN = Path(__file__).resolve().parent / "golden"


async def save_golden(handle: WorkflowHandle, procedure: str, path_name: str) -> Path:
    """Record the handle's history as a golden file when recording is switched on; returns the file's path."""
    target = GOLDEN / procedure / f"{path_name}.json"
    mode = os.environ.get("KZ_RECORD_GOLDEN")
    if mode == "1" or (mode == "missing" and not target.exists()):
        save_history(decode_history(await handle.fetch_history()), target)
    return target
