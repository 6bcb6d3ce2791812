"""Planning against the calendar: festivals, birthdays, new accounts, dormancy, bundles."""

from __future__ import annotations

from datetime import date

import pytest

from bot.bootstrap import App
from tests.integration.planning.helpers import at, bundles, callbacks, plan, seed, touches

FESTIVALS = [
    ("spring_festival", date(2026, 2, 17)), ("dragon_boat", date(2026, 6, 19)),
    ("mid_autumn", date(2026, 9, 25)), ("spring_festival", date(2027, 2, 6)),
    ("dragon_boat", date(2027, 6, 9)), ("mid_autumn", date(2027, 9, 15)),
    ("spring_festival", date(2035, 2, 8)), ("dragon_boat", date(2035, 6, 10)),
    ("mid_autumn", date(2035, 9, 16)),
]


@pytest.mark.parametrize(("festival", "day"), FESTIVALS)
async def test_lunar_festival_greeting_on_its_day(app: App, festival: str, day: date) -> None:
    await seed(app, {}, festivals={"switches": {"dragon_boat": True}})
    for d in (day.replace(day=day.day - 1), day):
        await plan(app, d)
    planned = await touches(app)
    assert [(t.kind, t.festival, t.due_on, t.dedupe_key, t.status) for t in planned] == [
        ("holiday", festival, day, f"holiday:{festival}:{day.year}", "planned")
    ]


async def test_dragon_boat_is_off_by_default(app: App) -> None:
    await seed(app, {})
    await plan(app, date(2027, 6, 9))
    assert await touches(app) == []


async def test_offset_sends_the_working_day_before(app: App) -> None:
    await seed(app, {}, festival_offset_working_days=-1)
    await plan(app, date(2026, 9, 24))  # Thursday before 中秋 (Fri 09-25)
    assert [(t.festival, t.due_on) for t in await touches(app)] == [("mid_autumn", date(2026, 9, 24))]


async def test_29_february_birthday_on_28_february(app: App) -> None:
    await seed(app, {"birthday": date(1992, 2, 29)})
    await plan(app, date(2027, 2, 28))
    await plan(app, date(2028, 2, 28))
    await plan(app, date(2028, 2, 29))
    assert [(t.dedupe_key, t.due_on) for t in await touches(app)] == [
        ("birthday:2027", date(2027, 2, 28)), ("birthday:2028", date(2028, 2, 29))]


async def test_birthday_on_mid_autumn_is_one_bundle(app: App) -> None:
    await seed(app, {"birthday": date(1980, 9, 15)})
    await plan(app, date(2027, 9, 15))
    made = await touches(app)
    assert sorted(t.kind for t in made) == ["birthday", "holiday"]
    (bundle,) = await bundles(app)
    assert {t.bundle_id for t in made} == {bundle.id}
    assert bundle.marketing and not bundle.expects_reply
    assert bundle.due_at == at(date(2027, 9, 15), 9, 0)


async def test_mid_autumn_on_national_day_is_one_bundle(app: App) -> None:
    await seed(app, {})
    await plan(app, date(2031, 10, 1))
    made = await touches(app)
    assert sorted(t.festival or "" for t in made) == ["mid_autumn", "national_day"]
    assert len(await bundles(app)) == 1


async def test_new_account_on_a_make_up_saturday(app: App) -> None:
    await seed(app, {"opened_on": date(2026, 2, 13)})  # Friday; Saturday 02-14 is 调休 working
    await plan(app, date(2026, 2, 14))
    (touch,) = await touches(app)
    assert (touch.kind, touch.due_on, touch.status) == ("new_account", date(2026, 2, 14), "planned")
    # 春节 2026 is 02-15..02-23 off: reply by the 2nd working day after (02-25), SLA opened
    # + 5 working days (02-14, 02-24, 02-25, 02-26, 02-27).
    assert touch.reply_deadline == at(date(2026, 2, 25), 17, 30)
    assert touch.sla_due_at == at(date(2026, 2, 27), 17, 30)
    (bundle,) = await bundles(app)
    assert bundle.expects_reply and not bundle.marketing


async def test_dormancy_crossing_before_golden_week(app: App) -> None:
    # Last trade 180 days before Wed 2026-09-30, the last working day before 国庆.
    await seed(app, {"opened_on": date(2020, 1, 6), "last_trade_on": date(2026, 4, 3)})
    for day in (date(2026, 10, d) for d in range(1, 9)):
        await plan(app, day)
    (touch,) = [t for t in await touches(app) if t.kind == "dormancy"]
    assert (touch.dedupe_key, touch.due_on) == ("dormancy:2026-04-03", date(2026, 10, 8))
    assert touch.reply_deadline == at(date(2026, 10, 10), 17, 30)  # make-up Saturday counts
    assert touch.sla_due_at == at(date(2026, 10, 15), 17, 30)


