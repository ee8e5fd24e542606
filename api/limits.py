"""Bounded requests: no one request may hold the event loop (every other request, ``/healthz`` included, waits
while it does).

- **Size**: a body over ``KZ_MAX_BODY_BYTES`` (1 MiB) is refused with ``413`` before any route reads it. A pure
  ASGI middleware, outside everything else (sessions, authentication, routes): a ``Content-Length`` over the limit
  is answered at once, without reading a byte of the body and before a key is looked up; a body sent without one
  (chunked) is counted as it streams in, and the first chunk past the limit ends the request with the same answer.
  The middleware buffers nothing itself.
- **Shape**: a JSON body of more than ``MAX_JSON_VALUES`` values is refused with ``422`` before it is validated
  (``bounded``, after authentication). Within 1 MiB fit some 200,000 values (``[null,null,…]``); validating them
  against a model and listing their errors holds the event loop for over a second, while 5,000 take a few tens of
  milliseconds. No input of ours comes near: an MVNO permit application is about a hundred values.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Depends, Request
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import Principal
from api.problems import PROBLEM_JSON, ProblemError

__all__ = ["MAX_JSON_VALUES", "BodyLimit", "BodyTooLarge", "bounded", "json_values_within"]

MAX_JSON_VALUES = 5_000
"""A JSON body may hold at most this many values (objects, arrays, strings, numbers, booleans, nulls)."""


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the limit; every app's handlers answer it as 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes", headers={"Connection": "close"})


class BodyLimit:
    """Refuse request bodies larger than ``max_bytes`` with 413 (RFC 9457 problem details)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is None:
            await self._refuse(scope, send, 400, "Content-Length is not a number")
            return
        if declared > self.max_bytes:
            await self._refuse(scope, send, 413, f"the request body is larger than {self.max_bytes} bytes")
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge as exc:  # read outside any handler that answers it (e.g. by a middleware)
            if started:
                raise
            await self._refuse(scope, send, 413, str(exc.detail))

    @staticmethod
    async def _refuse(scope: Scope, send: Send, status: int, detail: str) -> None:
        title = "Payload too large" if status == 413 else "Bad request"
        body = json.dumps(
            {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": scope["path"]}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    """The declared body length (0 when none is declared); None when the header is not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return max(int(value), 0)
            except ValueError:
                return None
    return 0


def json_values_within(value: Any, limit: int) -> bool:
    """Whether the parsed JSON ``value`` holds at most ``limit`` values; counting stops past the limit."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        count += 1
        if count > limit:
            return False
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


class _KeyTwice(ValueError):
    """Raised by the parse of ``key_given_twice`` at the first key an object gives twice (its one argument)."""


def _once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _KeyTwice(key)
        out[key] = value
    return out


def key_given_twice(body: bytes) -> str | None:
    """A key that one object of the JSON ``body`` gives twice (the first found), else ``None``: a decision sent as
    ``{"complete": true, "complete": false}`` was taken as the last, a refusal (an adversarial run of 2026-12-04)."""
    try:
        json.loads(body, object_pairs_hook=_once)
    except _KeyTwice as twice:
        return str(twice.args[0])
    except ValueError:  # not JSON: answered elsewhere
        return None
    return None


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def bounded(who: Callable[..., Awaitable[Principal]]) -> Callable[..., Awaitable[Principal]]:
    """The dependency ``who`` (authentication and role), then the shape of the JSON body: ``422`` for more than
    ``MAX_JSON_VALUES`` values, before FastAPI validates the body against the route's model (it validates after
    every dependency). The body was parsed by FastAPI already; ``Request.json`` keeps that parse."""

    async def dependency(request: Request, principal: Principal = Depends(who)) -> Principal:
        if _is_json(request.headers.get("content-type")) and await request.body():
            try:
                data = await request.json()
            except ValueError:  # not JSON: FastAPI's own validation answers it
                return principal
            if not json_values_within(data, MAX_JSON_VALUES):
                raise ProblemError(
                    422,
                    f"the request body holds more than {MAX_JSON_VALUES} JSON values; no input of this API needs "
                    "that many",
                )
            if (twice := key_given_twice(await request.body())) is not None:
                raise ProblemError(
                    422,
                    f"the request body names {twice!r} twice in one object: which one is meant cannot be told "
                    "(JSON parsers keep the last, others the first); send it once",
                )
        return principal

    return dependency
