"""The e2e tests' own processes (``tests/e2e/procs.py``): a dev server whose port another process took between
looking and binding starts on another, as the suite's parallel processes make happen."""

from __future__ import annotations

import socket
from pathlib import Path

from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from tests.e2e.procs import DevServer


async def test_a_dev_server_whose_port_was_taken_starts_on_another(tmp_path: Path) -> None:
    server = DevServer(tmp_path / "temporal.db")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))  # bound, not listening: the server cannot bind it, a client is refused at once
        server.port = taken.getsockname()[1]
        try:
            client = await server.start()
            assert server.port != taken.getsockname()[1]
            assert await client.workflow_service.get_system_info(GetSystemInfoRequest())
            assert server.proc is not None and server.proc.poll() is None
        finally:
            server.stop()
    assert "address already in use" in server.log.read_text()
