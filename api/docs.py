"""The OpenAPI browser (``/v1/docs``): Swagger UI served by the app itself, so it works with no internet.

The assets (``swagger-ui-bundle.js``, ``swagger-ui.css``, the favicon) come from the ``fastapi-offline`` package on
PyPI (it ships the current Swagger UI build; we use only its files, not its ``FastAPI`` subclass), mounted at
``/v1/docs/static``. The page is FastAPI's own (``get_swagger_ui_html``) with its one inline script given a nonce,
so the page's policy allows scripts from this origin and that script only, nothing from another host.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.headers import docs_csp, new_nonce

__all__ = ["ASSETS", "DOCS", "install_docs"]

DOCS = "/v1/docs"
ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
"""Swagger UI's files as the package ships them."""


def install_docs(app: FastAPI) -> None:
    """``GET /v1/docs`` (the page) and ``/v1/docs/static/…`` (its assets) on ``app``."""
    app.mount(f"{DOCS}/static", StaticFiles(directory=ASSETS), name="docs-static")

    @app.get(DOCS, include_in_schema=False)
    async def docs() -> HTMLResponse:
        nonce = new_nonce()
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/v1/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{DOCS}/static/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS}/static/swagger-ui.css",
            swagger_favicon_url=f"{DOCS}/static/favicon.png",
            oauth2_redirect_url=None,
        )
        html = bytes(page.body).decode().replace("<script>", f'<script nonce="{nonce}">')
        return HTMLResponse(html, headers={"Content-Security-Policy": docs_csp(nonce)})
