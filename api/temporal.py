"""The API's Temporal client, connected lazily so the API starts (and answers 503) while Temporal starts,
and the one mapping of Temporal's errors to problem documents."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError, FailureError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import ProblemError
from rules.text import Sentence

__all__ = ["CONFLICT_TYPES", "TEMPORAL_ERRORS", "Gateway", "problem_from_temporal", "worker_unavailable"]

log = logging.getLogger("api")

# Validators that refuse an event because of the case's state raise ApplicationError with one of these
# types (or these exception classes); every other refusal is about the payload (422).
CONFLICT_TYPES = frozenset(
    {"EventDoesNotFit", "EventNotAllowed", "InvalidState", "WrongState", "Conflict", "CaseClosed"}
)

TEMPORAL_ERRORS = (WorkflowUpdateFailedError, WorkflowQueryFailedError, RPCTimeoutOrCancelledError, RPCError)
"""What the client raises that ``problem_from_temporal`` answers."""

# What the server says when a query or an Update found no worker to run it (dev server 1.32: FAILED_PRECONDITION).
_NO_WORKER = ("worker may be down", "no poller")


def worker_unavailable(what: str = "case") -> ProblemError:
    """503: the case cannot answer now because no worker runs it (stopped, restarting, too busy to answer within
    ``KZ_QUERY_TIMEOUT_SECONDS``, or failing its task)."""
    return ProblemError(
        503,
        f"the {what} cannot answer now: the worker may be down, restarting or busy; retry in a while",
        headers={"Retry-After": "30"},
    )


class Gateway:
    """Holds the client; connects on first use and again after a failed attempt."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[Client]] | None = None,
        *,
        client: Client | None = None,
        timeout: float = 5.0,
    ) -> None:
        self._connect = connect
        self._client = client
        self._timeout = timeout
        self._lock: asyncio.Lock | None = None

    async def client(self) -> Client:
        """The connected client, or a 503 problem when Temporal cannot be reached now."""
        if self._client is not None:
            return self._client
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._client is None:
                connect = self._connect or _default_connect
                try:
                    self._client = await asyncio.wait_for(connect(), self._timeout)
                except (RuntimeError, OSError, TimeoutError) as exc:
                    log.warning("Temporal not reachable: %s", exc.__class__.__name__)
                    raise ProblemError(
                        503, "Temporal is not reachable yet; retry in a few seconds", headers={"Retry-After": "5"}
                    ) from None
        return self._client


async def _default_connect() -> Client:
    from infra.client import connect

    return await connect()


def problem_from_temporal(exc: Exception, *, what: str = "case") -> ProblemError:
    """A problem document for an error of the Temporal client (deliberately mapped, never a 500).

    The case being unable to answer because no worker takes its tasks (a query or an Update timing out, the
    server's "no poller seen … worker may be down", a query failing in a broken workflow task) is a 503 with
    ``Retry-After``: it will pass when a worker is back, and says nothing about the case's state."""
    if isinstance(exc, RPCTimeoutOrCancelledError | WorkflowQueryFailedError):
        return worker_unavailable(what)
    if isinstance(exc, WorkflowUpdateFailedError):
        cause = exc.cause
        message = (getattr(cause, "message", None) or str(cause) or "refused").strip()
        kind = cause.type if isinstance(cause, ApplicationError) else cause.__class__.__name__
        if isinstance(cause, ApplicationError) and cause.details:  # a sentence (workflows.refusals): said later
            said = Sentence.from_data(cause.details[0])
            message = said if said is not None and said == message else message
        status = 409 if kind in CONFLICT_TYPES else 422
        kind_urn = "conflict" if status == 409 else "refused"
        return ProblemError(status, message, type_=f"urn:kz-procedures:problem:{kind_urn}")
    if isinstance(exc, RPCError):
        if exc.status is RPCStatusCode.NOT_FOUND:
            if any(word in exc.message.lower() for word in ("completed", "closed", "closing")):  # "aborted by closing"
                return ProblemError(409, f"the {what} is closed: it accepts no more events")
            return ProblemError(404, f"no such {what}")
        if exc.status is RPCStatusCode.FAILED_PRECONDITION:
            if any(words in exc.message.lower() for words in _NO_WORKER):
                return worker_unavailable(what)
            return ProblemError(409, f"the {what} cannot take this now: {exc.message}")
        if exc.status is RPCStatusCode.INVALID_ARGUMENT:
            return ProblemError(422, f"Temporal refused the request: {exc.message}")
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
            return ProblemError(503, "Temporal is not reachable now; retry", headers={"Retry-After": "5"})
        if exc.status is RPCStatusCode.UNIMPLEMENTED:  # e.g. listing on the time-skipping test server
            return ProblemError(
                501, "this Temporal server does not offer that (visibility listing needs the dev server or a cluster)"
            )
        if exc.status is RPCStatusCode.ALREADY_EXISTS:
            return ProblemError(409, f"the {what} exists already")
        log.warning("Temporal RPC error %s", exc.status.name if exc.status else "?")
        return ProblemError(502, "Temporal answered with an error")
    if isinstance(exc, FailureError):
        return ProblemError(409, f"the {what} could not answer: {exc.message}")
    raise exc
