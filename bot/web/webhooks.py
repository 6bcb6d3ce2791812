"""Provider webhooks: Twilio inbound SMS and status reports, Telegram updates.

Order of checks: unconfigured → 404, too big → 413, bad or missing signature →
403 (nothing stored), then store and act. Sends that need the network
(Telegram and email answers, answering a button press) run after the answer. Twilio does not
retry a failed webhook: while the database is down its requests go to the spool
(`bot.service.inbound.spool`) and are replayed by `replay_spooled` once it answers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import parse_qsl

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from bot.db.models import utcnow
from bot.domain.text import unstorable
from bot.logs import frames_only
from bot.service.dispatch.reports import handle_status
from bot.service.inbound import inbox
from bot.service.inbound.spool import SpooledRequest, database_down, replay, spool_request
from bot.web.deps import WebContext, context, read_limited
from bot.web.metrics import count_webhook
from channels.sms_twilio import (
    parse_twilio_inbound,
    parse_twilio_status,
    twiml_empty,
    verify_twilio_signature,
)
from channels.telegram_parse import (
    parse_bot_blocked,
    parse_telegram_update,
    verify_telegram_secret,
)

log = logging.getLogger("outreach.webhooks")
router = APIRouter()
TWIML = "application/xml"
T = TypeVar("T")


def called_url(request: Request, public_url: str) -> str:
    """The URL the provider called as it signed it: PUBLIC_URL + path + raw query.

    The path and query are taken as received (not re-encoded), so the signature
    matches byte for byte even behind a proxy that rewrites the host.
    """
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    path = raw.split(b"?", 1)[0].decode("latin-1")
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{public_url}{path}?{query}" if query else f"{public_url}{path}"


async def _twilio_form(request: Request, route: str) -> dict[str, str]:
    """404 / 413 / 403 gate shared by both Twilio routes; returns the verified form."""
    settings = context(request).app.settings
    token = settings.twilio_auth_token
    if not token:
        count_webhook(route, "unconfigured")
        raise HTTPException(404)
    try:
        body = await read_limited(request, settings.max_body_bytes)
    except HTTPException as exc:
        count_webhook(route, "too_large" if exc.status_code == 413 else "bad_request")
        raise
    try:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        form = {}
    url = called_url(request, settings.public_url)
    if not verify_twilio_signature(token, url, form, request.headers.get("X-Twilio-Signature")):
        count_webhook(route, "forbidden")
        log.warning("%s: bad or missing X-Twilio-Signature; nothing stored", route)
        raise HTTPException(403)
    return form


def _parsed(parse: Callable[[dict[str, str]], T], form: dict[str, str], route: str,
            what: str) -> T:
    """The provider's form in our shape, or 400 (counted) when it is not what the route takes."""
    try:
        return parse(form)
    except ValueError:
        count_webhook(route, "bad_request")
        raise HTTPException(400, what) from None


@router.post("/webhooks/twilio/sms")
async def twilio_sms(request: Request, background: BackgroundTasks) -> Response:
    """Inbound SMS: verified, stored (once per MessageSid) and answered at once; matching,
    keywords and the classifier act on it right after, in arrival order (`inbox`). A keyword's
    confirmation therefore goes as an SMS of its own, not in this answer's TwiML."""
    ctx = context(request)
    ctx.answering += 1  # the drainer gives way while requests are being answered
    try:
        return await _store_sms(request, background, ctx)
    finally:
        ctx.answering -= 1


async def _store_sms(request: Request, background: BackgroundTasks, ctx: WebContext) -> Response:
    form = await _twilio_form(request, "twilio_sms")
    inbound = _parsed(parse_twilio_inbound, form, "twilio_sms", "not an inbound message")
    kept = SpooledRequest("twilio_sms", form, inbound.received_at)
    if ctx.spool.pending():  # older messages wait on disk: this one queues behind them
        await _spool(ctx, kept)
        return Response(twiml_empty(), media_type=TWIML)
    if unstorable(inbound.provider_id):
        count_webhook("twilio_sms", "bad_request")
        raise HTTPException(400, "MessageSid is not a Twilio id")
    try:
        new = await ctx.inbox.store("twilio_sms", inbound.provider_id, form,
                                    inbound.received_at)
    except Exception as exc:
        await _spool(ctx, kept, exc)
        return Response(twiml_empty(), media_type=TWIML)
    count_webhook("twilio_sms", "accepted" if new else "duplicate")
    if new:
        background.add_task(act_now, ctx)
    return Response(twiml_empty(), media_type=TWIML)


async def act_now(ctx: WebContext) -> None:
    """After the answer: the drain loop acts on what was stored. Without one (an app served
    without its lifespan, as in tests) the rows are acted on here and their answers sent."""
    if ctx.drainer.looping:
        ctx.drainer.wake()  # not here: this keeps the connection from its next request
        return
    await _act(ctx, None)


async def _act(ctx: WebContext, limit: int | None, *, wait: bool = True) -> None:
    """Act on stored rows, then send what they decided (`wait=False`: in the background, so
    the loop goes on acting while answers wait for their rate slots)."""
    try:
        await ctx.drainer.kick(limit)
    except Exception as exc:  # the rows stay; the drain loop comes back to them
        log.error("acting on stored requests failed; retried by the drain loop: %s",
                  frames_only(exc))
    if wait:
        await ctx.deliver_pending()
    elif ctx.to_deliver and not ctx.sending:  # one sender at a time keeps the order
        task = asyncio.create_task(ctx.deliver_pending())
        ctx.sending.add(task)
        task.add_done_callback(ctx.sending.discard)


