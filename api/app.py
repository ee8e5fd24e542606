"""The FastAPI application: ``/v1`` API, ``/console`` pages and ``/codec`` for the Temporal web UI.

``uvicorn api.app:app`` (``scripts/up.py`` starts it). The Temporal client is connected on first use,
so the API starts while Temporal is still starting and answers 503 until it can reach it.

Outermost first, every request passes: the security headers (``api.headers``), the body limit (``api.limits``:
413 before anything reads a body over 1 MiB), the console's signed cookie (``SessionMiddleware``: ``Secure``
unless ``KZ_SESSION_COOKIE_SECURE=false``; the session itself is kept on the server, ``api.sessions``).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from api.codec import codec_app
from api.console import build_console, error_page
from api.context import AppContext
from api.docs import install_docs
from api.headers import SecurityHeaders
from api.limits import BodyLimit
from api.problems import ProblemError, http_problem, install_handlers
from api.routes import build_router
from api.temporal import Gateway
from infra.keys import read_or_create, require_keys
from infra.settings import settings
from models.procedure import ProcedureSpec
from rules.text import path_shown

__all__ = ["app", "create_app"]

log = logging.getLogger("api")


class _NoQueryString(logging.Filter):
    """uvicorn's access log without query strings (they may carry filters; never personal data in logs), and with a
    path segment that reads as a phone number or an IIN shown as ``…`` (``rules.text.path_shown``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], path_shown(args[2].split("?", 1)[0]), *args[3:])
        return True


def quiet_access_log() -> None:
    """Install the filter once on uvicorn's access logger."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _NoQueryString) for f in access.filters):
        access.addFilter(_NoQueryString())


def session_secret() -> str:
    """``KZ_SESSION_SECRET`` (the same on every API host), else a random secret kept in the data directory
    (owner-only), generated on first use while key generation is on; ``KeyMissing`` names the setting otherwise."""
    env = os.environ.get("KZ_SESSION_SECRET")
    if env:
        return env
    path = settings().data_dir / "session-secret"
    return read_or_create(
        path,
        lambda: secrets.token_urlsafe(48),
        generate=settings().key_generation,
        missing=f"no console session secret: set KZ_SESSION_SECRET or provide {path} (key generation is off: "
        "KZ_KEY_GENERATION=false)",
    )


def _catalogue() -> Mapping[str, ProcedureSpec]:
    from workflows.catalogue import by_key

    return by_key()


def create_app(
    *,
    procedures: Mapping[str, ProcedureSpec] | None = None,
    gateway: Gateway | None = None,
    task_queue: str | None = None,
    secret: str | None = None,
    secure_cookie: bool | None = None,
) -> FastAPI:
    """The application for ``procedures`` (default: every registered one). ``secure_cookie`` (default
    ``KZ_SESSION_COOKIE_SECURE``, true) marks the console's cookie ``Secure``: false only for plain HTTP on
    localhost (``scripts/up.py``, the browser test)."""
    require_keys("api")
    quiet_access_log()
    ctx = AppContext(
        procedures=dict(procedures if procedures is not None else _catalogue()),
        gateway=gateway or Gateway(),
        task_queue=task_queue or settings().task_queue,
    )
    app = FastAPI(
        title="Kazakhstan telecom procedures",
        version="1",
        description="Cases of the telecom procedures of the legal acts, as durable Temporal workflows. "
        "Errors are RFC 9457 problem details (application/problem+json).",
        docs_url=None,  # api.docs serves it, with Swagger UI's files from this origin
        redoc_url=None,
        openapi_url="/v1/openapi.json",
    )
    app.state.ctx = ctx
    install_handlers(app)

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> Response:
        if _wants_console_page(request):
            return error_page(request, exc.status, exc.detail)
        return exc.response(request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_console_page(request):  # an unknown console address, a wrong method: a page, not JSON
            return error_page(request, exc.status_code, exc.detail if isinstance(exc.detail, str) else "")
        return http_problem(exc).response(request.url.path)

    @app.get("/healthz", include_in_schema=False)
    async def health() -> JSONResponse:
        return JSONResponse({"ok": True})

    app.include_router(build_router(ctx))
    install_docs(app)
    build_console(app, ctx)
    app.mount("/codec", codec_app())
    config = settings()
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret or session_secret(),
        session_cookie="kz_console",
        same_site="lax",
        https_only=config.session_cookie_secure if secure_cookie is None else secure_cookie,
        max_age=config.session_max_seconds,
    )
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    _build_routes(app)
    return app


def _wants_console_page(request: Request) -> bool:
    """A browser asking for a console page gets an HTML error page; the API and scripts get problem JSON."""
    return request.url.path.startswith("/console") and "text/html" in request.headers.get("accept", "")


def _build_routes(app: FastAPI) -> None:
    """FastAPI builds the routes of an included router when a request first meets them: a quarter of a second
    for ours, in which the event loop serves nothing else (``/healthz`` waits). Done here, at start."""
    for route in app.router.routes:
        route.matches({"type": "http", "path": "/", "method": "GET", "root_path": "", "headers": []})


app = create_app()
