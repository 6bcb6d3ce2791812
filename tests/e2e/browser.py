"""A real headless Chromium (Debian's `chromium` + `chromium-driver`) for console tests.

Selenium is blocking and the app under test runs in the test's own event loop, so every
browser call goes through `act` (a worker thread) and the server keeps answering. Without
Chromium the tests skip, unless OUTREACH_REQUIRE_BROWSER is set (CI sets it: a missing
browser there is a failure, not a skip).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

SCREENSHOTS = Path(__file__).parent / "screenshots"
T = TypeVar("T")


def _chromium() -> tuple[str, str] | None:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (binary, driver) if binary and driver else None


@pytest.fixture
def browser() -> Iterator[Any]:
    """A fresh headless Chromium with an empty profile, closed after the test."""
    found = _chromium()
    if found is None:
        if os.environ.get("OUTREACH_REQUIRE_BROWSER"):
            pytest.fail("chromium and chromedriver are required (apt-get install chromium "
                        "chromium-driver fonts-noto-cjk)")
        pytest.skip("no chromium/chromedriver on this machine")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = found
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    profile = tempfile.mkdtemp(prefix="outreach-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic",
                 "--window-size=1280,900", "--lang=zh-CN", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


async def act(call: Callable[..., T], *args: Any) -> T:
    """Run one blocking browser call off the event loop (the server under test lives on it)."""
    return await asyncio.to_thread(call, *args)


async def screenshot(driver: Any, name: str) -> Path:
    """Save a PNG of the page under tests/e2e/screenshots/ and say where."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await act(driver.save_screenshot, str(path))
    print(f"screenshot: {path}")
    return path


async def wait_for(driver: Any, css: str, timeout: float = 15.0) -> Any:
    """The first element matching `css`, once the page shows it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    def find() -> Any:
        return WebDriverWait(driver, timeout).until(
            ec.visibility_of_element_located((By.CSS_SELECTOR, css)))

    return await act(find)


@pytest.fixture
async def served() -> AsyncIterator[Callable[[Any], Any]]:
    """Serve an ASGI app on a free loopback port in this loop; yields `start(asgi) -> base`."""
    import socket

    import uvicorn

    servers: list[tuple[uvicorn.Server, asyncio.Task[None], socket.socket]] = []

    async def start(asgi: Any) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(asgi, log_config=None, lifespan="off"))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        servers.append((server, task, sock))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, task, sock in servers:
        server.should_exit = True
        await task
        sock.close()
