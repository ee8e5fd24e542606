"""Real HTTP servers for the adapters' tests: a FastAPI app served by uvicorn in a thread on a free local
port, an SMS gateway keeping the contract of ``adapters.sms_gateway`` and an NCANode answering
``/cms/verify`` as NCANode 3.x does (trusting the local test CA)."""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from adapters.local_ca import local_ca, verify_cms

__all__ = ["TOKEN", "Gateway", "NcaNode", "serve"]

TOKEN = "gateway-token-for-tests"


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """``app`` on a free local port in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class Gateway:
    """A gateway keeping the contract of ``adapters.sms_gateway``, with switches for the tests."""

    accepted: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    answer_with: int | None = None  # answer every request with this status (an outage, a refusal)
    fail_next: list[int] = field(default_factory=list)  # answer the next requests with these statuses
    delay_next: list[float] = field(default_factory=list)  # hold the next requests this many seconds each

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/sms")
        async def send(request: Request) -> JSONResponse:
            body = await request.json()
            self.requests.append(
                {
                    "authorization": request.headers.get("authorization", ""),
                    "idempotency_key": request.headers.get("idempotency-key", ""),
                }
            )
            if self.delay_next:
                await asyncio.sleep(self.delay_next.pop(0))
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return JSONResponse({"error": "unauthorised"}, status_code=401)
            if self.answer_with is not None or self.fail_next:
                status = self.answer_with if self.answer_with is not None else self.fail_next.pop(0)
                return JSONResponse({"error": f"echo of {body['to']}"}, status_code=status)
            if body["message_id"] in self.accepted:
                first = self.accepted[body["message_id"]][1]
                return JSONResponse({"message_id": body["message_id"], "accepted_at": first}, status_code=409)
            at = datetime.now(UTC).isoformat()
            self.accepted[body["message_id"]] = (body, at)
            return JSONResponse({"message_id": body["message_id"], "accepted_at": at}, status_code=201)

        return app


@dataclass
class NcaNode:
    """Answers ``/cms/verify`` as NCANode 3.x does, trusting the local test CA; switchable to fail."""

    answer_with: int | None = None
    seen: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/cms/verify")
        async def verify(request: Request) -> JSONResponse:
            body = await request.json()
            self.seen.append(body)
            if self.answer_with is not None:
                return JSONResponse({"status": self.answer_with, "message": "busy"}, status_code=self.answer_with)
            try:
                signature = base64.b64decode(body["cms"])
                data = base64.b64decode(body["data"])
            except (KeyError, ValueError):
                return JSONResponse({"status": 400, "message": "cms is not base64"}, status_code=400)
            if not signature.startswith(b"\x30\x82"):
                return JSONResponse({"status": 400, "message": "unknown object in factory"}, status_code=400)
            try:
                v = verify_cms(data, signature, local_ca().root.cert)
            except Exception as exc:
                signer = {"certificates": [], "status": "INVALID", "message": str(exc)}
                return JSONResponse({"status": 200, "valid": False, "signers": [signer]})
            cert = {
                "valid": True,
                "serialNumber": format(int(v.serial), "x"),
                "subject": {"dn": v.subject, "iin": v.iin, "bin": v.bin, "commonName": "ASANOV ASAN"},
                "keyUser": ["INDIVIDUAL"],
            }
            signer = {"certificates": [cert], "status": "TOTAL_PASSED", "tsp": None}
            return JSONResponse({"status": 200, "message": "", "valid": True, "signers": [signer]})

        return app
