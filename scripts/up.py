#!/usr/bin/env python3
"""Run the whole system: Temporal dev server (SQLite file under ./data, WAL), the worker, the API and
console, and the demo data; then print where the console, the API and the Temporal UI are. Ctrl-C stops
everything; re-running keeps the data.

The data directory is ``KZ_DATA_DIR`` (default ``./data``): owner-only (0700), and every file made in it (the
databases and their WAL/SHM files, keys, ``logs/``) 0600: the umask is narrowed to 077 before anything starts.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bootstrap import ROOT, reexec_in_venv


def wait_for_port(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.3)
    return False


def tcp_port(text: str) -> int:
    """An option's port: 1-65535 (with 0 a service would pick one nobody is told of)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1-65535, not {port}")
    return port


def metrics_port() -> int | None:
    """The worker's metrics port on this host (``KZ_METRICS_ADDRESS``, its default from ``infra.settings``), or None
    when metrics are off or served on another host."""
    from infra.settings import Settings

    address = os.environ.get("KZ_METRICS_ADDRESS", Settings.model_fields["metrics_address"].default)
    host, _, port = address.rpartition(":")
    if not port.isdigit() or host not in ("127.0.0.1", "localhost", "0.0.0.0", "", "[::]", "::1", "[::1]"):
        return None
    return int(port)


def port_in_use(port: int) -> bool:
    """Whether another process listens on ``port`` of this host (a bind to it fails)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port left in TIME_WAIT is free
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


STOPS = {signal.SIGINT, signal.SIGTERM}
"""The signals that stop the stack."""


@contextmanager
def stops_held() -> Iterator[None]:
    """SIGINT and SIGTERM held while a child is forked and recorded: one that lands meanwhile is taken as the block
    ends, when the child is one of ours to stop (raised inside Python's at-fork handlers, it was printed as
    "Exception ignored" and swallowed: an adversarial run, 2026-12-03). The child unblocks them (``in_child``). The
    mask is the thread's: this script runs no other thread to take a signal sent to the process."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)


