"""`/docs` works on an intranet: Swagger UI and its assets come from us, the API declares
its bearer scheme so "Authorize" works."""

from __future__ import annotations

import httpx

from bot.bootstrap import App, open_app
from bot.web.app import create_app


async def test_swagger_ui_is_served_locally_with_the_bearer_scheme(app: App) -> None:
    async with open_app(app.settings.model_copy(update={"docs_public": True})) as public:
        await _check(public)


async def _check(app: App) -> None:
    transport = httpx.ASGITransport(app=create_app(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        page = await client.get("/docs")
        script = await client.get("/docs/assets/swagger-ui-bundle.js")
        css = await client.get("/docs/assets/swagger-ui.css")
        spec = (await client.get("/openapi.json")).json()
    assert page.status_code == 200
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text.replace(
        "https://fastapi.tiangolo.com", "")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert {"get", "post"} <= {m for p, ops in spec["paths"].items()
                               if p.startswith("/api/v1/callbacks/{callback_id}") for m in ops}
