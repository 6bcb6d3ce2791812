"""An agent works the queue in a real browser (headless Chromium): log in, the P0 first,
the customer's words, reveal, no answer → back at the next call window, then resolved.
A screenshot of each page is saved under tests/e2e/screenshots/."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from bot.bootstrap import App
from bot.db.models import Branch, Callback, Customer, Event, Message
from bot.service.admin.staff import add_staff
from bot.web.app import create_app
from tests.e2e.browser import act, browser, screenshot, served, wait_for

__all__ = ["browser", "served"]  # fixtures
MONDAY_TEN = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai; calls 14:30–17:00


class Clock:
    def __init__(self) -> None:
        self.now = MONDAY_TEN

    def __call__(self) -> datetime:
        return self.now


async def _seed(app: App) -> dict[str, int]:
    ids = {}
    async with app.sessions() as s:
        s.add(Branch(code="SH01", name="上海浦东南路营业部", recording_ref_required=True))
        await s.flush()
        await add_staff(s, "wang", "agent", "SH01", False, "correct-horse-1", actor="test")
        for cid, priority, reason, name in (("A", "P0", "not_me", "张三"),
                                            ("B", "P2", "negative", "李四")):
            s.add(Customer(id=cid, name=name, branch_code="SH01", phone="+8613812345678",
                           salutation="先生"))
            await s.flush()
            callback = Callback(customer_id=cid, branch_code="SH01", priority=priority,
                                reasons=json.dumps([reason]),
                                sla_due_at=MONDAY_TEN + timedelta(hours=1 if cid == "A" else 30))
            s.add(callback)
            await s.flush()
            ids[cid] = callback.id
        s.add(Message(id="in-A", direction="in", customer_id="A", channel="sms",
                      address="+8613812345678", body="不是我转的钱，我从来没操作过！",
                      status="received", intent="not_me", confidence=0.95,
                      created_at=MONDAY_TEN - timedelta(minutes=10)))
        await s.commit()
    return ids


async def _sign_in(driver: Any, base: str, shot: bool = False) -> None:
    await act(driver.get, f"{base}/console/login")
    await _fill(driver, "username", "wang")
    await _fill(driver, "password", "correct-horse-1")
    if shot:
        await screenshot(driver, "console-login")
    await _click(driver, "form.card button[type=submit]")
    await wait_for(driver, ".signed-in")


async def _fill(driver: Any, name: str, value: str) -> None:
    element = await act(driver.find_element, "name", name)
    if element.tag_name == "select":
        from selenium.webdriver.support.ui import Select

        await act(Select(element).select_by_value, value)
    else:
        await act(element.clear)
        await act(element.send_keys, value)


async def _click(driver: Any, css: str) -> None:
    await act((await act(driver.find_element, "css selector", css)).click)


async def _first_row(driver: Any) -> str:
    row = await wait_for(driver, "table.queue tbody tr")
    return str(await act(row.get_attribute, "data-callback"))


async def test_an_agent_works_a_p0_in_the_browser(app: App, browser: Any,
                                                  served: Callable[[Any], Any]) -> None:
    ids = await _seed(app)
    web = create_app(app)
    clock = Clock()
    web.state.console.clock = clock
    base = await served(web)

    await _sign_in(browser, base, shot=True)
    await act(browser.get, f"{base}/console/queue")
    assert await _first_row(browser) == str(ids["A"])  # the P0 first
    await screenshot(browser, "console-queue")

    await _click(browser, "#claim-next")
    words = await wait_for(browser, "#message-in-A .text")
    assert words.text == "不是我转的钱，我从来没操作过！"
    await _click(browser, "#reveal")
    phone = await wait_for(browser, "#phone .revealed")
    assert phone.text == "+8613812345678"
    await screenshot(browser, "console-callback")

    await _fill(browser, "result", "no_answer")
    await _fill(browser, "dialled", "13812345678")
    await _click(browser, "#save-outcome")
    await wait_for(browser, ".notice")
    clock.now = MONDAY_TEN + timedelta(minutes=5)  # still before Monday's call window
    await _click(browser, "#claim-next")
    await wait_for(browser, "#message-in-A, .conversation")
    assert f"/callbacks/{ids['B']}" in browser.current_url  # A waits for its window
    await _click(browser, "form[action$='/release'] button")
    await wait_for(browser, "table.queue")

    clock.now = MONDAY_TEN + timedelta(hours=4, minutes=31)  # 14:31: the window is open
    await _sign_in(browser, base)  # hours later: the idle session has ended
    await act(browser.get, f"{base}/console/queue")
    await _click(browser, "#claim-next")
    await wait_for(browser, "#message-in-A")
    assert f"/callbacks/{ids['A']}" in browser.current_url
    await _fill(browser, "result", "resolved")
    await _fill(browser, "dialled", "13812345678")
    await _fill(browser, "recording_ref", "REC-2026-1207-01")
    await _fill(browser, "identity", "customer")
    await _fill(browser, "notes", "客户确认为本人操作，已提醒注意账户安全")
    await screenshot(browser, "console-outcome-form")
    await _click(browser, "#save-outcome")
    await wait_for(browser, ".notice")
    await screenshot(browser, "console-saved")

    async with app.sessions() as s:
        done = await s.get(Callback, ids["A"])
        reveals = (await s.exec(select(Event).where(Event.type == "contact.revealed"))).all()
    assert done is not None and (done.status, done.outcome) == ("done", "resolved")
    assert [e.actor for e in reveals] == ["wang"]
