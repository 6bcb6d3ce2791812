"""`GET /metrics` in Prometheus text format, written by hand (no extra dependency).

Gauges are read from the database at scrape time, so every process reports the
shared truth; the send-latency histogram and webhook counters are this
process's own, fed through `observe_send_latency` and `count_webhook`.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import PlainTextResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Alert, Bundle, Callback, InboxItem, Message, table, utcnow
from bot.domain.callbacks import OPEN_STATUSES
from bot.service.dispatch.channel_state import channel_states
from bot.web.deps import context

router = APIRouter()
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CHANNEL_STATES = ("ok", "degraded", "log", "paused")



class _Histogram:
    """Cumulative buckets per label value, as Prometheus expects."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0] * (len(buckets) + 1))
        self.sums: dict[str, float] = defaultdict(float)

    def observe(self, label: str, value: float) -> None:
        counts = self.counts[label]
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                counts[i] += 1
        counts[-1] += 1  # +Inf
        self.sums[label] += value


_latency = _Histogram(LATENCY_BUCKETS)
_webhooks: dict[tuple[str, str], int] = defaultdict(int)


def observe_send_latency(channel: str, seconds: float) -> None:
    """Dispatcher hook (`Dispatcher.on_latency`): one provider call took `seconds`."""
    _latency.observe(channel, max(0.0, seconds))


def count_webhook(route: str, result: str) -> None:
    """One webhook answered: accepted, duplicate, forbidden, too_large, unconfigured, bad_request,
    spooled (database down, kept for replay), set_aside (refused by the database, kept in the
    spool's bad/), unavailable (database down, the provider retries) or lost (database and
    spool both failed)."""
    _webhooks[(route, result)] += 1


ALERT_STATUSES = ("sending", "delivered", "undeliverable", "acknowledged")


def _esc(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: object) -> str:
    return "{" + ",".join(f'{k}="{_esc(v)}"' for k, v in labels.items()) + "}" if labels else ""


def _family(name: str, kind: str, help_: str, samples: Iterable[str]) -> list[str]:
    return [f"# HELP {name} {help_}", f"# TYPE {name} {kind}", *samples]


