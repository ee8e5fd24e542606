"""``Idempotency-Key`` on case creation and events: a retry gets what its request's first attempt got, whatever
happened in between (the API killed after the case took the event, two copies of one request at once).

The key is scoped to the calling API key, the method and the route (one SHA-256 of the four), so two clients
cannot collide. The answer is rebuilt from the case, never kept:

- an event's Update id is derived from the key. Temporal applies an Update id once in a run and keeps its
  outcome, also after the run closed; a retry that the checks before the Update would refuse (the event moved
  the case on, or closed it) is answered with that outcome (``infra.cases.send_event``);
- a start names its request (a token of the same hash) in the memo of the case it opens, so a retry finds the
  case it opened and answers ``opened`` again; a start carrying an Update answers with that Update's outcome.

``idempotency_records`` binds the key to the request's digest (the same key with another body is 422) and, once
an attempt succeeded, says where its answer lies: status, case, run, Update id, a start's answer. Never a body
(requests and answers carry personal data), and never a refusal: a refused request (404, 409, 422, 5xx) may be
retried with the same key and is decided again. What was refused never reached the case, and a refusal that
depended on the moment (a case still busy, a term not yet reached, the worker down) must not become the key's
answer for good. Records are purged after ``KZ_IDEMPOTENCY_HOURS`` (24 h).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete
from temporalio.client import Client

from api.auth import Principal
from api.cases import CaseRef, EventResult, case_ref
from api.problems import ProblemError
from api.temporal import TEMPORAL_ERRORS, problem_from_temporal
from infra.cases import update_outcome
from infra.db import session
from infra.settings import settings
from models.procedure import EventSpec, ProcedureSpec
from models.tables import IdempotencyRecord

__all__ = ["HEADER", "Idempotency", "purge_expired", "replayed_event", "replayed_start"]

HEADER = "Idempotency-Key"
_VALID = re.compile(r"^[\x21-\x7e]{1,255}$")
_PURGE_EVERY = timedelta(minutes=5)
_last_purge = datetime.min.replace(tzinfo=UTC)


def _sha(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(4, "big") + p)
    return h.hexdigest()


def _canonical(body: bytes) -> bytes:
    """The request's JSON in one form (keys sorted, no spacing), so that a client library that serialises a retry
    anew (other key order, indentation) sends the same request; a body that is no JSON as it came."""
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        return body


def _ttl() -> timedelta:
    return timedelta(hours=settings().idempotency_hours)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite gives back naive UTC


def purge_expired(now: datetime | None = None) -> None:
    """Delete the records older than ``KZ_IDEMPOTENCY_HOURS``."""
    global _last_purge
    now = now or datetime.now(UTC)
    _last_purge = now
    with session() as s:
        s.exec(delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < now - _ttl()))


class Idempotency:
    """One request's idempotency: claim the key before acting, record the success after."""

    def __init__(self, request: Request, principal: Principal, key: str | None, body: bytes) -> None:
        self.key = key
        if key is not None and not _VALID.match(key):
            raise ProblemError(422, f"{HEADER} must be 1 to 255 visible ASCII characters")
        self.scope = _sha(
            principal.key_id.encode(), request.method.encode(), request.url.path.encode(), (key or "").encode()
        )
        self.request_hash = _sha(_canonical(body))
        self._raw_hash = _sha(body)  # how records made before the canonical form hashed the same request
        self.retry = False
        """Whether an attempt of this request came before (set by ``claim``)."""

    @property
    def update_id(self) -> str | None:
        """The Update id (and a start's request token) derived from the key; None without a key."""
        return f"idem-{self.scope[:32]}" if self.key else None

    def claim(self) -> IdempotencyRecord | None:
        """The key's record: made now for a new request, or found for a retry of the same one (then ``retry``);
        422 when the key came with another body. None without a key."""
        if self.key is None:
            return None
        now = datetime.now(UTC)
        if now - _last_purge > _PURGE_EVERY:
            purge_expired(now)
        try:
            with session() as s:
                rec = s.get(IdempotencyRecord, self.scope)
                if rec is None or _aware(rec.created_at) < now - _ttl():  # new, or a key used again after expiry
                    fresh = IdempotencyRecord(key_sha256=self.scope, request_sha256=self.request_hash, created_at=now)
                    if rec is not None:
                        s.delete(rec)
                        s.flush()
                    s.add(fresh)
                    return fresh
        except IntegrityError:  # a twin of this request claimed it a moment ago
            with session() as s:
                rec = s.get(IdempotencyRecord, self.scope)
            if rec is None:
                raise ProblemError(
                    503, "the request could not be recorded; retry", headers={"Retry-After": "1"}
                ) from None
        if rec.request_sha256 not in (self.request_hash, self._raw_hash):
            raise ProblemError(
                422,
                f"this {HEADER} was used with a different request body; use a new key",
                type_="urn:kz-procedures:problem:idempotency-key-reused",
            )
        self.retry = True
        return rec

    def succeeded(
        self,
        status: int,
        *,
        case_id: str,
        run_id: str | None,
        update_id: str | None,
        answer: str | None = None,
    ) -> None:
        """Record where the answer of this request lies (nothing without a key)."""
        if self.key is None:
            return
        with session() as s:
            rec = s.get(IdempotencyRecord, self.scope) or IdempotencyRecord(
                key_sha256=self.scope, request_sha256=self.request_hash
            )
            rec.status_code, rec.case_id, rec.run_id = status, case_id, run_id
            rec.update_id, rec.answer = update_id, answer
            s.add(rec)

    @staticmethod
    def respond(status: int, body: BaseModel, *, location: str | None = None, replayed: bool = False) -> JSONResponse:
        headers = {"Location": location} if location else {}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


async def replayed_start(client: Client, spec: ProcedureSpec, inp: BaseModel, rec: IdempotencyRecord) -> CaseRef:
    """The answer of the start ``rec`` records (of ``inp``, the same body), rebuilt from the case: the outcome of
    the Update it carried."""
    assert rec.case_id is not None and rec.answer is not None
    result = None
    if rec.update_id is not None and spec.start.with_update is not None:
        update, _, _ = spec.start.with_update(inp)
        try:
            _, result = await update_outcome(
                client, rec.case_id, rec.update_id, run_id=rec.run_id, result_type=spec.event(update).result_model
            )
        except TEMPORAL_ERRORS as exc:
            raise problem_from_temporal(exc) from None
    return case_ref(spec, rec.case_id, rec.answer, result, rec.run_id, rec.update_id)


async def replayed_event(client: Client, event: EventSpec, rec: IdempotencyRecord) -> EventResult:
    """The answer of the event ``rec`` records: the Update's outcome, from the case."""
    assert rec.case_id is not None and rec.update_id is not None
    try:
        _, result = await update_outcome(client, rec.case_id, rec.update_id, run_id=rec.run_id)
    except TEMPORAL_ERRORS as exc:
        raise problem_from_temporal(exc) from None
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json")
    return EventResult(case_id=rec.case_id, event=event.name, result=result, run_id=rec.run_id)
