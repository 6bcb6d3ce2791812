"""`/docs` and `/openapi.json`: Swagger UI from our own server (staff browsers have no
internet, so no CDN), for signed-in console users unless OUTREACH_DOCS_PUBLIC (the API
itself keeps its bearer tokens; the docs only describe it, but need not be public).

The Swagger UI files come from the `fastapi-offline` package's static folder; we serve them
under `/docs/assets/` and build the page ourselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from bot.web.console.deps import console_now, current_console_staff
from bot.web.deps import context

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs/assets"


async def docs_access(request: Request) -> None:
    """Public docs, or a console session (→ login page); 401 where no console is served."""
    if context(request).app.settings.docs_public:
        return
    if not hasattr(request.app.state, "console"):
        raise HTTPException(401, "sign in to the console to read the API docs")
    await current_console_staff(request, console_now(request))


router = APIRouter(include_in_schema=False, dependencies=[Depends(docs_access)])


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    schema: dict[str, Any] = request.app.openapi()
    return JSONResponse(schema)


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui() -> HTMLResponse:
    """Swagger UI for the JSON API; "Authorize" takes a bearer token."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json", title="outreach-bot API",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        swagger_ui_parameters={"persistAuthorization": True})


def install(web: FastAPI) -> None:
    """Serve the docs page, the schema and Swagger UI's files from this app."""
    web.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    web.include_router(router)
