"""Staff alerts (P0): the branch manager and head office are told at once, whatever the hour.

The manager is tried channel after channel (SMS, then email): a paused or degraded channel, a
permanent failure or retries run out move the alert on. Head office gets its copy by
HQ_ALERT_EMAIL. When no channel of the manager's took it, the alert is `undeliverable`: head
office's copy says so, and it waits as a console banner until someone acknowledges it.
Every message goes through the outbox (`outbox`), so it is durable, retried and rate-limited.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Alert, Branch, Customer, Message, utcnow
from bot.domain.masking import mask_address
from bot.service import events
from bot.service.dispatch.outgoing import ALERT, enqueue
from bot.settings import Settings

UNREACHED_PREFIX = "【未能送达营业部负责人 / manager not reached】"


def manager_targets(branch: Branch) -> list[tuple[str, str]]:
    """The manager's channels, the fastest first."""
    targets = []
    if branch.manager_phone:
        targets.append(("sms", branch.manager_phone))
    if branch.manager_email:
        targets.append(("email", branch.manager_email))
    return targets


async def raise_alert(session: AsyncSession, *, kind: str, customer: Customer, branch: Branch,
                      settings: Settings, subject: str, body: str, channel: str | None = None,
                      message_id: str | None = None, now: datetime | None = None) -> list[str]:
    """Record the alert (the `alert.p0` event) and queue its first messages; returns their
    ids, for the caller to send once its transaction commits."""
    now = now or utcnow()
    targets = manager_targets(branch)
    alert = Alert(kind=kind, customer_id=customer.id, branch_code=branch.code, subject=subject,
                  body=body, targets=json.dumps(targets), created_at=now, updated_at=now)
    session.add(alert)
    await session.flush()
    assert alert.id is not None
    hq = [("email", settings.hq_alert_email)] if settings.hq_alert_email else []
    events.record(session, "alert.p0",
                  f"P0 {kind}: customer {customer.id} (branch {branch.code})",
                  customer_id=customer.id, branch_code=branch.code, channel=channel,
                  payload={"message_id": message_id, "alert_id": alert.id,
                           "targets": [f"{c}:{mask_address(c, a)}" for c, a in targets + hq]})
    queued = [enqueue(session, purpose=ALERT, channel=c, to=a, body=body, subject=subject,
                      customer_id=customer.id, alert_id=alert.id, now=now)
              for c, a in targets[:1] + hq]
    if not targets:
        await _undeliverable(session, alert, "the branch has no manager phone or email",
                             settings, now)
    return [m.id for m in queued]


async def reached(session: AsyncSession, message: Message, now: datetime) -> None:
    """An alert message was accepted: if it was to the manager, the alert is delivered."""
    alert = await session.get(Alert, message.alert_id)
    if alert is None or [message.channel, message.address] not in json.loads(alert.targets):
        return
    if alert.status == "sending":
        alert.status, alert.updated_at = "delivered", now
        session.add(alert)


async def missed(session: AsyncSession, message: Message, settings: Settings,
                 now: datetime) -> None:
    """A manager's channel failed for good: the next one, or undeliverable."""
    alert = await session.get(Alert, message.alert_id)
    if alert is None or alert.status != "sending":
        return
    targets = [tuple(t) for t in json.loads(alert.targets)]
    if (message.channel, message.address) not in targets:
        return  # head office's copy: the manager's own messages decide
    after = targets[targets.index((message.channel, message.address)) + 1:]
    if after:
        channel, address = after[0]
        enqueue(session, purpose=ALERT, channel=channel, to=address, body=alert.body,
                subject=alert.subject, customer_id=alert.customer_id, alert_id=alert.id, now=now)
        return
    await _undeliverable(session, alert, f"every channel failed (last: {message.error_code})",
                         settings, now)


async def _undeliverable(session: AsyncSession, alert: Alert, why: str, settings: Settings,
                         now: datetime) -> None:
    """Nobody at the branch got it: head office is told so (its copy was sent already, this
    one says the manager was not reached), and the console shows it until acknowledged."""
    alert.status, alert.updated_at = "undeliverable", now
    session.add(alert)
    events.record(session, "alert.undeliverable", f"P0 alert {alert.id} reached no manager: {why}",
                  customer_id=alert.customer_id, branch_code=alert.branch_code,
                  payload={"alert_id": alert.id})
    if settings.hq_alert_email:
        enqueue(session, purpose=ALERT, channel="email", to=settings.hq_alert_email, body=UNREACHED_PREFIX + alert.body,
                subject=UNREACHED_PREFIX + alert.subject, customer_id=alert.customer_id,
                alert_id=alert.id, now=now)


async def waiting(session: AsyncSession, branch: str | None) -> list[Alert]:
    """Undeliverable alerts nobody has acknowledged (one branch, or all for head office)."""
    query = select(Alert).where(Alert.status == "undeliverable")
    if branch is not None:
        query = query.where(Alert.branch_code == branch)
    return list((await session.exec(query.order_by(col(Alert.created_at)))).all())


async def acknowledge(session: AsyncSession, alert_id: int, who: str,
                      branch: str | None, now: datetime | None = None) -> bool:
    """Someone has dealt with it: the banner goes. False if there is nothing to acknowledge
    in `branch`'s scope (None: every branch)."""
    alert = await session.get(Alert, alert_id)
    if alert is None or alert.status != "undeliverable" or (
            branch is not None and alert.branch_code != branch):
        return False
    now = now or utcnow()
    alert.status, alert.acknowledged_by, alert.acknowledged_at = "acknowledged", who, now
    alert.updated_at = now
    session.add(alert)
    events.record(session, "alert.acknowledged", f"P0 alert {alert.id} acknowledged",
                  actor=who, customer_id=alert.customer_id, branch_code=alert.branch_code,
                  payload={"alert_id": alert.id})
    return True
