"""Files (issue 15 item 9): the data directory is owner-only (0700) and every file our processes make in it
(the SQLite file and the -wal/-shm files SQLite makes itself, key files, the demo keys) is 0600 from its
creation, whatever umask the process was started with."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A process of ours with a lax umask: opens the database (WAL), creates an API key, generates the keys and writes
# the demo keys file, then reports every entry of its data directory with its mode while its connection is open.
_CHILD = """
import json, os, sys
from pathlib import Path

import pytest
from sqlalchemy import text
from api.auth import create_key
from cli.demo import demo_keys
from infra.codec import default_codec
from infra.db import engine
from infra.pseudonym import pseudonym
from infra.settings import settings

create_key("someone (test)", ["staff"])
pseudonym("x")
default_codec()
demo_keys()
with engine().connect() as conn:
    conn.execute(text("select count(*) from api_keys")).all()
    data = settings().data_dir
    print(json.dumps({str(p.relative_to(data)): os.stat(p).st_mode for p in [data, *data.rglob("*")]}))
"""


def test_the_data_dir_and_every_file_in_it_are_owner_only_under_a_lax_umask(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KZ_")}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD],
        cwd=ROOT,
        env={**env, "KZ_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        timeout=120,
        umask=0o022,
    )
    assert done.returncode == 0, done.stderr
    modes = {name: mode for name, mode in json.loads(done.stdout.strip().splitlines()[-1]).items()}
    for name in ("engine.db", "engine.db-wal", "engine.db-shm", "codec-keys.json", "pseudonym-key", "demo-keys.json"):
        assert name in modes, sorted(modes)
    assert stat.S_IMODE(modes["."]) == 0o700
    loose = {name: oct(stat.S_IMODE(mode)) for name, mode in modes.items() if mode & 0o077}
    assert not loose, f"readable by others: {loose}"


def test_an_existing_data_dir_made_before_is_narrowed_to_the_owner(tmp_path: Path) -> None:
    data = tmp_path / "old"
    (data / "logs").mkdir(parents=True)
    data.chmod(0o755)
    (data / "engine.db").write_bytes(b"")
    (data / "engine.db").chmod(0o644)
    (data / "logs" / "worker.log").write_text("old log\n")
    (data / "logs" / "worker.log").chmod(0o644)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KZ_")}
    done = subprocess.run(
        [sys.executable, "-c", "from infra.settings import settings; settings()"],
        cwd=ROOT,
        env={**env, "KZ_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "engine.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "logs" / "worker.log").stat().st_mode) == 0o600


def test_a_session_secures_the_data_dir_once_and_makes_it_again_when_it_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every session asks for the database's URL: the data directory is walked and narrowed the first time only
    (walking it on every session doubled a session's cost), and made again, 0700, when it has been removed."""
    from infra import settings as cfg

    walks: list[Path] = []
    secure = cfg.secure_data_dir
    monkeypatch.setattr(cfg, "secure_data_dir", lambda p: walks.append(p) or secure(p))
    s = cfg.Settings(data_dir=tmp_path / "data")
    url = s.db_url()
    assert url.endswith(str(tmp_path / "data" / "engine.db")) and walks == [tmp_path / "data"]
    assert [s.db_url() for _ in range(3)] == [url] * 3 and len(walks) == 1
    (tmp_path / "data").rmdir()
    assert s.db_url() == url and len(walks) == 2
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700


def test_an_entry_gone_between_the_listing_and_its_look_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Processes starting together on a fresh data directory: one renames its temporary key file into place while
    another secures the directory it listed a moment before (a worker failed its start on the vanished file)."""
    from infra import settings as settings_module

    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "engine.db").write_text("")
    (data / "engine.db").chmod(0o644)
    listed = Path.iterdir

    def with_a_vanished_entry(self: Path):  # type: ignore[no-untyped-def]
        yield from listed(self)
        if self == data:
            yield data / ".pseudonym-key.4242.6d1426cd.tmp"  # renamed away since the listing

    monkeypatch.setattr(Path, "iterdir", with_a_vanished_entry)
    assert settings_module.secure_data_dir(data) == data
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "engine.db").stat().st_mode) == 0o600
