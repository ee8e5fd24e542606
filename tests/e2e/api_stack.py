"""The real stack behind the HTTP API, for end-to-end tests of what the API lets a key do: the dev server,
``worker.py`` and the API (uvicorn) as processes sharing the tests' data directory (keys made with
``api.auth.create_key`` in the test are the API's keys)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from tests.e2e.procs import ApiProcess, DevServer, WorkerProcess

__all__ = ["ApiStack", "api_stack"]


@dataclass
class ApiStack:
    http: httpx.AsyncClient
    """The API's base URL, no key: each call names its own."""
    temporal: Client
    """A client with the codec, to read histories as an auditor would."""

    async def case(
        self, case_id: str, key: str, ok: Callable[[dict[str, Any]], bool] = lambda v: True, timeout: float = 240
    ) -> dict[str, Any]:
        """``GET /v1/cases/{case_id}`` with ``key`` (a reader's), once ``ok``."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            r = await self.http.get(f"/v1/cases/{case_id}", headers={"X-API-Key": key})
            if r.status_code == 200 and ok(r.json()):
                return dict(r.json())
            assert loop.time() < end, r.text
            await asyncio.sleep(0.5)

    async def accepted(self, case_id: str, update: str) -> list[dict[str, Any]]:
        """The arguments of the Updates named ``update`` that the case took, decoded."""
        found: list[dict[str, Any]] = []
        async for ev in self.temporal.get_workflow_handle(case_id).fetch_history_events():
            if ev.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                req = ev.workflow_execution_update_accepted_event_attributes.accepted_request.input
                if req.name == update:
                    found += await self.temporal.data_converter.decode(req.args.payloads, [dict])
        return found


@asynccontextmanager
async def api_stack(tmp_path: Path) -> AsyncIterator[ApiStack]:
    server = DevServer(tmp_path / "temporal.db")
    client = await server.start()
    tq = f"api-{uuid.uuid4().hex[:6]}"
    worker = WorkerProcess(server.target, tq, tmp_path / "worker.log")
    api = ApiProcess(server.target, tq, tmp_path / "api.log")
    worker.start()
    try:
        api.start()
        async with httpx.AsyncClient(base_url=api.url, timeout=60) as http:
            yield ApiStack(http, client)
    finally:
        api.stop()
        worker.stop()
        server.stop()
