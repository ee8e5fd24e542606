"""The Temporal web UI's remote codec (``POST /codec/encode``, ``/codec/decode``): a thin wrapper
around ``infra.codec``'s JSON functions, open to staff and auditors only, CORS for the UI's origin.

``infra.codec`` (payload encryption) is written in parallel; until it is on this branch the adapter
below answers with the codec-less path of the pydantic converter (payloads pass through unchanged),
which is exactly what the UI needs while payloads are not encrypted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload

from api.auth import CODEC_ROLES
from api.problems import ProblemError, install_handlers
from api.security import key_or_session, unauthorized

__all__ = ["CodecError", "codec_app", "decode_payloads_json", "encode_payloads_json"]

JsonCodec = Callable[[dict[str, Any]], dict[str, Any]]

try:  # pragma: no cover - depends on whether the encryption branch is merged
    from infra.codec import CodecError, decode_payloads_json, encode_payloads_json  # type: ignore[import-not-found]
except ImportError:

    class CodecError(ValueError):  # type: ignore[no-redef]
        """A request the codec cannot handle."""

    def _passthrough(body: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("payloads"), list):
            raise CodecError('expected a JSON object {"payloads": [...]}')
        out = []
        for i, item in enumerate(body["payloads"]):
            try:
                out.append(json_format.MessageToDict(json_format.ParseDict(item, Payload())))
            except (json_format.ParseError, TypeError, AttributeError):
                raise CodecError(f"payloads[{i}] is not a Payload (metadata and data in base64)") from None
        return {"payloads": out}

    encode_payloads_json = _passthrough
    decode_payloads_json = _passthrough


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
        try:
            body = json.loads(await request.body())
            return JSONResponse(fn(body))
        except (ValueError, CodecError) as exc:  # JSONDecodeError is a ValueError
            raise ProblemError(422, str(exc) if isinstance(exc, CodecError) else "the body is not JSON") from None

    @sub.post("/encode")
    async def encode(request: Request) -> JSONResponse:
        return await run(request, encode_payloads_json)

    @sub.post("/decode")
    async def decode(request: Request) -> JSONResponse:
        return await run(request, decode_payloads_json)

    sub.add_middleware(
        CORSMiddleware, allow_origins=ui_origins(), allow_credentials=True, allow_methods=["POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace", "X-API-Key"],
    )
    return sub
