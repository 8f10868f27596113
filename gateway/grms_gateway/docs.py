"""API documentation at `/docs`: Swagger UI served from the `swagger-ui-py` wheel's files, never a CDN."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS_URL", "install_docs", "swagger_assets_dir"]

ASSETS_URL = "/docs/assets"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"


def swagger_assets_dir() -> Path:
    """The Swagger UI dist directory shipped inside the swagger-ui-py package (found without importing it)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed; it ships the Swagger UI files /docs serves")
    path = Path(next(iter(spec.submodule_search_locations))) / "static"
    if not (path / "swagger-ui-bundle.js").exists():
        raise RuntimeError(f"Swagger UI files not found in {path}")
    return path


def install_docs(app: FastAPI) -> None:
    """Serve `/docs` and its assets locally; `/openapi.json` stays FastAPI's own."""
    app.mount(ASSETS_URL, StaticFiles(directory=swagger_assets_dir()), name="swagger-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url="/favicon.svg",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            # No validator badge: it would call an outside server.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