async def render(session: AsyncSession, request: Request) -> str:
    """The whole exposition; one query per family."""
    conn = await session.connection()
    now = utcnow()
    m = table(Message)
    b = table(Bundle)
    c = table(Callback)
    messages = (await conn.execute(
        sa.select(m.c.channel, m.c.direction, m.c.status, sa.func.count())
        .group_by(m.c.channel, m.c.direction, m.c.status)
        .order_by(m.c.channel, m.c.direction, m.c.status))).all()
    backlog = (await conn.execute(sa.select(sa.func.count()).select_from(b).where(
        b.c.status == "planned", b.c.due_at <= now))).scalar_one()
    callbacks = (await conn.execute(
        sa.select(c.c.priority, c.c.status, sa.func.count())
        .where(c.c.status.in_(OPEN_STATUSES))
        .group_by(c.c.priority, c.c.status).order_by(c.c.priority, c.c.status))).all()
    breaches = (await conn.execute(
        sa.select(c.c.priority, sa.func.count())
        .where(c.c.status.in_(OPEN_STATUSES), c.c.sla_due_at < now)
        .group_by(c.c.priority).order_by(c.c.priority))).all()
    outbox = (await conn.execute(
        sa.select(m.c.purpose, m.c.status, sa.func.count())
        .where(m.c.purpose.is_not(None), m.c.status.in_(("prepared", "retry", "sending", "unknown")))
        .group_by(m.c.purpose, m.c.status).order_by(m.c.purpose, m.c.status))).all()
    ib = table(InboxItem)
    inbox_waiting = (await conn.execute(sa.select(sa.func.count()).select_from(ib).where(
        ib.c.status == "new"))).scalar_one()
    al = table(Alert)
    alerts: dict[str, int] = dict((await conn.execute(
        sa.select(al.c.status, sa.func.count()).group_by(al.c.status))).all())
    states = await channel_states(session, context(request).channels())
    lines: list[str] = []
    lines += _family("outreach_messages", "gauge", "Messages by channel, direction and status.",
                     (f"outreach_messages{_labels(channel=ch, direction=d, status=st)} {n}"
                      for ch, d, st, n in messages))
    lines += _family("outreach_channel_state", "gauge",
                     "Channel state: 1 for the current one (ok, degraded, log, paused).",
                     (f"outreach_channel_state{_labels(channel=ch, state=s)} {int(s == cur)}"
                      for ch, cur in states.items() for s in CHANNEL_STATES))
    lines += _family("outreach_due_backlog", "gauge", "Planned bundles already due.",
                     [f"outreach_due_backlog {backlog}"])
    lines += _family("outreach_callbacks", "gauge", "Open callbacks by priority and status.",
                     (f"outreach_callbacks{_labels(priority=p, status=st)} {n}"
                      for p, st, n in callbacks))
    lines += _family("outreach_callbacks_sla_breached", "gauge",
                     "Open callbacks past their SLA, by priority.",
                     (f"outreach_callbacks_sla_breached{_labels(priority=p)} {n}"
                      for p, n in breaches))
    lines += _family("outreach_outbox_waiting", "gauge",
                     "Answers and alerts stored and not sent yet, by purpose and status.",
                     (f"outreach_outbox_waiting{_labels(purpose=p, status=st)} {n}"
                      for p, st, n in outbox))
    lines += _family("outreach_alerts", "gauge",
                     "P0 alerts by status; undeliverable ones wait in the console until "
                     "acknowledged.",
                     (f"outreach_alerts{_labels(status=st)} {alerts.get(st, 0)}"
                      for st in ALERT_STATUSES))
    lines += _family("outreach_send_latency_seconds", "histogram",
                     "Provider call time per send, this process.", _latency_samples())
    lines += _family("outreach_webhook_requests_total", "counter",
                     "Webhook requests by route and result, this process.",
                     (f"outreach_webhook_requests_total{_labels(route=r, result=res)} {n}"
                      for (r, res), n in sorted(_webhooks.items())))
    lines += _family("outreach_inbox_waiting", "gauge",
                     "Stored provider requests (a reply storm) not acted on yet.",
                     [f"outreach_inbox_waiting {inbox_waiting}"])
    lines += _family("outreach_spooled_webhooks", "gauge",
                     "Twilio requests kept in SPOOL_DIR while the database was down, "
                     "waiting for replay.",
                     [f"outreach_spooled_webhooks {len(context(request).spool.pending())}"])
    return "\n".join(lines) + "\n"


def _latency_samples() -> list[str]:
    out = []
    bounds: tuple[float | str, ...] = (*LATENCY_BUCKETS, "+Inf")
    for channel in sorted(_latency.counts):
        counts = _latency.counts[channel]
        for bound, n in zip(bounds, counts, strict=True):
            le = bound if isinstance(bound, str) else repr(float(bound))
            out.append(f"outreach_send_latency_seconds_bucket{_labels(channel=channel, le=le)} {n}")
        out.append(f"outreach_send_latency_seconds_sum{_labels(channel=channel)} "
                   f"{_latency.sums[channel]}")
        out.append(f"outreach_send_latency_seconds_count{_labels(channel=channel)} {counts[-1]}")
    return out


async def metrics_access(request: Request) -> None:
    """With METRICS_TOKEN set, a scraper must send `Authorization: Bearer <token>` (401
    otherwise); unset, /metrics stays open to whoever reaches HTTP_HOST."""
    expected = context(request).app.settings.metrics_token
    if not expected:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(),
                                                                expected.encode()):
        raise HTTPException(401, "bearer token required", headers={"WWW-Authenticate": "Bearer"})


@router.get("/metrics", dependencies=[Depends(metrics_access)])
async def metrics(request: Request) -> PlainTextResponse:
    """Prometheus scrape endpoint (text format 0.0.4)."""
    async with context(request).app.sessions() as session:
        body = await render(session, request)
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4; charset=utf-8")
