"""Demo data: one branch, its staff and ~50 customers, seeded idempotently."""

from __future__ import annotations

import csv
import random
import secrets
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.app import App
from bot.db.models import Branch, Staff
from bot.service.admin.branches import BranchChanges, add_branch
from bot.service.admin.staff import add_staff
from bot.service.customers.importer import ImportReport, import_customers

DEMO_BRANCH = "DEMO"
# Demo only: printed by `outreach demo` so a new user can log in to the console.
DEMO_PASSWORD = "demo-password"
DEMO_STAFF = (
    ("demo-admin", "admin", None, False),
    ("demo-branch-admin", "branch_admin", DEMO_BRANCH, False),
    ("demo-agent", "agent", DEMO_BRANCH, False),
    ("demo-compliance", "compliance", None, False),
    ("demo-sales", "sales", DEMO_BRANCH, True),
    ("system", "system", None, False),
)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
          "娟", "涛", "明", "超", "秀兰", "霞")
_SPECIAL = ("欧阳晓燕", "司马光明", "阿依古丽·买买提江", "诸葛亮亮")
#: Replies a few demo customers send on the first run, through the real inbound path, so the
#: queue and the timelines show real work: (customer, channel, text, what it becomes).
DEMO_REPLIES = (
    ("D0002", "sms", "不是我开的户，我从来没去过你们营业部", "not_me: P0, the manager is alerted"),
    ("D0003", "sms", "你们的APP天天卡，再这样我要投诉", "complaint: P1"),
    ("D0012", "sms", "在开会，明天上午十点再打给我", "reschedule: P2 at the time asked"),
    ("D0022", "sms", "看情况吧", "unsure: a P2 callback on a callback-type touch"),
    ("D0005", "email", "以后别再给我发这些了", "opt-out: consent withdrawn, confirmed once"),
)
#: The demo branch sends at any hour, so a trial at night shows the whole flow.
DEMO_SEND_WINDOW = "00:00-23:59"


@dataclass
class DemoResult:
    """What seeding did (all zeros on a second run)."""

    branch_created: bool
    staff_created: int
    customers: ImportReport
    today: dict[str, dict[str, int]]


def demo_rows(today: date, count: int = 50) -> list[dict[str, str]]:
    """Deterministic demo customers around `today`: birthdays, new accounts and dormancy."""
    rng = random.Random(20261128)
    rows = []
    for i in range(count):
        name = _SPECIAL[i] if i < len(_SPECIAL) else rng.choice(_SURNAMES) + rng.choice(_GIVEN)
        birthday = date(rng.randint(1955, 2000), rng.randint(1, 12), rng.randint(1, 28))
        if i % 10 == 3 and (today.month, today.day) != (2, 29):
            birthday = birthday.replace(month=today.month, day=today.day)  # greeted today
        opened = today - timedelta(days=rng.randint(200, 2000))
        last_trade = today - timedelta(days=rng.randint(1, 170))  # trading: not dormant
        if i % 10 == 1:
            opened = last_trade = today - timedelta(days=1)  # a new account to welcome
        elif i % 10 == 2:
            last_trade = today - timedelta(days=181)  # just went dormant
        elif i % 10 == 5:
            opened, last_trade = today - timedelta(days=1500), today - timedelta(days=400)
        mainland = i % 5 != 4
        phone = (f"+86 139{rng.randint(10000000, 99999999)}" if mainland
                 else f"+852 9123{rng.randint(1000, 9999)}")  # a valid Hong Kong mobile range
        rows.append({
            "customer_id": f"D{i + 1:04d}",
            "name": name,
            "branch": DEMO_BRANCH,
            "phone": phone,
            "email": f"customer{i + 1}@example.com" if i % 3 != 0 else "",
            "telegram_chat_id": str(700000000 + i) if i % 7 == 0 else "",
            "birthday": birthday.isoformat(),
            "opened_on": opened.isoformat(),
            "last_trade_on": last_trade.isoformat(),
            "tier": ("diamond", "gold", "standard", "standard")[i % 4],
            "locale": "en" if i % 9 == 8 else "zh-CN",
            "channels": "sms|email|telegram" if i % 2 else "email|sms",
            "salutation": ("先生", "女士", "")[i % 3],
            "marketing_consent": "yes" if i % 6 else "no",
            "status": "active" if i % 25 else "frozen",
        })
    return rows


async def seed_demo(app: App) -> DemoResult:
    """Create what is missing of the demo set; a second run adds nothing."""
    staff_created = 0
    async with app.sessions() as s:
        branch_created = await s.get(Branch, DEMO_BRANCH) is None
        if branch_created:
            await add_branch(s, DEMO_BRANCH, BranchChanges(
                name="演示证券上海演示路营业部", sms_signature="演示证券",
                service_phone="95500", manager_email="manager@demo.example.com",
                assume_consent=False, send_window=DEMO_SEND_WINDOW), app.settings, actor="demo")
        existing = set((await s.exec(select(Staff.username))).all())
        for username, role, branch, sales in DEMO_STAFF:
            if username not in existing:
                password = None if role == "system" else DEMO_PASSWORD
                await add_staff(s, username, role, branch, sales, password, actor="demo")
                staff_created += 1
        await s.commit()
    today = datetime.now(ZoneInfo(app.settings.timezone)).date()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo_customers.csv"
        rows = demo_rows(today)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        report = await import_customers(app.engine, path, app.settings, say=lambda _: None)
    from bot.service.planning.service import catch_up

    planned = await catch_up(app)  # so the demo shows today's plan at once
    return DemoResult(branch_created, staff_created, report, planned[-1].by_kind if planned else {})


def ensure_secret_key(env_file: Path) -> bool:
    """Write OUTREACH_SECRET_KEY to .env when no key is set anywhere; True if written."""
    import os

    if os.environ.get("OUTREACH_SECRET_KEY"):
        return False
    text = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
    if "OUTREACH_SECRET_KEY=" in text:
        return False
    line = f"OUTREACH_SECRET_KEY={secrets.token_urlsafe(32)}\n"
    with env_file.open("a", encoding="utf-8") as handle:
        if text and not text.endswith("\n"):
            handle.write("\n")
        handle.write(line)
    return True
