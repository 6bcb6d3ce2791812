"""Signing in to the console: passwords, roles, the growing delay, the lock-out and TOTP."""

from __future__ import annotations

import asyncio
import re

import httpx
import pyotp
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.db.models import Event, Staff
from bot.service.admin.staff import deactivate_staff
from tests.integration.console.conftest import (
    PASSWORD,
    Console,
    OpenConsole,
    csrf,
    sign_in,
    signed_in_as,
)


async def _events(console: Console, type_: str) -> list[Event]:
    async with console.app.sessions() as s:
        return list((await s.exec(select(Event).where(Event.type == type_))).all())


async def test_right_password_signs_in_and_the_home_page_says_who(console: Console) -> None:
    assert await signed_in_as(console.client) is None
    answer = await sign_in(console.client, "wang")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert await signed_in_as(console.client) == "wang"
    home = await console.client.get("/console/")
    assert "回访专员" in home.text and "退出登录" in home.text  # Chinese by default
    [ok] = await _events(console, "login.ok")
    assert ok.actor == "wang" and PASSWORD not in (ok.summary + (ok.payload or ""))


async def test_wrong_password_or_unknown_user_is_refused_alike(console: Console) -> None:
    wrong = await sign_in(console.client, "wang", "not-the-password")
    unknown = await sign_in(console.client, "nobody-here", PASSWORD)
    for answer in (wrong, unknown):
        assert answer.status_code == 401 and "用户名或密码错误" in answer.text
    assert await signed_in_as(console.client) is None
    failed = await _events(console, "login.failed")
    assert len(failed) == 2
    recorded = " ".join(e.summary + (e.payload or "") for e in failed)
    assert "nobody-here" not in recorded and "not-the-password" not in recorded


async def test_sales_and_system_have_no_console(console: Console) -> None:
    sales = await sign_in(console.client, "xs")
    assert sales.status_code == 403 and "无权使用工作台" in sales.text
    system = await sign_in(console.client, "bot", "")
    assert system.status_code == 401
    assert await signed_in_as(console.client) is None


async def test_a_deactivated_user_is_signed_out_on_the_next_request(console: Console) -> None:
    await sign_in(console.client, "wang")
    assert await signed_in_as(console.client) == "wang"
    async with console.app.sessions() as s:
        await deactivate_staff(s, "wang", actor="test")
        await s.commit()
    home = await console.client.get("/console/")
    assert home.status_code == 303 and "reason=login.ended" in home.headers["location"]
    assert await signed_in_as(console.client) is None
    assert (await sign_in(console.client, "wang")).status_code == 401


async def test_failures_slow_the_next_attempt_down_without_locking(console: Console) -> None:
    client, clock = console.client, console.clock
    assert (await sign_in(client, "wang", "wrong-1")).status_code == 401  # no wait after one
    second = await sign_in(client, "wang", "wrong-2")
    assert second.status_code == 401 and "1 秒后再试" in second.text
    too_soon = await sign_in(client, "wang")  # even the right password is not checked
    assert too_soon.status_code == 429 and too_soon.headers["retry-after"] == "1"
    assert await signed_in_as(client) is None
    waits = []
    for attempt in range(3, 10):
        clock.advance(seconds=30)
        answer = await sign_in(client, "wang", f"wrong-{attempt}")
        waits.append(int(re.search(r"(\d+) 秒后再试", answer.text)[1]))  # type: ignore[index]
    assert waits == [2, 4, 8, 16, 30, 30, 30]  # doubling, capped
    clock.advance(seconds=29)
    assert (await sign_in(client, "wang")).status_code == 429
    clock.advance(seconds=1)
    assert (await sign_in(client, "wang")).status_code == 303  # never locked: the default
    assert await signed_in_as(client) == "wang"


async def test_failures_from_one_address_slow_down_every_account(console: Console) -> None:
    for name in ("a1", "a2", "a3"):
        await sign_in(console.client, name, "guess")
    other = await console.browser()  # same address (the test client's)
    answer = await sign_in(other, "li")
    assert answer.status_code == 429
    console.clock.advance(seconds=2)
    assert (await sign_in(other, "li")).headers["location"].startswith("/console/enrol")


async def test_lock_out_after_the_set_number_and_staff_unlock(
        open_console: OpenConsole, cli_env: dict[str, str]) -> None:
    console = await open_console(login_lockout_attempts=3)
    for attempt in range(3):
        console.clock.advance(seconds=60)
        answer = await sign_in(console.client, "wang", f"wrong-{attempt}")
    assert answer.status_code == 403 and "账户已锁定" in answer.text
    console.clock.advance(minutes=60)
    assert (await sign_in(console.client, "wang")).status_code == 403  # locked, not slowed
    assert len(await _events(console, "login.locked")) == 1
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["staff", "unlock", "wang"])
    assert result.exit_code == 0, result.output
    assert (await sign_in(console.client, "wang")).status_code == 303
    again = await asyncio.to_thread(CliRunner().invoke, cli, ["staff", "unlock", "wang"])
    assert again.exit_code == 2 and "not locked" in again.output


