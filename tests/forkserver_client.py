"""The fork server's client (``tests/forkserver.py``): ``python -S -E tests/forkserver_client.py SCRIPT ARGS…`` runs
``python SCRIPT ARGS…`` (or ``-m MODULE``, ``-c CODE``) forked from the server the environment's ``KZ_FORKSERVER``
names, with this process's streams, environment and directory, and exits with its code. The README's shell calls it
through ``tests/forkserver_bin``, the e2e tests start it (``Forkserver.command``). Standard library only, and only
what it uses: it starts in 20 ms of CPU where importing the server's module (asyncio, subprocess…) took 80, and a
run of the suite starts some three hundred."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from collections.abc import Callable

__all__ = ["exit_code", "request", "run_here"]


def request(path: str, argv: list[str], env: dict[str, str], cwd: str, fds: list[int]) -> socket.socket:
    """Ask the server at ``path`` to fork ``python ARGV`` with the streams ``fds``; the socket its answers come on."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.connect(path)
    socket.send_fds(sock, [json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode()], fds)
    return sock


def exit_code(sock: socket.socket, on_pid: Callable[[int], None] = lambda pid: None) -> int:
    """The child's exit code, after its pid (``on_pid``), as the server sends them."""
    with sock:
        while True:
            answer = sock.recv(64)
            if not answer.startswith(b"pid "):
                return int(answer) if answer else 1
            on_pid(int(answer[4:]))


def run_here(argv: list[str]) -> int:
    """Run ``argv`` with this process's streams, environment and directory; its exit code. SIGTERM and SIGINT sent
    to the client reach the child; killed, the client takes the child with it (the server sees the client's end
    close)."""

    def relay(pid: int) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, _frame: os.kill(pid, signum))

    sock = request(os.environ["KZ_FORKSERVER"], argv, dict(os.environ), os.getcwd(), [0, 1, 2])
    return exit_code(sock, relay)


if __name__ == "__main__":
    sys.exit(run_here(sys.argv[1:]))
