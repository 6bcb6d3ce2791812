"""`/docs`: Swagger UI from our own server (staff browsers have no internet, so no CDN).

The Swagger UI files come from the `fastapi-offline` package's static folder; we serve them
under `/docs/assets/` and build the page ourselves.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs/assets"

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    """Swagger UI for the JSON API; "Authorize" takes a bearer token."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json", title="outreach-bot API",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        swagger_ui_parameters={"persistAuthorization": True})


def install(web: FastAPI) -> None:
    """Serve the docs page and its assets from this app."""
    web.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    web.include_router(router)
