"""Swagger UI renders in a real browser from our own assets (an intranet has no CDN)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.bootstrap import App, open_app
from bot.web.app import create_app
from tests.e2e.browser import act, browser, screenshot, served, wait_for

__all__ = ["browser", "served"]  # fixtures


async def test_swagger_ui_renders_offline(app: App, browser: Any,
                                         served: Callable[[Any], Any]) -> None:
    public = app.settings.model_copy(update={"docs_public": True})
    async with open_app(public) as opened:
        await _check(opened, browser, served)


async def _check(app: App, browser: Any, served: Callable[[Any], Any]) -> None:
    base = await served(create_app(app))
    await act(browser.get, f"{base}/docs")
    title = await wait_for(browser, ".swagger-ui .info .title")
    assert title.text.startswith("outreach-bot") and "OAS 3.1" in title.text
    operations = await act(browser.find_elements, "css selector", ".opblock-summary-path")
    paths = {await act(lambda e: e.get_attribute("data-path"), op) for op in operations}
    assert "/api/v1/callbacks/{callback_id}/reveal" in paths
    await wait_for(browser, "button.authorize")  # the bearer scheme: "Authorize" works
    await screenshot(browser, "docs")
