"""A head-office compliance officer in a real browser (headless Chromium): password and TOTP
code, a branch's callback with the customer's own words, the full number revealed, and no
way to claim or record an outcome; the view and the reveal are in the record under their
name. A screenshot of the callback page is saved under tests/e2e/screenshots/."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pyotp
from sqlmodel import col, select

from bot.bootstrap import App
from bot.db.models import Callback, Event
from bot.service.admin import mfa
from bot.service.admin.staff import add_staff
from bot.web.app import create_app
from tests.e2e.browser import act, browser, screenshot, served, wait_for
from tests.e2e.test_console_browser import MONDAY_TEN, Clock, _click, _fill, _seed

__all__ = ["browser", "served"]  # fixtures
PASSWORD = "compliance-horse-1"


async def _compliance_officer(app: App) -> str:
    """`li`, compliance at head office (no branch), enrolled in TOTP a day ago; the secret."""
    secret = mfa.new_secret()
    a_day_ago = MONDAY_TEN - timedelta(days=1)
    async with app.sessions() as s:
        li = await add_staff(s, "li", "compliance", None, False, PASSWORD, actor="test")
        await mfa.confirm_enrolment(s, li, secret, pyotp.TOTP(secret).at(a_day_ago), a_day_ago)
        await s.commit()
    return secret


async def _outcome_status(driver: Any, callback_id: int) -> int:
    """What the server answers an outcome posted from this page anyway (no form offered)."""
    script = """
        const done = arguments[arguments.length - 1];
        const body = new URLSearchParams({
            csrf_token: document.querySelector("input[name=csrf_token]").value,
            result: "resolved", dialled: "13812345678", identity: "customer",
            recording_ref: "REC-1"});
        fetch(arguments[0], {method: "POST", body}).then(r => done(r.status));
    """
    return int(await act(driver.execute_async_script, script,
                         f"/console/callbacks/{callback_id}/outcome"))


async def test_head_office_compliance_reads_and_reveals_but_cannot_work_a_callback(
        app: App, browser: Any, served: Callable[[Any], Any]) -> None:
    ids = await _seed(app)
    secret = await _compliance_officer(app)
    web = create_app(app)
    clock = Clock()
    web.state.console.clock = clock
    base = await served(web)

    await act(browser.get, f"{base}/console/login")
    await _fill(browser, "username", "li")
    await _fill(browser, "password", PASSWORD)
    await _click(browser, "form.card button[type=submit]")
    await wait_for(browser, "input[name=code]")
    assert browser.current_url.startswith(f"{base}/console/login/totp")
    await _fill(browser, "code", pyotp.TOTP(secret).at(clock.now))
    await _click(browser, "form.card button[type=submit]")
    assert "li" in (await wait_for(browser, ".signed-in")).text

    await act(browser.get, f"{base}/console/callbacks/{ids['A']}")  # a branch's P0
    words = await wait_for(browser, "#message-in-A .text")
    assert words.text == "不是我转的钱，我从来没操作过！"
    note = await wait_for(browser, "#view-only")
    assert note.text == "您的角色可以查看回访，但不能领取回访或登记回访结果。"
    assert await act(browser.find_elements, "css selector", "#outcome-form") == []
    await _click(browser, "#reveal")
    phone = await wait_for(browser, "#phone .revealed")
    assert phone.text == "+8613812345678"
    await screenshot(browser, "console-compliance-callback")
    assert await _outcome_status(browser, ids["A"]) == 422  # refused: not held by them

    await act(browser.get, f"{base}/console/queue")
    await wait_for(browser, "table.queue")
    assert await act(browser.find_elements, "css selector", "#claim-next") == []

    async with app.sessions() as s:
        callback = await s.get(Callback, ids["A"])
        record = (await s.exec(select(Event).where(Event.customer_id == "A").where(
            col(Event.type).in_(("callback.viewed", "contact.revealed"))))).all()
    assert callback is not None and (callback.status, callback.assignee_id) == ("open", None)
    assert {e.type for e in record} == {"callback.viewed", "contact.revealed"}
    assert {e.actor for e in record} == {"li"}
    assert all(json.loads(e.payload or "{}")["callback_id"] == ids["A"] for e in record)
    assert all("13812345678" not in e.summary + (e.payload or "") for e in record)
