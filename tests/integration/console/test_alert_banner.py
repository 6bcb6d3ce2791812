"""An alert that reached no branch manager waits as a banner on the queue page, for that
branch (and head office), until someone acknowledges it; /metrics counts it meanwhile."""

from __future__ import annotations

from sqlmodel import select

from bot.db.models import Alert, Branch, Customer, Event
from bot.service.admin.staff import add_staff
from bot.service.dispatch.alerts import raise_alert
from tests.integration.console.conftest import PASSWORD, Console, csrf, sign_in


async def _undeliverable_alert(console: Console) -> None:
    """SH01 has no manager phone or email: the alert is undeliverable at once."""
    async with console.app.sessions() as s:
        s.add(Branch(code="HK01", name="香港营业部"))
        s.add(Customer(id="C9", name="周杰", branch_code="SH01", phone="+8613912341129"))
        await s.flush()
        await add_staff(s, "chan", "agent", "HK01", False, PASSWORD, actor="test")
        customer, branch = await s.get(Customer, "C9"), await s.get(Branch, "SH01")
        assert customer is not None and branch is not None
        await raise_alert(s, kind="not_me", customer=customer, branch=branch,
                          settings=console.app.settings, subject="P0", body="P0 C9")
        await s.commit()


async def test_the_banner_stays_until_an_agent_acknowledges_it(console: Console) -> None:
    await _undeliverable_alert(console)
    other = await console.browser()
    await sign_in(other, "chan")
    assert "未能送达营业部负责人" not in (await other.get("/console/queue")).text  # HK01's agent

    await sign_in(console.client, "wang")
    page = (await console.client.get("/console/queue")).text
    assert "P0 警报未能送达营业部负责人" in page and "客户 C9 否认一项操作" in page
    metrics = (await console.client.get("/metrics")).text
    assert 'outreach_alerts{status="undeliverable"} 1' in metrics

    refused = await other.post("/console/alerts/1/acknowledge",
                               data={"csrf_token": csrf((await other.get("/console/queue")).text)})
    assert refused.status_code == 303  # another branch's alert: nothing changes
    async with console.app.sessions() as s:
        assert (await s.exec(select(Alert))).one().status == "undeliverable"

    done = await console.client.post("/console/alerts/1/acknowledge", data={"csrf_token": csrf(page)})
    assert done.status_code == 303
    assert "未能送达营业部负责人" not in (await console.client.get("/console/queue")).text
    async with console.app.sessions() as s:
        alert = (await s.exec(select(Alert))).one()
        assert (alert.status, alert.acknowledged_by) == ("acknowledged", "wang")
        events = (await s.exec(select(Event).where(Event.type == "alert.acknowledged"))).all()
        assert [e.actor for e in events] == ["wang"]


async def test_acknowledging_needs_the_csrf_token(console: Console) -> None:
    await _undeliverable_alert(console)
    await sign_in(console.client, "wang")
    refused = await console.client.post("/console/alerts/1/acknowledge", data={})
    assert refused.status_code == 403
    async with console.app.sessions() as s:
        assert (await s.exec(select(Alert))).one().status == "undeliverable"