def act_on_stored(ctx: WebContext) -> Callable[[inbox.Stored], Awaitable[None]]:
    """The inbox's handler: a stored Twilio SMS, acted on as if it had just arrived (with
    the time Twilio called us); what must be sent waits for `deliver_pending`."""

    async def handle(item: inbox.Stored) -> None:
        inbound = parse_twilio_inbound(item.form, item.received_at)
        handled = await ctx.processor.handle(inbound, twiml=False)
        if handled.outbox or handled.button_query_id:
            ctx.to_deliver.append(handled)

    return handle


async def _spool(ctx: WebContext, item: SpooledRequest, exc: Exception | None = None) -> None:
    """Keep a request that was not stored; 503 only if even the disk fails.

    Twilio never repeats a request, so whatever stopped storing it, it is kept: database
    down (or `exc` None: older requests wait) → the spool, replayed in order; refused for
    any other reason → `bad/` at once (a replay would fail the same way, and live traffic
    must not queue behind it), logged in full for a person (bodies and numbers are not in
    the log: the engine hides statement parameters)."""
    refused = exc if exc is not None and not database_down(exc) else None
    if not await spool_request(ctx.spool, item, refused):
        count_webhook(item.route, "lost")
        raise HTTPException(503, "database unavailable")
    count_webhook(item.route, "set_aside" if refused else "spooled")


@router.post("/webhooks/twilio/status")
async def twilio_status(request: Request) -> Response:
    """Twilio status report (its StatusCallback); `?m=` names our message, so an early
    status is kept for it."""
    form = await _twilio_form(request, "twilio_status")
    report = _parsed(parse_twilio_status, form, "twilio_status", "not a status report")
    our_id = request.query_params.get("m") or None
    if our_id is not None and unstorable(our_id):  # not a message id of ours
        count_webhook("twilio_status", "bad_request")
        raise HTTPException(400, "m is not a message id")
    ctx = context(request)
    try:
        applied = await handle_status(ctx.app.sessions, "sms", report.message_sid,
                                      report.update, our_id=our_id)
    except Exception as exc:
        await _spool(ctx, SpooledRequest("twilio_status", form, utcnow(), our_id), exc)
    else:
        count_webhook("twilio_status", applied.result)
    return Response(twiml_empty(), media_type=TWIML)


async def replay_spooled(ctx: WebContext) -> int:
    """Store and act on the spooled Twilio requests (oldest first); SMS answers that the
    TwiML would have carried go through the SMS adapter instead."""

    async def handle(item: SpooledRequest) -> None:
        if item.route == "twilio_status":
            report = parse_twilio_status(item.form)
            await handle_status(ctx.app.sessions, "sms", report.message_sid, report.update,
                                our_id=item.our_id)
            return
        inbound = dataclasses.replace(parse_twilio_inbound(item.form),
                                      received_at=item.received_at)
        handled = await ctx.processor.handle(inbound, twiml=False)
        await ctx.processor.deliver(handled)

    return await replay(ctx.spool, handle)


async def drain_forever(ctx: WebContext, every: float = 2.0) -> None:
    """The web process's inbox loop: each stored request acted on in order (a storm's
    backlog too), rows another process stored or a crash left; then what they decided is
    sent."""
    ctx.drainer.looping = True
    try:
        while True:
            await _act(ctx, None, wait=False)
            await ctx.drainer.wait(every)
    finally:
        ctx.drainer.looping = False


async def replay_spool_forever(ctx: WebContext, every: float = 10.0) -> None:
    """The web process's replay loop: one round at start, then every `every` seconds."""
    while True:
        try:
            await replay_spooled(ctx)
        except Exception:  # never let the loop die: the files stay for the next round
            log.exception("spool replay round failed")
        await asyncio.sleep(every)


@router.post("/webhooks/telegram")
async def telegram(request: Request, background: BackgroundTasks) -> JSONResponse:
    """Telegram update (webhook mode), checked with the secret header."""
    settings = context(request).app.settings
    if not settings.telegram_bot_token:
        count_webhook("telegram", "unconfigured")
        raise HTTPException(404)
    try:
        body = await read_limited(request, settings.max_body_bytes)
    except HTTPException as exc:
        count_webhook("telegram", "too_large" if exc.status_code == 413 else "bad_request")
        raise
    secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
    if not verify_telegram_secret(secret, settings.telegram_webhook_secret or ""):
        count_webhook("telegram", "forbidden")
        log.warning("telegram: bad or missing secret token; nothing stored")
        raise HTTPException(403)
    try:
        update = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deep
        count_webhook("telegram", "bad_request")
        raise HTTPException(400, "not JSON") from None
    ctx = context(request)
    try:
        blocked = parse_bot_blocked(update) if isinstance(update, dict) else None
        if blocked is not None:
            await ctx.processor.bot_blocked(*blocked)
            count_webhook("telegram", "blocked" if blocked[1] else "unblocked")
            return JSONResponse({"ok": True})
        inbound = parse_telegram_update(update) if isinstance(update, dict) else None
        if inbound is None:
            count_webhook("telegram", "ignored")
            return JSONResponse({"ok": True})
        handled = await ctx.processor.handle(inbound)
    except Exception as exc:
        if not database_down(exc):
            raise
        # Telegram repeats an update until it gets a 2xx: nothing is lost by asking it to.
        count_webhook("telegram", "unavailable")
        raise HTTPException(503, "database unavailable, try again",
                            headers={"Retry-After": "5"}) from None
    count_webhook("telegram", "duplicate" if handled.duplicate else "accepted")
    background.add_task(ctx.processor.deliver, handled)
    return JSONResponse({"ok": True})