async def test_first_run_records_old_dormancy_as_skipped_backfill(app: App) -> None:
    await seed(app, {"opened_on": date(2019, 1, 2), "last_trade_on": date(2024, 1, 2)},
               {"opened_on": date(2019, 1, 2), "last_trade_on": date(2026, 5, 20)})
    first = await plan(app, date(2026, 11, 27))  # Friday; second crossed 2026-11-16
    assert first.skipped_backfill == 1
    made = {t.customer_id: t for t in await touches(app)}
    assert made["C1"].status == "skipped_backfill"
    assert (made["C2"].status, made["C2"].due_on) == ("planned", date(2026, 11, 27))
    second = await plan(app, date(2026, 11, 30))
    assert second.skipped_backfill == 0
    assert len(await touches(app)) == 2


async def test_cap_blocks_dormancy_but_not_new_account(app: App) -> None:
    from bot.db.models import Touch

    await seed(app, {"opened_on": date(2026, 11, 26), "last_trade_on": date(2026, 5, 30)})
    async with app.sessions() as s:
        for key in ("sampling:1", "sampling:2"):
            s.add(Touch(customer_id="C1", kind="sampling", dedupe_key=key, status="answered",
                        due_on=date(2026, 10, 12)))
        await s.commit()
    await plan(app, date(2026, 11, 27))
    made = {t.kind: t for t in await touches(app) if t.kind in ("dormancy", "new_account")}
    assert (made["dormancy"].status, made["dormancy"].reason) == ("capped", "cap")
    assert made["new_account"].status == "planned"


@pytest.mark.parametrize(
    ("fields", "status", "reason"),
    [
        ({"status": "frozen"}, "suppressed", "status_frozen"),
        ({"marketing_consent": False}, "suppressed", "no_consent"),
        ({"marketing_consent": None}, "suppressed", "no_consent"),
        ({"opted_out_at": at(date(2026, 1, 1))}, "suppressed", "opted_out"),
        ({"phone": None}, "no_channel", "no_channel"),
        ({"channels": "email", "email": None}, "no_channel", "no_channel"),
    ],
)
async def test_greeting_gates(app: App, fields: dict[str, object], status: str, reason: str) -> None:
    await seed(app, {"birthday": date(1990, 3, 3), **fields})
    await plan(app, date(2026, 3, 3))
    (touch,) = await touches(app)
    assert (touch.status, touch.reason) == (status, reason)
    assert await bundles(app) == []


async def test_branch_consent_default_applies_when_column_is_empty(app: App) -> None:
    await seed(app, {"birthday": date(1990, 3, 3), "marketing_consent": None}, assume_consent=True)
    await plan(app, date(2026, 3, 3))
    assert [t.status for t in await touches(app)] == ["planned"]


async def test_opted_out_new_account_goes_to_a_person(app: App) -> None:
    await seed(app, {"opened_on": date(2026, 3, 2), "opted_out_at": at(date(2026, 3, 2))})
    await plan(app, date(2026, 3, 3))
    (touch,) = await touches(app)
    assert (touch.status, touch.reason) == ("escalated", "opted_out")
    (callback,) = await callbacks(app)
    assert callback.priority == "P2" and touch.callback_id == callback.id
    assert callback.sla_due_at == touch.sla_due_at


async def test_dormant_customer_without_channel_gets_a_callback(app: App) -> None:
    await seed(app, {"phone": None, "opened_on": date(2020, 1, 6),
                     "last_trade_on": date(2025, 9, 2)})  # crosses 2026-03-01
    await plan(app, date(2026, 3, 2))
    (touch,) = await touches(app)
    assert touch.status == "no_channel"
    assert len(await callbacks(app)) == 1


async def test_import_late_in_the_day_is_planned_and_old_accounts_are_not(app: App) -> None:
    await seed(app, {"opened_on": date(2026, 3, 2)}, {"opened_on": date(2021, 3, 2)})
    await plan(app, date(2026, 3, 3), today=date(2026, 3, 3))
    kinds = [(t.customer_id, t.kind) for t in await touches(app)]
    assert ("C1", "new_account") in kinds
    assert ("C2", "new_account") not in kinds


