"""A non-editable install gives a working ``kz-starter``: the wheel holds every package ``starter.py`` imports
and their data (templates, acts, locales, demo inputs). Built and installed offline: no build isolation, the
new virtual environment sees this one's site-packages for the dependencies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_TOP_LEVEL_ONLY = {".venv", ".git", "data", "tests", "docs", "bench", "build"}  # rules/data is shipped
_ANYWHERE = shutil.ignore_patterns("__pycache__", "*.egg-info", ".*cache")


def _not_shipped(directory: str, names: list[str]) -> set[str]:
    return set(_ANYWHERE(directory, names)) | (_TOP_LEVEL_ONLY & set(names) if Path(directory) == ROOT else set())


DATA = (
    "rules/data/law/665-NK.toml",
    "rules/data/calendar_overrides.toml",
    "activities/templates/mvno_permit.html.j2",
    "audit/templates/report.html.j2",
    "api/templates/case.html",
    "api/templates/procedures/mvno_permit.html",
    "api/static/case.css",
    "api/locales/kk/LC_MESSAGES/messages.po",
    "demo/mvno_permit/application.json",
    "demo/fraud/sweep-2026-11.csv",
)


def run(*cmd: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_wheel_installs_a_working_kz_starter(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy, so the build leaves nothing in the working tree
    shutil.copytree(ROOT, source, ignore=_not_shipped)
    wheels = tmp_path / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, source, cwd=tmp_path)
    [wheel] = wheels.glob("kz_telecom_procedures-*.whl")

    target = tmp_path / "venv"
    venv.create(target)  # no pip of its own (ensurepip: 4 s): this environment's pip installs into it (``--python``)
    python = target / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path).strip())
    # the dependencies from this environment (no network); its editable install of the project is not seen,
    # as .pth files of a directory added this way are not run
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel, cwd=tmp_path)

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {**os.environ, "KZ_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("PYTHONPATH", None)
    where = run(python, "-c", "import cli, starter, demo; print(cli.__file__, starter.__file__)", cwd=outside, env=env)
    assert str(ROOT) not in where and str(site) in where, where
    for name in DATA:
        assert (site / name).is_file(), f"{name} is not in the wheel"

    kz_starter = target / "bin" / "kz-starter"
    out = run(kz_starter, "--help", cwd=outside, env=env)
    assert "case" in out and "permit" in out and "subscriber" in out
    out = run(kz_starter, "case", "start", "--help", cwd=outside, env=env)
    assert "PROCEDURE" in out and "--received-now" in out
    out = run(kz_starter, "case", "events", "mvno_permit", cwd=outside, env=env)  # imports the whole catalogue
    assert "qualification_decision" in out and "hearing.at" in out
