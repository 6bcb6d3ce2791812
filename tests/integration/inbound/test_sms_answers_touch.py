"""An SMS reply answers the matched customer's own latest touch (bundle) message."""
from __future__ import annotations

from datetime import timedelta

from bot.db.models import Touch, utcnow
from tests.integration.inbound.conftest import ZHANG, Rig, rig, sent_bundle  # noqa: F401


async def expects_reply(rig: Rig) -> None:  # noqa: F811
    """The sent touch waits for a reply until tomorrow (the sweep looks at it after that)."""
    async with rig.app.sessions() as s:
        for touch in await rig.rows(Touch):
            touch.reply_deadline = utcnow() + timedelta(days=1)
            s.add(touch)
        await s.commit()


async def test_reply_after_help_answer_still_answers_the_touch(rig: Rig) -> None:  # noqa: F811
    await sent_bundle(rig.app, "C1", "sms", ZHANG["phone"], "SMout1", status="delivered")
    assert await rig.answer("帮助")  # our answer is an outbound sms, the latest to this number
    await rig.sms("挺好的，服务很满意，谢谢")
    reply = next(m for m in await rig.inbound() if m.body.startswith("挺好"))
    [touch] = await rig.rows(Touch)
    assert reply.answers_message_id == "msg-1"
    assert touch.status == "answered"


async def test_reply_is_not_linked_to_another_customers_message(rig: Rig) -> None:  # noqa: F811
    # C2 (Lee) had this number a few days ago; since then it is Zhang's (C1).
    await sent_bundle(rig.app, "C2", "sms", ZHANG["phone"], "SMout2", status="delivered")
    await rig.sms("挺好的，谢谢")
    [reply] = await rig.inbound()
    [touch] = await rig.rows(Touch)
    assert reply.customer_id == "C1"
    assert reply.answers_message_id is None  # not Lee's message
    assert touch.status == "sent"  # Lee's touch was not answered by Zhang


async def test_td_answers_the_touch_so_nobody_calls_about_its_silence(
        rig: Rig) -> None:  # noqa: F811
    """A dormancy message answered with TD: consent withdrawn, the touch answered, and the
    sweep at the reply deadline opens no callback (DOMAIN: opted out, nobody calls)."""
    from bot.db.models import Callback
    from bot.service.planning.sweep import mark_unanswered

    await sent_bundle(rig.app, "C1", "sms", ZHANG["phone"], "SMout3", status="delivered")
    await expects_reply(rig)
    await rig.sms("TD")
    [touch] = await rig.rows(Touch)
    assert touch.status == "answered"
    async with rig.app.sessions() as s:
        assert await mark_unanswered(s, utcnow() + timedelta(days=30)) == 0
        await s.commit()
    assert await rig.rows(Callback) == []


async def test_silence_after_an_opt_out_elsewhere_gets_no_call(rig: Rig) -> None:  # noqa: F811
    """The dormancy SMS went unanswered, but the customer unsubscribed by email meanwhile:
    the touch ends unanswered (reason opted_out) and nobody is queued to call."""
    from bot.db.models import Callback
    from bot.service.customers.consent import withdraw_consent
    from bot.service.planning.sweep import mark_unanswered

    await sent_bundle(rig.app, "C1", "sms", ZHANG["phone"], "SMout4", status="delivered")
    await expects_reply(rig)
    async with rig.app.sessions() as s:
        assert await withdraw_consent(s, "C1", source="unsubscribe", channel="email")
        await s.commit()
    async with rig.app.sessions() as s:
        assert await mark_unanswered(s, utcnow() + timedelta(days=30)) == 1
        await s.commit()
    [touch] = await rig.rows(Touch)
    assert (touch.status, touch.reason) == ("unanswered", "opted_out")
    assert await rig.rows(Callback) == []
