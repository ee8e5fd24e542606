"""What the HTTP adapters share: one client per adapter, and an HTTP answer turned into a retryable or a
non-retryable ``ApplicationError``.

Error messages carry the system, the HTTP status and its reason phrase, never the request's or the answer's
body: those may hold a phone number or a one-time code, and failures are shown on the console.
"""

from __future__ import annotations

import httpx
from temporalio.exceptions import ApplicationError

__all__ = ["RETRYABLE_STATUS", "client", "refused_type", "transport_failure", "unavailable_type", "unwanted_answer"]

RETRYABLE_STATUS = frozenset({408, 425, 429})
"""4xx answers that mean "not now" (timeout, too early, too many requests); every 5xx is retryable too."""


def unavailable_type(system: str) -> str:
    """The error type while ``system`` is down, e.g. ``SmsGatewayUnavailable`` (as for rehearsal outages)."""
    return "".join(p.capitalize() for p in system.split("_")) + "Unavailable"


def refused_type(system: str) -> str:
    """The error type when ``system`` refuses a request for good, e.g. ``SmsGatewayRefused``."""
    return "".join(p.capitalize() for p in system.split("_")) + "Refused"


def client(*, timeout: float, token: str = "") -> httpx.Client:
    """A client for one system: a per-request timeout and, if given, a bearer token on every request."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(timeout=timeout, headers=headers)


def transport_failure(system: str, exc: httpx.TransportError) -> ApplicationError:
    """The system could not be reached or did not answer in time: retryable."""
    return ApplicationError(
        f"{system.replace('_', ' ')} unavailable ({type(exc).__name__})", type=unavailable_type(system)
    )


def unwanted_answer(system: str, response: httpx.Response) -> ApplicationError:
    """An answer the adapter cannot take as a result: retryable for 5xx and 408/425/429, else a refusal."""
    status = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    if response.status_code >= 500 or response.status_code in RETRYABLE_STATUS:
        return ApplicationError(f"{system.replace('_', ' ')} unavailable ({status})", type=unavailable_type(system))
    return ApplicationError(
        f"{system.replace('_', ' ')} refuses the request ({status})", type=refused_type(system), non_retryable=True
    )
