"""Sweep (silence → callback, closed window → expiry) and catch-up after downtime."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from bot.bootstrap import App
from bot.db.models import PlanRun
from bot.service.planning.service import catch_up
from bot.service.planning.sweep import sweep
from tests.integration.planning.helpers import at, bundles, callbacks, plan, seed, touches


async def _set(app: App, model: object) -> None:
    async with app.sessions() as s:
        s.add(model)
        await s.commit()


async def test_silence_past_the_deadline_becomes_one_p2_callback(app: App) -> None:
    await seed(app, {"opened_on": date(2026, 3, 2)})
    await plan(app, date(2026, 3, 3))
    (touch,) = await touches(app)
    touch.status = "sent"
    await _set(app, touch)
    async with app.sessions() as s:
        assert (await sweep(s, at(date(2026, 3, 5), 17, 0)))["unanswered"] == 0
        await s.commit()
    async with app.sessions() as s:
        assert (await sweep(s, at(date(2026, 3, 5), 17, 31)))["unanswered"] == 1
        await s.commit()
    (touch,) = await touches(app)
    (callback,) = await callbacks(app)
    assert touch.status == "unanswered" and touch.callback_id == callback.id
    assert (callback.priority, callback.sla_due_at) == ("P2", at(date(2026, 3, 9), 17, 30))
    async with app.sessions() as s:
        assert (await sweep(s, at(date(2026, 3, 6), 9, 0)))["unanswered"] == 0


async def test_closed_window_expires_greetings_and_moves_callback_touches(app: App) -> None:
    await seed(app, {"birthday": date(1990, 3, 3), "opened_on": date(2026, 3, 2)})
    await plan(app, date(2026, 3, 3))
    async with app.sessions() as s:
        assert (await sweep(s, at(date(2026, 3, 3), 19, 59)))["expired_bundles"] == 0
        assert (await sweep(s, at(date(2026, 3, 3), 20, 0)))["expired_bundles"] == 1
        await s.commit()
    made = {t.kind: t for t in await touches(app)}
    assert (made["birthday"].status, made["birthday"].reason) == ("expired", "window_closed")
    assert (made["new_account"].status, made["new_account"].due_on) == ("planned", date(2026, 3, 4))
    await plan(app, date(2026, 3, 4))
    day_two = [b for b in await bundles(app) if b.local_date == date(2026, 3, 4)]
    assert len(day_two) == 1 and day_two[0].expects_reply


async def test_restart_after_three_days_down_catches_up(app: App) -> None:
    await seed(app, {"birthday": date(1990, 3, 4)}, {"opened_on": date(2026, 3, 4)})
    await plan(app, date(2026, 3, 3))
    planned = await catch_up(app, at(date(2026, 3, 6), 10, 0))  # down 03-04 … 03-05
    assert [r.day for r in planned] == [date(2026, 3, 4), date(2026, 3, 5), date(2026, 3, 6)]
    made = {t.kind: t for t in await touches(app)}
    assert (made["birthday"].status, made["birthday"].reason) == ("expired", "missed_day")
    # The new account (due 03-05, missed) is due today instead, in today's bundle.
    assert (made["new_account"].status, made["new_account"].due_on) == ("planned", date(2026, 3, 6))
    assert [b.local_date for b in await bundles(app)] == [date(2026, 3, 6)]
    assert await catch_up(app, at(date(2026, 3, 6), 11, 0)) == []
    async with app.sessions() as s:
        assert await s.get(PlanRun, date(2026, 3, 5)) is not None


async def test_sweep_closes_each_branch_at_its_own_window_end_and_every_missed_day(
    app: App,
) -> None:
    """Closing is set-based per branch group: a branch whose window ends at 18:00 closes
    before one ending at 20:00, and after an outage every missed day closes in one tick."""
    early = {"birthday": date(1990, 3, 3), "opened_on": date(2026, 3, 2)}
    await seed(app, {"id": "A1", **early}, {"id": "A2", "birthday": date(1990, 3, 4)})
    await seed(app, {"id": "B1", **early}, branch="SH02", send_window="09:00-18:00")
    await plan(app, date(2026, 3, 3))
    await plan(app, date(2026, 3, 4))
    async with app.sessions() as s:
        assert (await sweep(s, at(date(2026, 3, 3), 18, 30)))["expired_bundles"] == 1
        await s.commit()
    closed_first = {b.customer_id for b in await bundles(app) if b.status == "expired"}
    assert closed_first == {"B1"}
    async with app.sessions() as s:  # nothing ran for a day and a half
        assert (await sweep(s, at(date(2026, 3, 5), 9, 0)))["expired_bundles"] == 2
        await s.commit()
    assert {(b.customer_id, b.local_date, b.status, b.reason) for b in await bundles(app)} == {
        ("A1", date(2026, 3, 3), "expired", "window_closed"),
        ("B1", date(2026, 3, 3), "expired", "window_closed"),
        ("A2", date(2026, 3, 4), "expired", "window_closed"),
    }
    made = {(t.customer_id, t.kind): t for t in await touches(app)}
    for customer in ("A1", "A2", "B1"):
        assert made[(customer, "birthday")].status == "expired"
    # B1's bundle closed on 03-03 at 18:30: its new account moved to 03-04. A1's closed only
    # on 03-05 at 09:00, when 03-04's window was over too: it moved to 03-05, still to come.
    for customer, due, deadline in (("B1", date(2026, 3, 4), date(2026, 3, 6)),
                                    ("A1", date(2026, 3, 5), date(2026, 3, 9))):
        moved = made[(customer, "new_account")]
        assert (moved.status, moved.due_on, moved.bundle_id) == ("planned", due, None)
        assert moved.due_at == at(due, 9, 0)
        assert moved.reply_deadline == at(deadline, 17, 30)
    await catch_up(app, at(date(2026, 3, 5), 10, 0))  # the tick bundles them for today
    today = {b.customer_id for b in await bundles(app) if b.local_date == date(2026, 3, 5)}
    assert today == {"A1", "B1"}


async def test_a_touch_stranded_in_an_expired_bundle_moves_on_at_the_next_tick(
    app: App,
) -> None:
    """Belt and braces: if a race ever left a planned touch inside an expired bundle, the
    next planning tick frees it: the greeting expires, the new account moves to the next
    working day (and is bundled there), instead of waiting forever."""
    from bot.db.models import Bundle

    await seed(app, {"birthday": date(1990, 3, 3), "opened_on": date(2026, 3, 2)})
    await plan(app, date(2026, 3, 3))
    async with app.sessions() as s:
        (bundle,) = (await s.exec(select(Bundle))).all()
        bundle.status, bundle.reason = "expired", "window_closed"
        s.add(bundle)
        await s.commit()
    await catch_up(app, at(date(2026, 3, 3), 20, 5))
    made = {t.kind: t for t in await touches(app)}
    assert made["birthday"].status == "expired"
    assert (made["new_account"].status, made["new_account"].due_on,
            made["new_account"].bundle_id) == ("planned", date(2026, 3, 4), None)
    await catch_up(app, at(date(2026, 3, 4), 0, 5))
    (moved,) = [t for t in await touches(app) if t.kind == "new_account"]
    day_two = [b for b in await bundles(app) if b.local_date == date(2026, 3, 4)]
    assert len(day_two) == 1 and moved.bundle_id == day_two[0].id


async def test_a_moved_touch_of_a_kind_without_its_own_reply_setting_keeps_a_deadline(
    app: App,
) -> None:
    """Event-driven kinds (asset_movement) have no reply setting of their own yet: moved on
    by a closed window, they still get DOMAIN's two working days, not a NULL deadline that
    the sweep would never act on."""
    from bot.db.models import Bundle, Touch

    await seed(app, {"opened_on": date(2026, 3, 2)})
    await plan(app, date(2026, 3, 3))
    async with app.sessions() as s:
        (bundle,) = (await s.exec(select(Bundle))).all()
        s.add(Touch(customer_id="C1", kind="asset_movement", dedupe_key="asset_movement:1",
                    due_on=date(2026, 3, 3), bundle_id=bundle.id))
        await s.commit()
    async with app.sessions() as s:
        assert (await sweep(s, at(date(2026, 3, 3), 20, 0)))["expired_bundles"] == 1
        await s.commit()
    moved = {t.kind: t for t in await touches(app)}
    for kind in ("new_account", "asset_movement"):
        assert (moved[kind].due_on, moved[kind].reply_deadline) == (
            date(2026, 3, 4), at(date(2026, 3, 6), 17, 30)), kind
