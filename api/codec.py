"""The Temporal web UI's remote codec (``POST /codec/decode``): a thin wrapper around ``infra.codec``'s JSON
functions (AES-GCM payload encryption), open to staff and auditors only, with CORS for the UI's origin.

It decodes only. ``POST /codec/encode`` answers 403 to every key: a payload sealed with the installation's keys is
what the worker's strict codec takes, so an encoder would let any key holder send a decision or a start straight to
the Temporal frontend (with the Temporal CLI), past the API's checks of who may do what (an auditor recorded a
completeness refusal so, 2026-12-04). Cases move only through the API; the web UI and the CLI read."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.auth import CODEC_ROLES
from api.problems import ProblemError, install_handlers
from api.security import key_or_session, unauthorized
from infra.codec import CodecError, decode_payloads_json

__all__ = ["CodecError", "codec_app", "decode_payloads_json"]

JsonCodec = Callable[[dict[str, Any]], dict[str, Any]]


def ui_origins() -> list[str]:
    """Origins of the Temporal web UI allowed to call the codec (``KZ_CODEC_CORS_ORIGINS``, comma-separated)."""
    raw = os.environ.get("KZ_CODEC_CORS_ORIGINS", "http://localhost:8233,http://127.0.0.1:8233")
    return [o.strip() for o in raw.split(",") if o.strip()]


def codec_app() -> FastAPI:
    """The codec endpoints as a sub-application with its own CORS policy (mounted at ``/codec``)."""
    sub = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    install_handlers(sub)

    async def run(request: Request, fn: JsonCodec) -> JSONResponse:
        principal = await key_or_session(request)
        if principal is None:
            raise unauthorized()
        if not principal.may(CODEC_ROLES):
            raise ProblemError(403, "only staff and auditors may decode payloads")
        body = await request.body()
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):  # JSONDecodeError is a ValueError; a body nested beyond reason
            raise ProblemError(422, "the body is not JSON (or is nested too deeply)") from None
        try:
            # in a thread: a body of a megabyte of small payloads is thousands of decryptions
            return JSONResponse(await run_in_threadpool(lambda: fn(doc)))
        except CodecError as exc:
            raise ProblemError(422, str(exc)) from None
        except (ValueError, RecursionError):  # base64, a payload's fields
            raise ProblemError(422, "a payload cannot be read: its metadata or data are malformed") from None

    @sub.post("/encode")
    async def encode(request: Request) -> JSONResponse:
        principal = await key_or_session(request)
        if principal is None:
            raise unauthorized()
        raise ProblemError(
            403, "the codec only decodes: a case moves through the API, which checks who may move it (POST /v1/…)"
        )

    @sub.post("/decode")
    async def decode(request: Request) -> JSONResponse:
        return await run(request, decode_payloads_json)

    sub.add_middleware(
        CORSMiddleware,
        allow_origins=ui_origins(),
        allow_credentials=True,
        allow_methods=["POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace", "X-API-Key"],
    )
    return sub
