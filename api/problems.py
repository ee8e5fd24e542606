"""RFC 9457 problem details: every error of the API is ``application/problem+json`` that says why.

Validation errors list the field and the message only, never the rejected value (it may be an IIN,
a name or a phone number): our validators do not repeat it, and whatever a message still quotes of the value
(a library's message, a validator written later) is cut out here. At most ``MAX_ERRORS`` are listed.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from rules.text import error_loc, error_text, path_shown, without_input

__all__ = [
    "MAX_ERRORS",
    "PROBLEM_JSON",
    "FieldError",
    "Problem",
    "ProblemError",
    "field_errors",
    "http_problem",
    "install_handlers",
    "status_title",
    "without_input",
]

PROBLEM_JSON = "application/problem+json"
MAX_ERRORS = 20
"""A validation problem lists at most this many errors (a body with thousands of bad items gets a short answer)."""
log = logging.getLogger("api")

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
    501: "Not implemented",
    502: "Bad gateway",
    503: "Service unavailable",
}


def status_title(status: int) -> str:
    """The title of an HTTP status (RFC 9110's reason phrase, as problem documents carry it)."""
    return _TITLES.get(status, "Error")


class FieldError(BaseModel):
    """One invalid field: where (dotted path) and why."""

    loc: str
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None
    not_before: datetime | None = None
    """For a ``409`` about an event not possible yet: the instant from which the law allows it, where the case
    knows it (an extension member, RFC 9457 §3.2)."""


class ProblemError(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        type_: str = "about:blank",
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        not_before: datetime | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.type, self.errors, self.headers = status, detail, type_, errors, headers
        self.not_before = not_before

    def problem(self, instance: str | None = None) -> Problem:
        """The problem document; ``instance`` (the request's path) with a number put in it shown as ``…``."""
        return Problem(
            type=self.type,
            title=status_title(self.status),
            status=self.status,
            detail=self.detail,
            instance=path_shown(instance) if instance else instance,
            errors=self.errors,
            not_before=self.not_before,
        )

    def response(self, instance: str | None = None) -> JSONResponse:
        return JSONResponse(
            self.problem(instance).model_dump(mode="json", exclude_none=True),
            status_code=self.status,
            media_type=PROBLEM_JSON,
            headers=self.headers,
        )


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc) or "(body)"


def http_problem(exc: StarletteHTTPException) -> ProblemError:
    """The problem an HTTP exception of the framework stands for. FastAPI answers 400 "There was an error parsing
    the body" when its JSON parser gives up on a body nested beyond reason (100,000 ``[``): that is an invalid body,
    422, as every other one."""
    if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
        return ProblemError(422, "the body is not JSON this API reads: nested too deeply")
    detail = exc.detail if isinstance(exc.detail, str) else ""
    return ProblemError(exc.status_code, detail or status_title(exc.status_code), headers=dict(exc.headers or {}))


def field_errors(
    exc: ValidationError | RequestValidationError, *, drop_prefix: int = 0, limit: int | None = MAX_ERRORS
) -> list[FieldError]:
    """The errors of a validation as (dotted location, message), at most ``limit``; inputs are never included."""
    return [FieldError(loc=_loc(error_loc(e)[drop_prefix:]), msg=error_text(e)) for e in exc.errors()[:limit]]


def install_handlers(app: FastAPI) -> None:
    """Turn every error into a problem document."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return exc.response(request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors, total = field_errors(exc), len(exc.errors())
        detail = "; ".join(f"{e.loc}: {e.msg}" for e in errors[:5]) or "the request is not valid"
        if total > len(errors):
            detail += f" (the first {len(errors)} of {total} errors are listed)"
        return ProblemError(422, detail, errors=errors).response(request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return http_problem(exc).response(request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The class only: messages and tracebacks may carry the inputs (personal data).
        log.error("unexpected %s on %s %s", exc.__class__.__name__, request.method, path_shown(request.url.path))
        return ProblemError(500, "unexpected error; the operator's log names its kind").response(request.url.path)
