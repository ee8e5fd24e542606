"""``starter.py`` for the tests in a process forked from one that imported the heavy modules once.

A command of ours spends about a second importing the SDK, SQLAlchemy, the tables and every workflow before it does
anything; the suite runs some three hundred of them. The server here imports those modules (never ``cli.*``, whose
consoles read the terminal's width and colour settings at import, nor ``starter``), then forks one child per command:
the child takes the caller's standard streams (passed over a Unix socket), environment, working directory and
arguments, and runs ``starter.py`` as ``__main__`` as the interpreter would. Nothing is shared between commands but
the modules as imported: the functions' caches are emptied before the first fork and ``random`` is reseeded in every
child (CPython does it at fork). The e2e tests' ``worker.py`` and API processes start the same way
(``tests.e2e.procs.WorkerProcess``, ``ApiProcess``): the server sends the client the child's pid, the client passes
SIGTERM and SIGINT on to it, and a client killed takes the child with it (the server sees its end of the socket close).

``KZ_TEST_FORKSERVER=0`` runs every command in a fresh interpreter instead. Tests of how a process starts or behaves
as a process (its import time, its pid, SIGSTOP, its umask, several hosts) run fresh interpreters themselves
(``FreshWorkerProcess``, ``FreshApiProcess``). A forked child's settings are its own (read from the environment it
is given, every cache emptied before the first fork), so the tests of settings, keys and refusals fork too.

This file runs two ways: imported by the tests (``Forkserver``), and ``python tests/forkserver.py serve SOCKET``. The
client, which the README's shell calls through the ``python`` and ``audit`` of ``tests/forkserver_bin`` and the e2e
tests start, is ``tests/forkserver_client.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIM = Path(__file__).resolve().parent / "forkserver_bin"
CLIENT = Path(__file__).resolve().parent / "forkserver_client.py"
PRELOAD = (
    "temporalio.client",
    "temporalio.service",
    "workflows.catalogue",
    "infra.cases",
    "infra.store",
    "infra.client",
    "audit.report",
    "audit.admin_case",
    "rules.law",
    "typer",
    "rich.table",
    "rich.markdown",
    "worker",  # for the e2e tests' worker processes (``tests.e2e.procs.WorkerProcess``)
    # for their API processes (``ApiProcess``): not ``api.app``, which builds the app from the settings at import
    "uvicorn.main",
    "api.routes",
    "api.console",
    "api.codec",
    "api.docs",
)
"""What ``starter.py``'s commands import, but for ``cli.*`` (see the module's docstring)."""


def enabled() -> bool:
    """Whether the tests run ``starter.py`` through the fork server (``KZ_TEST_FORKSERVER=0``: fresh interpreters)."""
    return os.environ.get("KZ_TEST_FORKSERVER", "1") != "0"


# --- the server --------------------------------------------------------------------------------------------------


def _preload() -> None:
    import functools
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    assert not [m for m in sys.modules if m == "starter" or m.startswith("cli.")], "cli.* must load in the child"
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None) or ""
        if not path.startswith(str(ROOT)) or "site-packages" in path:  # ours, not the venv's
            continue
        for value in list(vars(module).values()):
            if isinstance(value, functools._lru_cache_wrapper):
                value.cache_clear()


def _child(fds: list[int], request: dict[str, object]) -> None:
    """Become ``python SCRIPT ARGS`` (or ``python -m MODULE ARGS``, ``python -c CODE ARGS``) with the caller's
    streams, environment and directory; never returns."""
    code = 1
    try:
        for fd, target in zip(fds, (0, 1, 2), strict=True):
            os.dup2(fd, target)
        for fd in fds:
            os.close(fd)
        os.chdir(str(request["cwd"]))
        os.environ.clear()
        os.environ.update(dict(request["env"]))  # type: ignore[call-overload]
        argv = [str(a) for a in request["argv"]]  # type: ignore[attr-defined]
        module = argv[1] if argv[0] == "-m" else None
        source = argv[1] if argv[0] == "-c" else None
        sys.argv = ["-c", *argv[2:]] if source is not None else argv[1:] if module else argv
        sys.path[0] = (
            "" if source is not None else os.getcwd() if module else os.path.dirname(os.path.realpath(argv[0]))
        )
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        import runpy

        if source is not None:
            exec(compile(source, "<string>", "exec"), {"__name__": "__main__"})
        elif module:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(os.path.realpath(argv[0]), run_name="__main__")  # starter.py leaves through os._exit
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)  # as the interpreter prints a message it exits with
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # the process ends either way
                stream.flush()
        os._exit(code)


def serve(path: str) -> None:
    """Accept commands on the Unix socket ``path`` until stdin closes (the test process ended)."""
    _preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(sys.stdin, selectors.EVENT_READ, "stdin")
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            if key.data == "stdin":
                if not os.read(sys.stdin.fileno(), 4096):
                    return
            elif key.data == "accept":
                conn, _ = listener.accept()
                message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
                pid = os.fork()
                if pid == 0:
                    sel.close()
                    listener.close()
                    conn.close()
                    _child(fds, json.loads(message))
                for fd in fds:
                    os.close(fd)
                with contextlib.suppress(OSError):  # the caller went away: noticed below
                    conn.send(f"pid {pid}".encode())
                pidfd = os.pidfd_open(pid)
                sel.register(pidfd, selectors.EVENT_READ, ("exited", pid, pidfd, conn))
                sel.register(conn, selectors.EVENT_READ, ("caller", pid, pidfd, conn))
            elif key.data[0] == "caller":  # the caller's end closed while the child runs: it was killed
                _, pid, pidfd, conn = key.data
                sel.unregister(conn)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)  # dies with its caller, as a process killed with SIGKILL does
            else:
                _, pid, pidfd, conn = key.data
                sel.unregister(pidfd)
                with contextlib.suppress(KeyError, ValueError):
                    sel.unregister(conn)
                os.close(pidfd)
                _, status = os.waitpid(pid, 0)
                with contextlib.suppress(OSError):  # the caller went away
                    conn.send(str(os.waitstatus_to_exitcode(status)).encode())
                conn.close()


# --- the clients -------------------------------------------------------------------------------------------------


class Forkserver:
    """The server of this test process (``forkserver()``), started on first use; it ends when this process does (its
    standard input closes)."""

    def __init__(self, directory: Path) -> None:
        self.path = str(directory / "forkserver.sock")
        self.proc: subprocess.Popen[bytes] | None = None
        self._starting = threading.Lock()

    def start(self) -> None:
        with self._starting:  # worker processes are started from threads too
            if self.proc is None:
                self._start()

    def _start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "serve", self.path],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip() == b"ready", f"the fork server did not start: {line!r}"

    def command(self, *args: str) -> tuple[list[str], dict[str, str]]:
        """``python ARGS`` (``SCRIPT …``, ``-m MODULE …`` or ``-c CODE …``) as a process of its own forked from this
        server: the command and what its environment needs besides the caller's. The process's pid is the client's:
        SIGTERM and SIGINT reach the child, SIGKILL kills both."""
        self.start()
        return [sys.executable, "-S", "-E", str(CLIENT), *args], {"KZ_FORKSERVER": self.path}

    def shell_env(self) -> dict[str, str]:
        """What a shell's environment needs, beside ``SHIM`` first on its path, for its ``python starter.py`` to be
        forked."""
        self.start()
        return {
            "KZ_PYTHON": sys.executable,
            "KZ_FORKSERVER": self.path,
            "KZ_FORKSERVER_CLIENT": str(CLIENT),
        }

    async def run(
        self, argv: list[str], env: dict[str, str], cwd: Path, stdin: bytes = b"", merge_stderr: bool = False
    ) -> tuple[int, bytes, bytes]:
        """``(exit code, stdout, stderr)`` of ``python ARGV`` (``argv[0]`` the script), as a subprocess gives them."""
        from tests.forkserver_client import exit_code, request

        self.start()
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe() if not merge_stderr else (-1, out_w)
        try:
            sock = await asyncio.to_thread(request, self.path, argv, env, str(cwd), [in_r, out_w, err_w])
        finally:
            for fd in {in_r, out_w, err_w}:
                os.close(fd)

        def feed() -> None:
            with open(in_w, "wb") as f, contextlib.suppress(BrokenPipeError):
                f.write(stdin)

        def drain(fd: int) -> bytes:
            if fd < 0:
                return b""
            with open(fd, "rb") as f:
                return f.read()

        _, out, err = await asyncio.gather(
            asyncio.to_thread(feed), asyncio.to_thread(drain, out_r), asyncio.to_thread(drain, err_r)
        )
        return await asyncio.to_thread(exit_code, sock), out, err


_SERVER: Forkserver | None = None


def forkserver() -> Forkserver:
    """This test process's fork server."""
    global _SERVER
    if _SERVER is None:
        _SERVER = Forkserver(Path(tempfile.mkdtemp(prefix="kz-fork-")))
    return _SERVER


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        sys.path[0] = str(ROOT)  # the repository's modules, not tests/'s
        serve(sys.argv[2])
    else:
        sys.exit(f"usage: {sys.argv[0]} serve SOCKET (the client is tests/forkserver_client.py)")
