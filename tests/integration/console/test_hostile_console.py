"""The console's forms with a NUL in them (PostgreSQL refuses it in text): a wrong sign-in
and the outcome form again with its reason, never a server error."""

from __future__ import annotations

from bot.db.models import CallbackAttempt
from tests.integration.console.conftest import Console, sign_in
from tests.integration.console.test_work_pages import _form, _seed


async def test_a_nul_in_the_username_is_a_failed_sign_in(console: Console) -> None:
    response = await sign_in(console.client, "wang\x00")
    assert response.status_code == 401 and "<form" in response.text


async def test_a_nul_in_the_call_notes_is_the_form_again_with_its_reason(
        console: Console) -> None:
    await _seed(console)
    client = console.client
    assert (await sign_in(client, "wang")).status_code == 303
    claimed = await _form(client, "/console/queue", "/console/queue/claim")
    page = claimed.headers["location"]
    answer = await _form(client, page, f"{page}/outcome", result="no_answer", method="phone",
                         dialled="13812345678", notes="无人接听\x00")
    assert answer.status_code == 422 and "notes: a NUL character" in answer.text
    assert "<form" in answer.text  # the page again, not a bare error
    async with console.app.sessions() as s:
        assert (await s.get(CallbackAttempt, 1)) is None  # nothing recorded
