"""The console session: CSRF, idle expiry, password change, cookies, language, assets."""

from __future__ import annotations

from sqlmodel import select

from bot.db.models import Staff
from bot.service.admin.staff import verify_password
from tests.integration.console.conftest import (
    PASSWORD,
    Console,
    OpenConsole,
    csrf,
    sign_in,
    signed_in_as,
)

NEW = "a-new-password-2"


async def _wang(console: Console) -> Staff:
    async with console.app.sessions() as s:
        return (await s.exec(select(Staff).where(Staff.username == "wang"))).one()


async def test_posts_without_the_right_csrf_token_are_refused(console: Console) -> None:
    await sign_in(console.client, "wang")
    change = {"current": PASSWORD, "new": NEW, "confirm": NEW}
    for token in ({}, {"csrf_token": "forged"}):
        answer = await console.client.post("/console/password", data={**change, **token})
        assert answer.status_code == 403
    assert verify_password(await _wang(console), PASSWORD)  # nothing changed
    assert await signed_in_as(console.client) == "wang"
    other = await console.browser()
    forged = await other.post("/console/login", data={"username": "wang", "password": PASSWORD})
    assert forged.status_code == 403 and await signed_in_as(other) is None
    logout = await console.client.post("/console/logout")
    assert logout.status_code == 403 and await signed_in_as(console.client) == "wang"


async def test_idle_sessions_expire_and_use_keeps_them_alive(console: Console) -> None:
    await sign_in(console.client, "wang")
    for _ in range(3):
        console.clock.advance(minutes=29)
        assert await signed_in_as(console.client) == "wang"  # each visit counts as activity
    console.clock.advance(minutes=31)
    home = await console.client.get("/console/")
    assert home.status_code == 303 and "reason=login.expired" in home.headers["location"]
    page = await console.client.get(home.headers["location"])
    assert "长时间未操作" in page.text
    assert await signed_in_as(console.client) is None


async def test_idle_minutes_follow_the_setting(open_console: OpenConsole) -> None:
    console = await open_console(session_idle_minutes=5)
    await sign_in(console.client, "wang")
    console.clock.advance(minutes=6)
    assert await signed_in_as(console.client) is None


async def test_password_change_ends_the_other_sessions_only(console: Console) -> None:
    here, there = console.client, await console.browser()
    await sign_in(here, "wang")
    await sign_in(there, "wang")
    console.clock.advance(minutes=1)
    page = await here.get("/console/password")
    mismatch = await here.post("/console/password", data={
        "csrf_token": csrf(page.text), "current": PASSWORD, "new": NEW, "confirm": NEW + "x"})
    assert mismatch.status_code == 400 and verify_password(await _wang(console), PASSWORD)
    wrong = await here.post("/console/password", data={
        "csrf_token": csrf(page.text), "current": "nope-nope", "new": NEW, "confirm": NEW})
    assert wrong.status_code == 400 and "当前密码错误" in wrong.text
    done = await here.post("/console/password", data={
        "csrf_token": csrf(page.text), "current": PASSWORD, "new": NEW, "confirm": NEW})
    assert done.status_code == 200 and "密码已修改" in done.text
    assert await signed_in_as(here) == "wang"
    assert await signed_in_as(there) is None
    assert (await sign_in(there, "wang", PASSWORD)).status_code == 401
    assert (await sign_in(there, "wang", NEW)).status_code == 303


async def test_sign_out_everywhere_ends_every_session(console: Console) -> None:
    here, there = console.client, await console.browser()
    await sign_in(here, "wang")
    await sign_in(there, "wang")
    console.clock.advance(seconds=5)
    page = await there.get("/console/password")
    done = await there.post("/console/sign-out-everywhere", data={"csrf_token": csrf(page.text)})
    assert done.status_code == 303 and "reason=login.signed_out" in done.headers["location"]
    assert await signed_in_as(here) is None and await signed_in_as(there) is None
    assert (await sign_in(here, "wang")).status_code == 303  # signing in again works


async def test_a_tampered_cookie_is_no_session(console: Console) -> None:
    await sign_in(console.client, "wang")
    value = console.client.cookies["outreach_console"]
    console.client.cookies.set("outreach_console", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert await signed_in_as(console.client) is None


async def test_english_on_request_and_remembered(console: Console) -> None:
    english = await console.client.get("/console/login?lang=en")
    assert "Staff sign-in" in english.text and '<html lang="en">' in english.text
    assert "Staff sign-in" in (await console.client.get("/console/login")).text
    assert "员工登录" in (await console.client.get("/console/login?lang=zh")).text
    assert "员工登录" in (await console.client.get("/console/login")).text


async def test_assets_are_ours_and_use_chinese_system_fonts(console: Console) -> None:
    page = await console.client.get("/console/login")
    assert "http" not in page.text.split("<body>")[0].replace('name="viewport"', "")
    css = await console.client.get("/console/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "PingFang SC" in css.text and "Microsoft YaHei" in css.text and "@import" not in css.text


async def test_cookies_are_secure_when_the_console_is_https(open_console: OpenConsole) -> None:
    console = await open_console(console_url="https://console.intranet")
    page = await console.client.get("/console/login")
    assert "Secure" in page.headers["set-cookie"]
