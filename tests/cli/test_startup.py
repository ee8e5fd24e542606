"""`starter.py --help` answers quickly: it loads neither Temporal's SDK, the database nor the API stack (issue 18:
every CLI call paid ≈1.15 s for them). Checked by the modules loaded, not by a timing that machine noise moves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("temporalio", "sqlmodel", "sqlalchemy", "fastapi", "uvicorn", "cryptography", "psycopg", "httpx", "holidays")
HEAVY += ("pydantic_settings",)
"""What ``--help`` never loads; the holidays package (the calendar) too: help texts cite the law, they count no day;
nor the settings (it reads none: ≈90 ms on slow cores, 2026-12-05)."""

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


def test_a_wrong_law_file_is_one_line_naming_it_not_a_traceback(tmp_path: Path) -> None:
    """A ``[[version]]`` without its ``reference`` made every command die with a traceback (an adversarial run,
    2026-12-04): the command line now says which file and where, and exits 1."""
    good = (ROOT / "rules/data/law/665-NK.toml").read_text(encoding="utf-8")
    bad = tmp_path / "665-NK.toml"
    bad.write_text(good.replace("[[version]]", "[[version]]\nin_force_from = 'soon'", 1), encoding="utf-8")
    probe = (
        "import runpy, sys\nfrom pathlib import Path\nimport rules.law as law\n"
        f"law.package_files = lambda: [Path({str(bad)!r})]\n"
        "sys.argv = ['starter.py', '--help']\nrunpy.run_path('starter.py', run_name='__main__')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("the law files cannot be read: 665-NK.toml"), line
