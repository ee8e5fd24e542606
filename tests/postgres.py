"""A throw-away PostgreSQL server for the tests, from Debian's ``postgresql`` package.

Started on a free port with its data in a temporary directory (as the ``postgres`` user when the tests
run as root, since the server refuses to run as root). ``find_binaries`` says why when it cannot.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["find_binaries", "postgres_server"]


def find_binaries() -> tuple[Path, Path] | str:
    """(initdb, pg_ctl), or the reason they cannot be used."""
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        initdb, pg_ctl = Path(bindir) / "initdb", Path(bindir) / "pg_ctl"
        if initdb.exists() and pg_ctl.exists():
            return initdb, pg_ctl
    initdb_s, pg_ctl_s = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb_s and pg_ctl_s:
        return Path(initdb_s), Path(pg_ctl_s)
    return (
        "PostgreSQL server binaries not found: install Debian's `postgresql` package "
        "(the test command does it when run as root)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server and yield a SQLAlchemy URL to an empty database; stop and delete it afterwards."""
    found = find_binaries()
    if isinstance(found, str):
        raise RuntimeError(found)
    initdb, pg_ctl = found
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="kz-pg-"))
    if as_root:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root and there is no `postgres` user to run the server") from None
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", _free_port()

    def run(*cmd: str | Path) -> None:
        r = subprocess.run([*prefix, *map(str, cmd)], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"{Path(str(cmd[0])).name} failed: {r.stderr.strip() or r.stdout.strip()}")

    run(initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
    run(
        pg_ctl,
        "-D",
        data,
        "-w",
        "-t",
        "60",
        "-l",
        base / "server.log",
        "-o",
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off",
        "start",
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(pg_ctl), "-D", str(data), "-m", "immediate", "stop"], capture_output=True, timeout=60
        )
        shutil.rmtree(base, ignore_errors=True)
