"""Store first, act after: a stored reply is never lost, acted on once, in the order written."""

from __future__ import annotations

import asyncio
import secrets

from sqlmodel import select

from bot.db.models import InboxItem, Message, utcnow
from bot.service.inbound.inbox import Drainer, Stored, Writer
from tests.integration.inbound.conftest import ZHANG, Rig


def web_ctx(rig: Rig) -> object:
    return rig.client._transport.app.state.ctx  # type: ignore[attr-defined]


async def test_requests_stored_together_are_each_answered_once_committed(rig: Rig) -> None:
    """Forty replies at once, two of them a retry of the same MessageSid: 39 rows, each
    request answered 200, the retry counted as a duplicate."""
    sids = ["SM" + secrets.token_hex(16) for _ in range(39)]
    responses = await asyncio.gather(*(rig.sms(f"第{i}条", sid=sid) for i, sid in enumerate(sids)),
                                     rig.sms("第0条", sid=sids[0]))
    assert {r.status_code for r in responses} == {200}
    async with rig.app.sessions() as s:
        rows = (await s.exec(select(InboxItem))).all()
    assert len(rows) == 39 and {r.status for r in rows} == {"done"}
    assert len(await rig.inbound()) == 39
    metrics = (await rig.client.get("/metrics")).text
    assert 'outreach_webhook_requests_total{route="twilio_sms",result="duplicate"} 1' in metrics
    assert "outreach_inbox_waiting 0" in metrics.splitlines()


async def test_a_stored_reply_left_by_a_crash_is_acted_on_in_order(rig: Rig) -> None:
    """The process stored TD then 订阅 and died before acting: the next drain acts on both,
    in the order written (opted out, then back in), and each once."""
    writer = Writer(rig.app.engine)
    for n, body in enumerate(("TD", "订阅")):
        form = {"AccountSid": rig.twilio.account_sid, "Body": body, "From": ZHANG["phone"],
                "To": "+15005550006", "MessageSid": f"SM{n:032d}"}
        assert await writer.store("twilio_sms", form["MessageSid"], form, utcnow())
    assert await rig.inbound() == []
    ctx = web_ctx(rig)
    await ctx.drainer.kick()  # type: ignore[attr-defined]
    await ctx.drainer.kick()  # type: ignore[attr-defined]  # nothing left: nothing twice
    assert [m.body for m in await rig.inbound()] == ["TD", "订阅"]
    customer = await rig.customer("C1")
    assert customer.opted_out_at is None and customer.marketing_consent is True
    await ctx.deliver_pending()  # type: ignore[attr-defined]
    confirmations = [m["body"] for m in rig.twilio.messages]
    assert len(confirmations) == 2 and "您已退订" in confirmations[0]


async def test_a_row_that_cannot_be_acted_on_is_set_aside_and_holds_up_nothing(rig: Rig) -> None:
    writer = Writer(rig.app.engine)
    for n in range(3):
        assert await writer.store("twilio_sms", f"SM{n:032d}", {"n": str(n)}, utcnow())
    handled: list[str] = []

    async def handle(item: Stored) -> None:
        if item.form["n"] == "1":
            raise ValueError("a bug while acting")
        handled.append(item.form["n"])

    await Drainer(rig.app.engine, handle).kick()
    assert handled == ["0", "2"]
    async with rig.app.sessions() as s:
        statuses = [r.status for r in (await s.exec(select(InboxItem).order_by(InboxItem.id))).all()]
    assert statuses == ["done", "failed", "done"]


async def test_the_drainer_gives_way_while_requests_are_answered(rig: Rig) -> None:
    """While requests are being answered each row waits a moment (at most 0.2 s), then goes
    on anyway, so a steady stream of requests cannot stop acting altogether."""
    writer = Writer(rig.app.engine)
    for n in range(2):
        assert await writer.store("twilio_sms", f"SM{n:032d}", {"n": str(n)}, utcnow())
    seen: list[str] = []

    async def handle(item: Stored) -> None:
        seen.append(item.form["n"])

    started = asyncio.get_running_loop().time()
    await Drainer(rig.app.engine, handle, busy=lambda: True).kick()
    elapsed = asyncio.get_running_loop().time() - started
    assert seen == ["0", "1"] and 0.35 <= elapsed < 2
    async with rig.app.sessions() as s:
        assert (await s.exec(select(Message))).all() == []  # the handler here stores nothing