async def test_replanning_and_dry_run_create_nothing(app: App) -> None:
    await seed(app, {"birthday": date(1990, 3, 3), "opened_on": date(2026, 3, 2)})
    dry = await plan(app, date(2026, 3, 3), dry_run=True)
    assert dry.by_kind == {"birthday": {"planned": 1}, "new_account": {"planned": 1}}
    assert await touches(app) == []
    first = await plan(app, date(2026, 3, 3))
    again = await plan(app, date(2026, 3, 3))
    assert first.by_kind == again.by_kind == dry.by_kind
    assert len(await touches(app)) == 2 and len(await bundles(app)) == 1


async def test_touch_due_after_the_days_message_went(app: App) -> None:
    from bot.db.models import Touch

    await seed(app, {"birthday": date(1990, 3, 3)})
    await plan(app, date(2026, 3, 3))
    async with app.sessions() as s:
        (bundle,) = await bundles(app)
        bundle.status = "sent"
        s.add(bundle)
        for kind, key in (("holiday", "holiday:local:2026"), ("dormancy", "dormancy:2025-09-03")):
            s.add(Touch(customer_id="C1", kind=kind, dedupe_key=key, due_on=date(2026, 3, 3)))
        await s.commit()
    await plan(app, date(2026, 3, 3))
    late = {t.kind: t for t in await touches(app) if t.kind in ("holiday", "dormancy")}
    assert (late["holiday"].status, late["holiday"].reason) == ("expired", "daily_limit")
    assert (late["dormancy"].status, late["dormancy"].due_on) == ("planned", date(2026, 3, 4))
    assert len(await bundles(app)) == 1


async def test_a_touch_planned_later_the_same_day_joins_the_waiting_bundle(app: App) -> None:
    """Re-planning after an import (a corrected opened_on) adds a new_account touch to the
    customer's still-unsent bundle: one message, now expecting a reply; other customers'
    bundles of the day are untouched and no second bundle appears."""
    from bot.db.models import Customer
    from bot.service.planning.service import plan_day

    await seed(app, {"birthday": date(1990, 3, 3)}, {"birthday": date(1991, 3, 3)})
    await plan(app, date(2026, 3, 3))
    before = {b.customer_id: b for b in await bundles(app)}
    assert not before["C1"].expects_reply and before["C1"].marketing
    async with app.sessions() as s:
        customer = await s.get(Customer, "C1")
        assert customer is not None
        customer.opened_on = date(2026, 3, 2)
        s.add(customer)
        await s.commit()
    await plan_day(app, date(2026, 3, 3), now=at(date(2026, 3, 3), 8, 30))  # before the window
    after = {b.customer_id: b for b in await bundles(app)}
    assert {c: b.id for c, b in after.items()} == {c: b.id for c, b in before.items()}
    assert after["C1"].expects_reply and after["C1"].reply_deadline is not None
    assert not after["C2"].expects_reply
    members = {t.kind: t.bundle_id for t in await touches(app) if t.customer_id == "C1"}
    assert members == {"birthday": after["C1"].id, "new_account": after["C1"].id}


async def test_replanning_after_an_import_bundles_only_the_newcomers(app: App) -> None:
    """A day planned again after an import: a new customer gets a bundle of their own with
    their touch in it; a customer whose message already went gets no second bundle (their
    new callback-type touch moves to the next working day); waiting bundles stay as they are."""
    from bot.db.models import Customer

    await seed(app, {"birthday": date(1990, 3, 3)}, {"birthday": date(1991, 3, 3)})
    await plan(app, date(2026, 3, 3))
    before = {b.customer_id: b for b in await bundles(app)}
    async with app.sessions() as s:
        sent = before["C1"]
        sent.status = "sent"
        s.add(sent)
        customer = await s.get(Customer, "C1")
        assert customer is not None
        customer.opened_on = date(2026, 3, 2)
        s.add(customer)
        s.add(Customer(id="C3", name="李四", branch_code="SH01", phone="+85291234568",
                       marketing_consent=True, birthday=date(1992, 3, 3)))
        await s.commit()
    await plan(app, date(2026, 3, 3))
    after = {b.customer_id: b for b in await bundles(app)}
    assert set(after) == {"C1", "C2", "C3"}
    assert (after["C1"].id, after["C1"].status) == (before["C1"].id, "sent")
    assert (after["C2"].id, after["C2"].status) == (before["C2"].id, "planned")
    assert after["C3"].status == "planned" and after["C3"].marketing
    members = {(t.customer_id, t.kind): t for t in await touches(app)}
    assert members[("C3", "birthday")].bundle_id == after["C3"].id
    assert members[("C2", "birthday")].bundle_id == after["C2"].id
    late = members[("C1", "new_account")]
    assert (late.status, late.due_on, late.bundle_id) == ("planned", date(2026, 3, 4), None)
