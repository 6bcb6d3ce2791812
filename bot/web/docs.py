"""`/docs` and `/openapi.json`: for signed-in console users unless OUTREACH_DOCS_PUBLIC (the
API itself keeps its bearer tokens; the docs only describe it, but need not be public)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from bot.web.console.deps import console_now, current_console_staff
from bot.web.deps import context


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
async def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="outreach-bot API")
