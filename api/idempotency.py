"""``Idempotency-Key`` on case creation and events: the first response is stored (keys hashed) and
replayed to every retry of the same request; the same key with another body is refused (422).

The key is scoped to the calling API key, the method and the route, so two clients cannot collide.
Temporal adds a second guard underneath: the Update id is derived from the key, so even a lost record
cannot make a case take the same event twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError

from api.auth import Principal
from api.problems import PROBLEM_JSON, ProblemError
from infra.db import session
from models.tables import IdempotencyRecord

__all__ = ["HEADER", "Idempotency"]

HEADER = "Idempotency-Key"
_VALID = re.compile(r"^[\x21-\x7e]{1,255}$")


def _sha(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(4, "big") + p)
    return h.hexdigest()


class Idempotency:
    """One request's idempotency state: look up before acting, save after."""

    def __init__(self, request: Request, principal: Principal, key: str | None, body: bytes) -> None:
        self.key = key
        if key is not None and not _VALID.match(key):
            raise ProblemError(422, f"{HEADER} must be 1 to 255 visible ASCII characters")
        self.scope = _sha(
            principal.key_id.encode(), request.method.encode(), request.url.path.encode(), (key or "").encode()
        )
        self.request_hash = _sha(body)

    @property
    def update_id(self) -> str | None:
        """A Temporal Update id derived from the key (Temporal de-duplicates Updates by id)."""
        return f"idem-{self.scope[:32]}" if self.key else None

    def replay(self) -> Response | None:
        """The stored response to this request, or None when it is new."""
        if self.key is None:
            return None
        with session() as s:
            rec = s.get(IdempotencyRecord, self.scope)
        if rec is None:
            return None
        if rec.request_sha256 != self.request_hash:
            raise ProblemError(
                422,
                f"this {HEADER} was used with a different request body; use a new key",
                type_="urn:kz-procedures:problem:idempotency-key-reused",
            )
        return self._response(rec)

    def save(self, status: int, body: Any, location: str | None = None) -> Response:
        """Store the response (when a key was given) and return it; a concurrent twin's stored one wins."""
        text = json.dumps(body, separators=(",", ":"), default=str)
        if self.key is not None and status < 500:
            try:
                with session() as s:
                    s.add(
                        IdempotencyRecord(
                            key_sha256=self.scope,
                            request_sha256=self.request_hash,
                            status_code=status,
                            body=text,
                            location=location,
                        )
                    )
            except IntegrityError:
                replayed = self.replay()
                if replayed is not None:
                    return replayed
        return self._make(status, text, location, replayed=False)

    def _response(self, rec: IdempotencyRecord) -> Response:
        return self._make(rec.status_code, rec.body, rec.location, replayed=True)

    @staticmethod
    def _make(status: int, text: str, location: str | None, *, replayed: bool) -> Response:
        headers = {"Location": location} if location else {}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        media = PROBLEM_JSON if status >= 400 else "application/json"
        return JSONResponse(json.loads(text), status_code=status, headers=headers, media_type=media)
