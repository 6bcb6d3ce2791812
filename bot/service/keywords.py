"""Replies that act at once (DOMAIN.md): opt-out, opt-in, help, Telegram /start links; texts.

Only whole-message keywords act here; the full classifier and the callback queue
come later. Consent changes are single conditional UPDATEs so two concurrent
STOPs withdraw once and confirm once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import AddressStatus, Branch, ConsentChange, Customer, LinkToken, Message, utcnow
from bot.domain.replies.normalize import normalize
from bot.service import events, tokens
from channels.base import InboundMessage

OPT_OUT_WORDS = frozenset(
    {"td", "t", "退订", "stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
)
OPT_IN_WORDS = frozenset({"start", "unstop", "订阅"})
HELP_WORDS = frozenset({"help", "帮助", "info"})
# Twilio's own keywords: its (Advanced) Opt-Out already answered them, so our TwiML stays empty.
TWILIO_WORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout",
     "start", "unstop", "yes", "help", "info"}
)
_TWILIO_TYPES = {"STOP": "opt_out", "START": "opt_in", "HELP": "help"}
_EDGE_PUNCT = " \t\r\n.,!?;:~\"'()[]<>，。！？；：、…“”‘’（）【】《》"
BUTTON_INTENTS = {"reply:opt_out": "opt_out", "reply:opt_in": "opt_in", "reply:help": "help"}

CUSTOMER = Customer.__table__  # type: ignore[attr-defined]
LINK = LinkToken.__table__  # type: ignore[attr-defined]
MESSAGE = Message.__table__  # type: ignore[attr-defined]
ADDRESS = AddressStatus.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Keyword:
    """A recognised keyword: what it asks for, and whether Twilio already answered it."""

    intent: str  # opt_out | opt_in | help
    word: str
    provider_answered: bool = False


def detect(text: str, *, channel: str, provider_opt_out: str | None = None) -> Keyword | None:
    """The keyword this whole message is, if any (any case, full-width folded by NFKC)."""
    if provider_opt_out and provider_opt_out.upper() in _TWILIO_TYPES:
        # Twilio tells us it handled STOP/START/HELP (covers YES as an opt-in, too).
        return Keyword(_TWILIO_TYPES[provider_opt_out.upper()], provider_opt_out.lower(), True)
    bare = normalize(text).strip()
    word = bare.strip(_EDGE_PUNCT)
    if re.search(r"\s", word):
        return None
    # Twilio acts only on the keyword alone ("STOP", not "Stop."): otherwise we answer.
    answered = channel == "sms" and word in TWILIO_WORDS and bare == word
    for intent, words in (("opt_out", OPT_OUT_WORDS), ("opt_in", OPT_IN_WORDS),
                          ("help", HELP_WORDS)):
        if word in words:
            return Keyword(intent, word, answered)
    return None


async def withdraw_consent(
    session: AsyncSession, customer_id: str, *, source: str, channel: str | None,
    actor: str = "customer", now: datetime | None = None,
) -> bool:
    """Withdraw marketing consent on every channel; False when it was already withdrawn."""
    now = now or utcnow()
    conn = await session.connection()
    result = await conn.execute(
        sa.update(CUSTOMER)
        .where(CUSTOMER.c.id == customer_id, CUSTOMER.c.opted_out_at.is_(None))
        .values(opted_out_at=now, marketing_consent=False, consent_at=now, updated_at=now)
    )
    if result.rowcount != 1:
        return False
    session.add(ConsentChange(customer_id=customer_id, marketing=False, source=source,
                              channel=channel, at=now))
    events.record(session, "consent.withdrawn", f"marketing consent withdrawn ({source})",
                  customer_id=customer_id, actor=actor, channel=channel,
                  payload={"source": source})
    return True


async def usable_again(session: AsyncSession, channel: str, address: str, *, why: str,
                       statuses: tuple[str, ...] = ("unusable",),
                       customer_id: str | None = None, now: datetime | None = None) -> bool:
    """The customer showed that an address we had given up on works (texted START from the
    number Twilio had blocked after STOP, or linked a chat that had blocked the bot): it is
    used again. A `wrong_person` mark stays unless `statuses` names it."""
    now = now or utcnow()
    conn = await session.connection()
    result = await conn.execute(sa.update(ADDRESS).where(
        ADDRESS.c.channel == channel, ADDRESS.c.address == address,
        ADDRESS.c.status.in_(statuses),
    ).values(status="ok", reason=why, changed_at=now))
    if result.rowcount != 1:
        return False
    events.record(session, "address.usable_again", f"{channel} address usable again ({why})",
                  customer_id=customer_id, channel=channel, payload={"why": why})
    return True


async def restore_consent(
    session: AsyncSession, customer_id: str, *, source: str, channel: str | None,
    actor: str = "customer", now: datetime | None = None, address: str | None = None,
) -> bool:
    """Restore marketing consent (START/订阅); False when it was already given. With the
    `address` the customer wrote from, that address is usable again too (Twilio lifts its
    STOP block on START)."""
    now = now or utcnow()
    if channel and address:
        await usable_again(session, channel, address, why=f"opt-in by {source}",
                           customer_id=customer_id, now=now)
    conn = await session.connection()
    not_given = sa.or_(
        CUSTOMER.c.opted_out_at.is_not(None),
        CUSTOMER.c.marketing_consent.is_(None),
        CUSTOMER.c.marketing_consent == sa.false(),
    )
    result = await conn.execute(
        sa.update(CUSTOMER)
        .where(CUSTOMER.c.id == customer_id, not_given)
        .values(opted_out_at=None, marketing_consent=True, consent_at=now, updated_at=now)
    )
    if result.rowcount != 1:
        return False
    session.add(ConsentChange(customer_id=customer_id, marketing=True, source=source,
                              channel=channel, at=now))
    events.record(session, "consent.restored", f"marketing consent restored ({source})",
                  customer_id=customer_id, actor=actor, channel=channel,
                  payload={"source": source})
    return True


async def bind_telegram(session: AsyncSession, msg: InboundMessage, row_id: str,
                        customer: Customer | None) -> tuple[str, str | None]:
    """`/start <token>`: bind this chat to the token's customer (single use, expiring).

    Returns the answer and the customer the chat belongs to afterwards.
    """
    known = customer.id if customer is not None else None
    if not msg.start_payload:
        return (TELEGRAM_ALREADY if known else TELEGRAM_UNBOUND), known
    now = utcnow()
    token = await tokens.resolve(session, msg.start_payload, "telegram", now=now)
    conn = await session.connection()
    if token is not None and token.used_at is None:
        used = await conn.execute(sa.update(LINK).where(
            LINK.c.id == token.id, LINK.c.used_at.is_(None)).values(used_at=now))
        if used.rowcount == 1:
            await conn.execute(sa.update(CUSTOMER).where(CUSTOMER.c.id == token.customer_id)
                               .values(telegram_chat_id=msg.from_address,
                                       telegram_bound=True, updated_at=now))
            await conn.execute(sa.update(MESSAGE).where(MESSAGE.c.id == row_id)
                               .values(customer_id=token.customer_id))
            # The customer's own link proves the chat is theirs and reachable again.
            await usable_again(session, "telegram", msg.from_address, why="linked again",
                               statuses=("unusable", "wrong_person"),
                               customer_id=token.customer_id, now=now)
            events.record(session, "telegram.bound", "Telegram chat linked by deep link",
                          customer_id=token.customer_id, actor="customer",
                          channel="telegram", payload={"message_id": row_id})
            bound = await session.get(Customer, token.customer_id)
            info = await branch_info(session, bound)
            return TELEGRAM_LINKED.format(name=info.name), token.customer_id
    if token is not None and known == token.customer_id:
        return TELEGRAM_ALREADY, known  # the same chat opened its link again
    events.record(session, "telegram.link_refused",
                  "Telegram link refused (unknown, expired or already used)",
                  customer_id=token.customer_id if token else None, channel="telegram",
                  payload={"message_id": row_id})
    return TELEGRAM_LINK_REFUSED, known


# --- texts ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BranchInfo:
    """What a reply may tell the customer about their branch."""

    name: str
    phone: str | None


async def branch_info(session: AsyncSession, customer: Customer | None) -> BranchInfo:
    """The customer's branch name and service phone; a neutral name when unknown."""
    if customer is not None:
        branch = await session.get(Branch, customer.branch_code)
        if branch is not None:
            return BranchInfo(branch.name, branch.service_phone)
    return BranchInfo("客户服务中心", None)


