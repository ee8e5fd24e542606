"""Applications and polling shared by the API, console and browser tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from rules.calendar import ALMATY

IIN = "900101300126"  # check digit worked by hand in tests/rules/test_identifiers.py
PHONE = "+77011234567"
T = TypeVar("T")


def application(now: datetime, **overrides: Any) -> dict[str, Any]:
    """A valid application received a moment ago; a random second keeps each test's case its own."""
    received = (now - timedelta(seconds=uuid.uuid4().int % 3000 + 60)).astimezone(ALMATY)
    body: dict[str, Any] = {
        "applicant": {"kind": "individual", "iin": IIN, "name": "Асан Серікұлы"},
        "phone": PHONE,
        "received_at": received.isoformat(),
        "attachments": [{"kind": "charter", "pages": 3}],
    }
    body.update(overrides)
    return body


async def eventually(fn: Callable[[], Awaitable[T]], ok: Callable[[T], bool], seconds: float = 20) -> T:
    """Poll ``fn`` until ``ok`` holds (activities run in real time), failing with the last value."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await fn()
        if ok(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached in {seconds}s; last value: {value!r}")
        await asyncio.sleep(0.3)
