"""`starter.py --help` answers quickly: it loads neither Temporal's SDK, the database nor the API stack (issue 18:
every CLI call paid ≈1.15 s for them). Checked by the modules loaded, not by a timing that machine noise moves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("temporalio", "sqlmodel", "sqlalchemy", "fastapi", "uvicorn", "cryptography", "psycopg", "httpx", "holidays")
"""What ``--help`` never loads; the holidays package (the calendar) too: help texts cite the law, they count no day."""

PROBE = f"""
import json, sys
import starter
try:
    starter.app(["--help"], standalone_mode=False)
except BaseException as exc:
    print(json.dumps({{"raised": repr(exc)}}))
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))))
"""


def test_help_loads_no_sdk_database_or_api_stack() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "outage" in out and "case" in out and "raised" not in out  # the help it printed names the commands
    assert json.loads(out.strip().splitlines()[-1]) == []
