"""Security headers on every response: what a browser may load, frame, sniff and send as referrer.

- the API (JSON) and everything else: nothing may be loaded or framed (``default-src 'none'``);
- console pages: their own stylesheet and inline ``<style>`` blocks carrying the page's nonce, forms posting
  to the console only, no scripts at all (``console_csp``, set by each page; the default applies otherwise);
- a case's documents: shown sandboxed (no scripts, no forms, no same-origin), their inline style allowed;
- the OpenAPI browser (``/v1/docs``, ``api.docs``): Swagger UI's files from this origin and the page's one inline
  script (its nonce); nothing from another host, so it works offline.
Everywhere: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``, ``X-Frame-Options: DENY``
(older browsers), ``Cache-Control: no-store`` (answers carry personal data), HSTS when served over HTTPS.
A response that sets one of these itself keeps its own value.
"""

from __future__ import annotations

import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["API_CSP", "DOCUMENT_CSP", "SecurityHeaders", "console_csp", "docs_csp", "new_nonce"]

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCUMENT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'; sandbox"
)
_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def new_nonce() -> str:
    """A fresh nonce for one page's inline ``<style>`` blocks."""
    return secrets.token_urlsafe(18)


def console_csp(nonce: str) -> str:
    """The policy of a console page whose inline styles carry ``nonce``."""
    return (
        f"default-src 'none'; style-src 'self' 'nonce-{nonce}'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def docs_csp(nonce: str) -> str:
    """The policy of the OpenAPI browser: its scripts and stylesheet from this origin, its inline script by
    ``nonce``; Swagger UI sets element styles itself (``'unsafe-inline'`` for styles only) and shows SVG icons as
    ``data:`` images; it fetches the schema and, on "Try it out", the API from this origin."""
    return (
        f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


class SecurityHeaders:
    """Adds the headers above to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = API_CSP
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _COMMON.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", csp)
                if https:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, with_headers)