async def test_compliance_must_enrol_totp_then_signs_in_with_a_code(console: Console) -> None:
    client, clock = console.client, console.clock
    answer = await sign_in(client, "li")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/enrol"
    assert await signed_in_as(client) is None  # a password alone is not enough
    page = await client.get("/console/enrol")
    assert "<svg" in page.text and "两步验证" in page.text
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text)[1]  # type: ignore[index]
    token = csrf(page.text)
    wrong = await client.post("/console/enrol", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 400 and await signed_in_as(client) is None
    code = pyotp.TOTP(secret).at(clock.now)
    done = await client.post("/console/enrol", data={"csrf_token": token, "code": code})
    assert done.status_code == 303 and await signed_in_as(client) == "li"
    [enrolled] = await _events(console, "mfa.enrolled")
    assert secret not in enrolled.summary + (enrolled.payload or "")

    home = await client.get("/console/")
    await client.post("/console/logout", data={"csrf_token": csrf(home.text)})
    assert await signed_in_as(client) is None
    clock.advance(minutes=2)
    assert (await sign_in(client, "li")).headers["location"] == "/console/login/totp"
    assert await signed_in_as(client) is None
    token = csrf((await client.get("/console/login/totp")).text)
    bad = await client.post("/console/login/totp", data={"csrf_token": token, "code": "123456"})
    assert bad.status_code == 401 and "验证码错误" in bad.text
    code = pyotp.TOTP(secret).at(clock.now)
    good = await client.post("/console/login/totp", data={"csrf_token": token, "code": code})
    assert good.status_code == 303 and await signed_in_as(client) == "li"


async def test_an_agent_may_add_totp_and_then_needs_it(console: Console) -> None:
    await sign_in(console.client, "wang")
    page = await console.client.get("/console/enrol")
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text)[1]  # type: ignore[index]
    code = pyotp.TOTP(secret).at(console.clock.now)
    done = await console.client.post("/console/enrol",
                                     data={"csrf_token": csrf(page.text), "code": code})
    assert done.status_code == 200 and "两步验证已启用" in done.text
    async with console.app.sessions() as s:
        wang = (await s.exec(select(Staff).where(Staff.username == "wang"))).one()
    assert wang.totp_secret == secret
    other = await console.browser()
    assert (await sign_in(other, "wang")).headers["location"] == "/console/login/totp"


async def _totp(client: httpx.AsyncClient, code: str) -> httpx.Response:
    token = csrf((await client.get("/console/login/totp")).text)
    return await client.post("/console/login/totp", data={"csrf_token": token, "code": code})


async def _sign_out(client: httpx.AsyncClient) -> None:
    home = await client.get("/console/")
    await client.post("/console/logout", data={"csrf_token": csrf(home.text)})


async def test_a_totp_code_signs_in_once_not_again_within_its_30_seconds(
        console: Console) -> None:
    """A code seen over a shoulder (or the enrolment's own code) cannot open a second
    session while the authenticator app still shows it."""
    client, clock = console.client, console.clock
    await sign_in(client, "li")
    page = await client.get("/console/enrol")
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text)[1]  # type: ignore[index]
    enrol_code = pyotp.TOTP(secret).at(clock.now)
    await client.post("/console/enrol", data={"csrf_token": csrf(page.text), "code": enrol_code})
    assert await signed_in_as(client) == "li"
    await _sign_out(client)

    clock.advance(seconds=10)  # the app still shows the enrolment's code
    assert (await sign_in(client, "li")).headers["location"] == "/console/login/totp"
    replay = await _totp(client, enrol_code)
    assert replay.status_code == 401 and "此验证码已使用过" in replay.text
    assert await signed_in_as(client) is None

    clock.advance(seconds=30)  # the next code
    code = pyotp.TOTP(secret).at(clock.now)
    assert (await _totp(client, code)).status_code == 303
    assert await signed_in_as(client) == "li"

    clock.advance(seconds=5)
    other = await console.browser()  # someone who saw that code, with the password
    assert (await sign_in(other, "li")).headers["location"] == "/console/login/totp"
    again = await _totp(other, code)
    assert again.status_code == 401 and "请等待身份验证器显示下一个验证码" in again.text
    assert await signed_in_as(other) is None
    failed = await _events(console, "login.failed")
    assert [e.summary for e in failed] == ["console login of li failed: wrong code (already used)"] * 2
