"""What we answer customers on their own: keyword confirmations, HELP, Telegram link texts.

Simplified Chinese first, English second (or English alone for `en` customers).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db.models import Branch, Customer


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

#: What a button press shows in the customer's Telegram client (the spinner's answer).
BUTTON_RECEIVED = "已收到 / Received"
BUTTON_DONE = {"opt_out": "已退订 / Unsubscribed", "opt_in": "已恢复订阅 / Subscribed"}
