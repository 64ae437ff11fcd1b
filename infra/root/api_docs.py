"""The API's documentation: /openapi.json as the surfaces really answer, and /docs and /redoc.

The pages load Swagger UI and ReDoc from the fastapi-offline package, never from a CDN, so
they work on machines that reach nothing outside.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

from api.problem import Problem

_ASSETS = Path(fastapi_offline.__file__).parent / "static"
_ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
_ASSETS_PATH = "/docs/assets"
_OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def install_api_docs(app: FastAPI) -> None:
    """For an app made with docs_url=None and redoc_url=None."""
    app.include_router(_pages(app.title, app.openapi_url or "/openapi.json"))
    generate = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            _drop_fastapi_validation_errors(generate())
        return app.openapi_schema or {}

    app.openapi = document  # type: ignore[method-assign]


def _pages(title: str, openapi_url: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{_ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{_ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{_ASSETS_PATH}/favicon.png",
            oauth2_redirect_url=_OAUTH2_REDIRECT,
        )

    @router.get(_OAUTH2_REDIRECT)
    async def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{_ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{_ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )

    @router.get(_ASSETS_PATH + "/{name}")
    async def asset(name: str) -> FileResponse:
        media_type = _ASSET_TYPES.get(name)
        if media_type is None:
            raise Problem(404, "no such documentation asset")
        return FileResponse(
            _ASSETS / name,
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return router


def _drop_fastapi_validation_errors(document: dict[str, Any]) -> None:
    """FastAPI documents a 422 for every route with parameters; every surface answers invalid
    input with its own 400 instead, which the routes document."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            schema = responses.get("422", {}).get("content", {}).get("application/json", {})
            if schema.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                del responses["422"]
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
