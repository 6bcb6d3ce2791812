"""The agent's pages over HTTP: the queue in scope, claim, the customer's words, reveal,
the outcome form's rules, other branches refused (route × role)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx
from sqlmodel import select

from bot.db.models import Branch, Callback, Customer, Event, Message
from bot.service.admin.staff import add_staff
from tests.integration.console.conftest import PASSWORD, START, Console, csrf, sign_in


async def _seed(console: Console) -> dict[str, int]:
    """A (SH01, P0, with a reply), B (SH01, P2), C (GZ01, P1); agents of both branches."""
    ids = {}
    async with console.app.sessions() as s:
        s.add(Branch(code="GZ01", name="广州天河营业部"))
        await s.flush()
        await add_staff(s, "gz", "agent", "GZ01", False, PASSWORD, actor="test")
        await add_staff(s, "hq", "hq_agent", None, False, PASSWORD, actor="test")
        for cid, branch, priority, reason in (("A", "SH01", "P0", "not_me"),
                                              ("B", "SH01", "P2", "negative"),
                                              ("C", "GZ01", "P1", "complaint")):
            s.add(Customer(id=cid, name="张三", branch_code=branch, phone="+8613812345678"))
            await s.flush()
            cb = Callback(customer_id=cid, branch_code=branch, priority=priority,
                          reasons=json.dumps([reason]), sla_due_at=START + timedelta(hours=1))
            s.add(cb)
            await s.flush()
            ids[cid] = cb.id
        s.add(Message(id="in-A", direction="in", customer_id="A", channel="sms",
                      address="+8613812345678", body="不是我转的钱，我没有操作过", status="received",
                      intent="not_me", confidence=0.95, created_at=START - timedelta(minutes=5)))
        await s.commit()
    return ids


async def _form(client: httpx.AsyncClient, page: str, action: str, **fields: str) -> httpx.Response:
    token = csrf((await client.get(page)).text)
    return await client.post(action, data={"csrf_token": token, **fields})


async def test_an_agent_works_a_callback_from_claim_to_outcome(console: Console) -> None:
    ids = await _seed(console)
    client = console.client
    assert (await sign_in(client, "wang")).status_code == 303
    queue = await client.get("/console/queue")
    assert queue.status_code == 200
    rows = re.findall(r'data-callback="(\d+)"', queue.text)
    assert rows == [str(ids["A"]), str(ids["B"])]  # P0 first, never GZ01's
    assert "剩 1小时00分" in queue.text  # the SLA countdown
    for _ in range(3):  # within the idle limit each time
        console.clock.advance(minutes=25)
        later = await client.get("/console/queue")
    assert "超时 15分" in later.text
    console.clock.advance(minutes=-75)
    claimed = await _form(client, "/console/queue", "/console/queue/claim")
    assert claimed.status_code == 303
    assert claimed.headers["location"] == f"/console/callbacks/{ids['A']}"
    page = await client.get(claimed.headers["location"])
    assert "不是我转的钱，我没有操作过" in page.text and "张三" in page.text
    assert "138****5678" in page.text and "+8613812345678" not in page.text
    shown = await _form(client, claimed.headers["location"],
                        f"/console/callbacks/{ids['A']}/reveal")
    assert "+8613812345678" in shown.text
    missing = await _form(client, claimed.headers["location"],
                          f"/console/callbacks/{ids['A']}/outcome", result="resolved",
                          identity="customer", recording_ref="REC-1")
    assert missing.status_code == 422 and "number dialled" in missing.text
    done = await _form(client, claimed.headers["location"],
                       f"/console/callbacks/{ids['A']}/outcome", result="resolved",
                       identity="customer", recording_ref="REC-1", dialled="13812345678",
                       notes="客户确认转账为本人操作")
    assert done.status_code == 200 and re.search(f'data-callback="{ids["A"]}"', done.text) is None
    async with console.app.sessions() as s:
        cb = await s.get(Callback, ids["A"])
        assert cb is not None and (cb.status, cb.outcome) == ("done", "resolved")
        kinds = [e.type for e in (await s.exec(select(Event).where(Event.customer_id == "A"))).all()]
    assert kinds.count("callback.viewed") >= 2 and "contact.revealed" in kinds


async def test_another_branch_sees_neither_the_row_nor_the_page(console: Console) -> None:
    ids = await _seed(console)
    client = await console.browser()
    assert (await sign_in(client, "gz")).status_code == 303
    queue = await client.get("/console/queue")
    assert re.findall(r'data-callback="(\d+)"', queue.text) == [str(ids["C"])]
    refused = await client.get(f"/console/callbacks/{ids['A']}")
    assert refused.status_code == 403 and "不是我转的钱" not in refused.text
    assert (await client.get("/console/callbacks/9999")).status_code == 404
    reveal = await _form(client, "/console/queue", f"/console/callbacks/{ids['A']}/reveal")
    assert reveal.status_code == 403 and "+8613812345678" not in reveal.text


async def test_head_office_sees_every_branch_and_a_claim_needs_the_csrf_token(
    console: Console,
) -> None:
    ids = await _seed(console)
    client = await console.browser()
    assert (await sign_in(client, "hq")).status_code == 303
    queue = await client.get("/console/queue")
    assert re.findall(r'data-callback="(\d+)"', queue.text) == [str(ids[c]) for c in "ACB"]
    forged = await client.post("/console/queue/claim", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    async with console.app.sessions() as s:
        assert all(c.status == "open" for c in (await s.exec(select(Callback))).all())
    rows = await client.get("/console/queue/rows")
    assert rows.status_code == 200 and f'data-p0="{ids["A"]}"' in rows.text


async def test_the_pages_need_a_signed_in_agent(console: Console) -> None:
    await _seed(console)
    client = await console.browser()
    answer = await client.get("/console/queue")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login")
