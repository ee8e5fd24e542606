"""Bounded input (``api.limits``, ``api.problems``): a body over 1 MiB is refused with 413 before anything reads it
or looks at the key, whether its length is declared or it streams in chunks; a JSON body of more values than any
input needs is refused before validation; a validation problem lists at most 20 errors."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import Message

from api.limits import MAX_JSON_VALUES, BodyLimit, json_values_within, key_given_twice
from api.problems import MAX_ERRORS
from tests.api.applications import application
from tests.api.conftest import Keys

START = "/v1/procedures/demo_check/cases"
MIB = 1024 * 1024


async def call(app: Any, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, bytes, int]:
    """One POST straight through the ASGI app; returns the status, the body and how many chunks were read."""
    pending = list(chunks)
    read = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal read
        if not pending:
            return {"type": "http.disconnect"}
        read += 1
        chunk = pending.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": START,
        "raw_path": START.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 443),
    }
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, read


async def test_a_body_over_a_mib_is_413_before_it_is_read_or_the_key_is_looked_at(api_app: FastAPI, keys: Keys) -> None:
    chunks = [b"x" * (64 * 1024)] * 17  # 1 MiB + 64 KiB
    declared = [(b"content-length", str(17 * 64 * 1024).encode())]
    status, body, read = await call(api_app, declared, chunks)  # no key at all: not 401 but 413
    assert status == 413 and read == 0, (status, body)
    problem = json.loads(body)
    assert problem["status"] == 413 and "1048576 bytes" in problem["detail"]
    status, _, read = await call(api_app, [*declared, (b"x-api-key", keys.staff.encode())], chunks)
    assert status == 413 and read == 0
    # sent in chunks without a length: refused at the first chunk past the limit, the rest is never read
    status, body, read = await call(api_app, [(b"x-api-key", keys.staff.encode())], [*chunks, *chunks])
    assert status == 413 and read == 17, (status, body, read)
    # a body of exactly the limit passes it: without a key, authentication answers
    exactly = b'{"a":"' + b"x" * (MIB - 8) + b'"}'
    status, _, _ = await call(api_app, [(b"content-length", str(len(exactly)).encode())], [exactly])
    assert len(exactly) == MIB and status == 401


async def test_the_limit_answers_a_bad_length_and_keeps_to_http() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the app must not be called")

    status, body, _ = await call(BodyLimit(app, 10), [(b"content-length", b"ten")], [b"x"])
    assert status == 400 and b"Content-Length" in body


def test_counting_json_values_stops_at_the_limit() -> None:
    assert json_values_within({"a": [1, 2, {"b": None}]}, 6)  # the object, the list, 1, 2, the inner object, None
    assert not json_values_within({"a": [1, 2, {"b": None}]}, 5)
    assert json_values_within("text", 1) and not json_values_within([], 0)


async def test_too_many_json_values_are_refused_before_validation_and_after_the_key(
    http: httpx.AsyncClient, keys: Keys
) -> None:
    body = {"attachments": [None] * MAX_JSON_VALUES}
    r = await http.post(START, json=body)
    assert r.status_code == 401  # who asks is checked first
    r = await http.post(START, json=body, headers={"X-API-Key": keys.staff})
    assert r.status_code == 422 and f"more than {MAX_JSON_VALUES} JSON values" in r.json()["detail"], r.text
    assert "errors" not in r.json()


async def test_a_key_given_twice_in_a_body_is_refused(http: httpx.AsyncClient, keys: Keys) -> None:
    """``{"complete": true, "complete": false}`` was recorded as the last (a refusal to consider); which one the
    sender meant cannot be told (an adversarial run of 2026-12-04)."""
    raw = b'{"received_at": "2026-12-01T10:00:00+05:00", "applicant": {"kind": "legal_entity", "kind": "individual"}}'
    headers = {"X-API-Key": keys.staff, "Content-Type": "application/json"}
    r = await http.post(START, content=raw, headers=headers)
    assert r.status_code == 422 and "names 'kind' twice" in r.json()["detail"], r.text
    assert key_given_twice(b'{"a": 1, "b": {"a": 2}}') is None and key_given_twice(b"[{}, {}]") is None
    assert key_given_twice(b'[{"x": 1, "x": 1}]') == "x" and key_given_twice(b"not json") is None


async def test_a_validation_problem_lists_at_most_20_errors(http: httpx.AsyncClient, keys: Keys) -> None:
    from datetime import UTC, datetime

    body = application(datetime.now(UTC), attachments=[{"kind": "unknown", "pages": 0}] * 30)  # 2 errors each
    r = await http.post(START, json=body, headers={"X-API-Key": keys.staff})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert len(problem["errors"]) == MAX_ERRORS == 20
    assert f"the first {MAX_ERRORS} of 60 errors are listed" in problem["detail"]
    assert problem["errors"][0]["loc"] == "body.attachments.0.kind"


async def test_a_body_nested_beyond_reason_is_an_invalid_body(api_app: FastAPI, keys: Keys) -> None:
    """100,000 nested ``[`` were answered 400 "There was an error parsing the body" (FastAPI, its parser's recursion)
    where every other invalid body is 422 (an adversarial run of 2026-12-03)."""
    status, body, _ = await call(api_app, [(b"x-api-key", keys.staff.encode())], [b"[" * 100_000])
    problem = json.loads(body)
    assert status == 422 and problem["status"] == 422 and "nested too deeply" in problem["detail"], body[:300]