def in_child() -> None:
    """What every child of ours runs before it starts (``preexec_fn``): the stops unblocked (a child inherits the
    mask ``stops_held`` set), and on Linux SIGTERM when this process dies, however it dies, so a killed ``up.py``
    leaves no server, worker, API or demo behind holding the ports and the data directory."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)
    if sys.platform == "linux":
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _holds_a_staff_key(keys: Path) -> bool:
    """Whether ``keys`` looks like a demo keys file (a JSON object with a staff key); ``starter.py demo`` checks the
    keys themselves."""
    try:
        kept = json.loads(keys.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(kept, dict) and isinstance(kept.get("staff"), str) and kept["staff"].startswith("kz_")


_STOP_ASKED = False
"""Whether SIGINT or SIGTERM came (``stop_asked``)."""


def ask_to_stop(signum: int, frame: object) -> None:
    """SIGINT or SIGTERM: stop, by a ``KeyboardInterrupt`` and by a mark ``stop_if_asked`` reads. The stops are held
    while a child is forked (``stops_held``); the mark is the backstop for an interrupt swallowed anywhere else (one
    raised inside Python's at-fork handlers is printed and swallowed: the stack once started anyway)."""
    global _STOP_ASKED
    _STOP_ASKED = True
    raise KeyboardInterrupt


def stop_if_asked() -> None:
    """Raise ``KeyboardInterrupt`` when a stop was asked and its interrupt may have been swallowed."""
    if _STOP_ASKED:
        raise KeyboardInterrupt


def main() -> int:
    # Started in the background by a script, we inherit SIGINT ignored, and so would every service: Ctrl-C or SIGINT
    # would stop nothing. First of all, so that one sent while the venv is made or our modules load is not lost.
    signal.signal(signal.SIGINT, ask_to_stop)
    reexec_in_venv()
    # The console is served over plain HTTP on localhost here, so its cookie cannot be Secure (the setting's
    # default everywhere else); every process started below inherits this. An explicit setting wins.
    os.environ.setdefault("KZ_SESSION_COOKIE_SECURE", "false")
    from models.search_attributes import dev_server_flags

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-demo", action="store_true", help="do not create the demo cases")
    parser.add_argument("--api-port", type=tcp_port, default=int(os.environ.get("KZ_API_PORT", "8000")))
    parser.add_argument("--temporal-port", type=tcp_port, default=7233, help="the dev server's gRPC port")
    parser.add_argument("--ui-port", type=tcp_port, default=8233, help="the Temporal web UI's port")
    args = parser.parse_args()

    ports = {"--temporal-port": args.temporal_port, "--ui-port": args.ui_port, "--api-port": args.api_port}
    metrics = metrics_port()
    if metrics is not None:
        ports["KZ_METRICS_ADDRESS"] = metrics
    refusals = [
        f"[up] {first} and {second} are the same port {port}: each service needs its own"
        for n, (first, port) in enumerate(ports.items())
        for second, other in list(ports.items())[n + 1 :]
        if port == other
    ]
    refusals += [
        f"[up] port {port} ({option}) is in use: another stack? Stop it or choose another"
        for option, port in ports.items()
        if port_in_use(port)
    ]
    for refusal in refusals:
        print(refusal, file=sys.stderr)
    if refusals:
        return 1

    # Owner-only from here on, for us and every process we start (the dev server makes its own SQLite files).
    os.umask(os.umask(0o077) | 0o077)
    data = Path(os.environ.get("KZ_DATA_DIR") or ROOT / "data").resolve()
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    data.chmod(0o700)
    lock = (data / "up.lock").open("a")  # held while we run: two stacks on one data directory share its databases
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print(f"[up] another scripts/up.py runs with {data}: stop it first", file=sys.stderr)
        return 1
    logs = data / "logs"
    logs.mkdir(mode=0o700, exist_ok=True)
    logs.chmod(0o700)
    child_env = {**os.environ, "KZ_DATA_DIR": str(data), "TEMPORAL_ADDRESS": f"localhost:{args.temporal_port}"}
    # the web UI's codec calls come from the UI's own origin: the port it was given (api/codec.py)
    ui_origins = f"http://localhost:{args.ui_port},http://127.0.0.1:{args.ui_port}"
    child_env.setdefault("KZ_CODEC_CORS_ORIGINS", ui_origins)
    server_cmd = [
        "temporal",
        "server",
        "start-dev",
        "--db-filename",
        str(data / "temporal.db"),
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
        "--port",
        str(args.temporal_port),
        "--ui-port",
        str(args.ui_port),
        "--ui-disable-news-fetch",
        *dev_server_flags(),
    ]
    codec_url = os.environ.get("KZ_UI_CODEC_ENDPOINT")
    if codec_url:
        server_cmd += ["--ui-codec-endpoint", codec_url]
    py = sys.executable
    services: list[tuple[str, list[str]]] = [
        ("worker", [py, "worker.py"]),
        ("api", [py, "-m", "uvicorn", "api.app:app", "--port", str(args.api_port)]),
    ]

    procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(name: str, cmd: list[str]) -> None:
        fd = os.open(logs / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        log = os.fdopen(fd, "ab")  # kept open for the child's lifetime
        print(f"[up] starting {name}: logs in {logs / (name + '.log')}", flush=True)
        with stops_held():
            procs.append(
                (
                    name,
                    subprocess.Popen(
                        cmd,
                        cwd=ROOT,
                        env=child_env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        preexec_fn=in_child,
                    ),
                )
            )
        stop_if_asked()

    def stop_all(*_: object) -> None:
        try:  # from the first signal sent: a Ctrl-C again while they go out still kills what is left
            for name, p in reversed(procs):
                if p.poll() is None:
                    print(f"[up] stopping {name}", flush=True)
                    # SIGTERM: each service stops gracefully on it once running, and dies quietly while it still
                    # imports (SIGINT there was a KeyboardInterrupt traceback in its log)
                    p.send_signal(signal.SIGTERM)
            for _name, p in reversed(procs):
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        except KeyboardInterrupt:  # Ctrl-C again (or SIGTERM): no more waiting for a clean stop
            print("[up] Ctrl-C again: killing what is left", flush=True)
            for _name, p in procs:
                if p.poll() is None:
                    p.kill()
            for _name, p in procs:
                p.wait()

    def exited() -> str | None:
        """The first service that has exited, said on stderr (its log has why), or None."""
        for name, p in procs:
            if p.poll() is not None:
                print(f"[up] {name} exited with {p.returncode}; see {logs / (name + '.log')}", file=sys.stderr)
                return name
        return None

    signal.signal(signal.SIGTERM, ask_to_stop)
    try:
        start("temporal", server_cmd)
        if not wait_for_port(args.temporal_port, 60):
            print(f"[up] the Temporal dev server did not start; see {logs / 'temporal.log'}", file=sys.stderr)
            return 1
        for name, cmd in services:
            start(name, cmd)
        demo_failed: int | None = None  # the demo's exit status when it failed twice
        demo_made_keys = False  # the demo ran and printed keys it checked
        if not args.no_demo and (ROOT / "demo").is_dir():
            print("[up] creating demo cases (idempotent)", flush=True)
            for attempt in range(2):  # idempotent: a second run makes what the first could not
                demos: list[subprocess.Popen[bytes]] = []
                try:
                    with stops_held():
                        demos.append(
                            subprocess.Popen([py, "starter.py", "demo"], cwd=ROOT, env=child_env, preexec_fn=in_child)
                        )
                except BaseException:  # Ctrl-C as it started: it stops with the rest
                    for d in demos:
                        d.kill()
                    raise
                with demos[0] as demo:
                    try:
                        while demo.poll() is None:  # the demo waits for its cases: not for a worker dead at its start
                            stop_if_asked()
                            if exited():
                                demo.terminate()
                                return 1
                            time.sleep(0.5)
                    except BaseException:  # Ctrl-C: the demo stops with the rest
                        demo.kill()
                        raise
                demo_failed = demo.returncode or None
                if demo_failed is None:
                    demo_made_keys = True
                    break
                again = "; running it again" if not attempt else ""
                print(f"[up] the demo exited with {demo_failed}{again}", flush=True)
        if not wait_for_port(args.api_port, 60):
            print(f"[up] the API did not start; see {logs / 'api.log'}", file=sys.stderr)
            return 1
        api = f"http://localhost:{args.api_port}"
        keys = data / "demo-keys.json"
        if demo_failed is not None:
            sign_in = "the demo failed, see above: `python starter.py demo` makes its keys and cases"
        elif demo_made_keys:
            sign_in = f"sign in with the staff key; keys in {keys}"
        elif _holds_a_staff_key(keys):
            sign_in = f"keys of an earlier demo in {keys}; `python starter.py demo` checks they still work"
        else:
            without = " with --no-demo" if args.no_demo else ""
            sign_in = f"no demo keys{without}: make one with `python starter.py api create-key`"
        cli = (
            ""
            if args.temporal_port == parser.get_default("temporal_port")
            else f"  Command line     TEMPORAL_ADDRESS={child_env['TEMPORAL_ADDRESS']}\n"
        )
        print(
            "\n[up] running:\n"
            f"  Console          {api}/console/  ({sign_in})\n"
            f"  API              {api}/v1/docs  (schema {api}/v1/openapi.json)\n"
            f"  Temporal UI      http://localhost:{args.ui_port}\n"
            f"{cli}"
            f"  Ctrl-C stops everything; data stays in {data}\n",
            flush=True,
        )
        while not exited():
            stop_if_asked()
            time.sleep(1)
        return 1
    except KeyboardInterrupt:
        print("\n[up] Ctrl-C (or SIGTERM): shutting down", flush=True)
        return 0
    finally:
        stop_all()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # before the services started, or once they are stopped
        print("\n[up] interrupted", flush=True)
        sys.exit(130)