def keyword_reply(intent: str, locale: str, branch: BranchInfo) -> str:
    """The confirmation or HELP answer, in the customer's locale (zh-CN unless `en`)."""
    name, phone = branch.name, branch.phone
    if locale == "en":
        if intent == "opt_out":
            return (f"{name}: you have unsubscribed from marketing messages (service notices "
                    "continue). Reply START to subscribe again.")
        if intent == "opt_in":
            return f"{name}: you will receive our greetings again. Reply STOP to unsubscribe."
        call = f"customer service {phone}" if phone else "please contact your branch"
        return f"{name}: for help, {call}. Reply STOP to unsubscribe from marketing messages."
    if intent == "opt_out":
        return f"{name}：您已退订营销信息，服务通知不受影响。如需恢复，请回复“订阅”。"
    if intent == "opt_in":
        return f"{name}：您已恢复接收问候信息。如需退订，请回复“退订”。"
    call = f"客服电话{phone}" if phone else "请联系您的营业部"
    return f"{name}：如需帮助，{call}。回复“退订”可退订营销信息。"


TELEGRAM_LINKED = (
    "绑定成功！今后{name}将通过 Telegram 与您联系。回复“退订”可随时退订营销信息。\n"
    "Linked! {name} will contact you here. Reply STOP at any time to unsubscribe from marketing."
)
TELEGRAM_ALREADY = "此账号已绑定，无需重复操作。\nThis chat is already linked."
TELEGRAM_LINK_REFUSED = (
    "抱歉，该链接无效、已过期或已被使用。请联系您的营业部获取新的绑定链接。\n"
    "Sorry, this link is invalid, expired or already used. Please ask your branch for a new one."
)
TELEGRAM_UNBOUND = (
    "您好！本账号仅为已绑定的客户提供服务。请使用营业部发给您的专属链接完成绑定，"
    "或致电您的营业部。\n"
    "Hello! This bot serves linked customers only. Please open the personal link your branch "
    "sent you, or call your branch."
)
