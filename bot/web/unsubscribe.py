"""`/u/{token}`: the unsubscribe link of every marketing email (RFC 8058 one-click).

GET only shows a confirmation page (link scanners and previews fetch URLs, so
GET must change nothing); POST, from the mail client's one-click or the page's
button, withdraws marketing consent on every channel. Pages are Simplified
Chinese first, then English, and name no customer (links get forwarded).
"""

from __future__ import annotations

import html
import logging

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from bot.db.models import Customer
from bot.service import tokens
from bot.service.customers.consent import withdraw_consent
from bot.service.inbound.texts import branch_info
from bot.web.deps import context, read_limited

log = logging.getLogger("outreach.unsubscribe")
router = APIRouter()
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
            "X-Robots-Tag": "noindex", "X-Content-Type-Options": "nosniff"}

_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;
line-height:1.6;color:#222}} .en{{color:#555}} button{{font-size:1rem;padding:.6rem 1.4rem}}</style>
</head><body>
{body}
</body></html>
"""


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body), status_code=status,
                        headers=_HEADERS)


def _confirm_page(branch: str) -> HTMLResponse:
    name = html.escape(branch)
    return page("退订营销信息 / Unsubscribe", f"""<h1>退订营销信息</h1>
<p>点击下方按钮后，您将不再收到{name}的问候与营销信息（短信、邮件、Telegram 均停止）。账户与交易相关的服务通知不受影响。</p>
<p class="en" lang="en">Unsubscribe: after you press the button you will no longer receive greetings
or marketing messages from {name} on any channel. Service notices about your account continue.</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">确认退订 / Unsubscribe</button></form>""")


def _done_page(branch: str) -> HTMLResponse:
    name = html.escape(branch)
    return page("已退订 / Unsubscribed", f"""<h1>您已退订</h1>
<p>您将不再收到{name}的营销信息。如需恢复，请回复任意一条短信或 Telegram 消息“订阅”，或联系您的营业部。</p>
<p class="en" lang="en">You have been unsubscribed from {name}'s marketing messages. To subscribe
again, reply START to any of our SMS or Telegram messages, or contact your branch.</p>""")


def _gone_page() -> HTMLResponse:
    return page("链接无效 / Link not valid", """<h1>链接无效或已过期</h1>
<p>抱歉，此退订链接无效或已过期，您的设置没有任何改变。如需退订，请回复“退订”或联系您的营业部。</p>
<p class="en" lang="en">Sorry, this link is not valid or has expired; nothing was changed. To
unsubscribe, reply STOP to our message or contact your branch.</p>""", 404)


async def _branch_name(request: Request, token_id: str) -> tuple[str, str] | None:
    """(customer id, branch name) behind a live unsubscribe token."""
    async with context(request).app.sessions() as session:
        token = await tokens.resolve(session, token_id, "unsubscribe")
        if token is None:
            return None
        customer = await session.get(Customer, token.customer_id)
        info = await branch_info(session, customer)
        return token.customer_id, info.name


@router.get("/u/{token_id}", response_class=HTMLResponse)
async def unsubscribe_page(token_id: str, request: Request) -> HTMLResponse:
    """Confirmation page; changes nothing."""
    found = await _branch_name(request, token_id)
    return _confirm_page(found[1]) if found else _gone_page()


@router.post("/u/{token_id}", response_class=HTMLResponse)
async def unsubscribe(token_id: str, request: Request) -> HTMLResponse:
    """One-click (`List-Unsubscribe=One-Click`) or the page's button: withdraw consent."""
    app = context(request).app
    try:
        await read_limited(request, app.settings.max_body_bytes)
    except HTTPException:
        return page("请求过大 / Too large", "<p>请求过大 / Request too large.</p>", 413)
    async with app.sessions() as session:
        token = await tokens.resolve(session, token_id, "unsubscribe")
        if token is None:
            return _gone_page()
        changed = await withdraw_consent(
            session, token.customer_id, source="unsubscribe", channel="email")
        customer = await session.get(Customer, token.customer_id)
        info = await branch_info(session, customer)
        await session.commit()
    log.info("unsubscribe link used (%s)", "consent withdrawn" if changed else "already withdrawn")
    return _done_page(info.name)
