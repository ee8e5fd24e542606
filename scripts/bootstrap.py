"""Create or refresh the project's virtual environment, then re-run the calling script inside it.

Standard library only: this runs on a fresh machine with nothing but Python 3.11.
"""

from __future__ import annotations

import compileall
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".installed"
EXTRAS = "dev"


def _wanted() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + EXTRAS.encode()).hexdigest()


def ensure_venv() -> None:
    """Create .venv if missing and (re)install the project when pyproject.toml changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 (runs under any python3 before the venv exists)
        sys.exit(f"Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"[setup] creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not STAMP.exists() or STAMP.read_text() != _wanted():
        print("[setup] installing the project and its dependencies (first run takes a minute)", flush=True)
        subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", "-e", f".[{EXTRAS}]"], check=True, cwd=ROOT)
        STAMP.write_text(_wanted())


def compile_sources() -> None:
    """Write the bytecode of our modules where it is missing or stale.

    Where ``PYTHONDONTWRITEBYTECODE`` is set (this project's sandbox sets it) nothing else writes it: every process
    compiled our modules from source again (0.5 s of its start on a slow host), and the workflow sandbox, which
    imports a case's workflow modules afresh for each case, compiled them for each case (a quarter of a golden
    replay). Our code is every package at the top of the repository and the modules beside them; up-to-date files
    are only looked at."""
    for path in sorted(ROOT.iterdir()):
        if path.is_dir() and (path / "__init__.py").exists():
            compileall.compile_dir(path, quiet=1, workers=1)
        elif path.suffix == ".py":
            compileall.compile_file(path, quiet=1)


def reexec_in_venv() -> None:
    """Make sure the venv is ready and that this script runs with its interpreter (our bytecode written)."""
    if Path(sys.prefix).resolve() != VENV.resolve():
        ensure_venv()
        os.execv(str(PYTHON), [str(PYTHON), *sys.argv])
    os.environ["PATH"] = f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    os.chdir(ROOT)
    compile_sources()
