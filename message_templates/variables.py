"""The one documented set of template variables, and the samples used to check templates.

Branch admins may use exactly these names; the validator rejects anything else, and
`outreach templates vars` and the README list this table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from message_templates.catalog import longest_festival_name, normalize_kinds
from message_templates.honorific import honorific

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
TOKEN_LENGTH = 12  # link tokens are random ids of >= 70 bits, ~12 characters


@dataclass(frozen=True)
class Variable:
    """One template variable: what it means (zh/en) and an example value."""

    zh: str
    en: str
    example: str
    derived: bool = False  # filled in by render() when the caller leaves it out


VARIABLES: Mapping[str, Variable] = {
    "customer_name": Variable("客户姓名（按导入时的写法）", "Customer name as stored", "欧阳晓燕"),
    "salutation": Variable("称谓：先生 / 女士 / 空", "Salutation: 先生 / 女士 / empty", "女士"),
    "honorific": Variable(
        "称呼：姓 + 先生/女士（复姓完整保留，含“·”的姓名用全名），无称谓时为“尊敬的客户”",
        "Form of address: 'Mr./Ms. <name as stored>', or 'Customer' without a salutation",
        "欧阳女士 / Ms. 欧阳晓燕",
        derived=True,
    ),
    "branch_name": Variable("营业部名称", "Branch name", "示例证券上海世纪大道营业部"),
    "sms_signature": Variable(
        "短信签名：报备的公司简称，2–12 字，不含【】",
        "SMS signature: registered firm short name, 2-12 characters, without 【】",
        "示例证券",
    ),
    "service_phone": Variable("客服电话", "Customer service phone", "400-820-8888"),
    "festival_name": Variable("节日名称（节日回访）", "Festival name (holiday touch)", "中秋节"),
    "days_since_last_trade": Variable(
        "距上次交易的天数（流失回访）", "Days since the last trade (dormancy touch)", "186"
    ),
    "telegram_link": Variable(
        "绑定 Telegram 的链接", "Link that binds the customer's Telegram", "<PUBLIC_URL>/t/<token>"
    ),
    "unsubscribe_link": Variable("退订链接", "Unsubscribe link", "<PUBLIC_URL>/u/<token>"),
    "two_way_sms": Variable(
        "短信线路能否接收回复（是则提示“回复TD退订”，否则附退订链接）",
        "Whether the SMS route takes replies (else the unsubscribe link is used)",
        "true",
    ),
    "opt_out_hint": Variable(
        "退订提示：回复TD退订 / Reply STOP to opt out，单向线路为“退订：<链接>”",
        "Opt-out hint: 回复TD退订 / Reply STOP to opt out, or 'Opt out: <link>' on one-way routes",
        "回复TD退订",
        derived=True,
    ),
    "bundle_kinds": Variable(
        "合并发送的回访类型列表（bundle 模板用，如 ['birthday', 'holiday']）",
        "Touch kinds merged into one message (bundle template), e.g. ['birthday', 'holiday']",
        "['birthday', 'holiday']",
    ),
    "locale": Variable("语言：zh-CN 或 en", "Locale: zh-CN or en", "zh-CN"),
}

OPT_OUT_REPLY = {"zh-CN": "回复TD退订", "en": "Reply STOP to opt out"}
OPT_OUT_LINK = {"zh-CN": "退订：{link}", "en": "Opt out: {link}"}


def opt_out_hint(locale: str, two_way_sms: bool, unsubscribe_link: str | None) -> str:
    """The marketing opt-out hint: a reply keyword on two-way routes, else the link."""
    if two_way_sms:
        return OPT_OUT_REPLY[locale]
    if not unsubscribe_link:
        raise ValueError("unsubscribe_link is required on a one-way SMS route")
    return OPT_OUT_LINK[locale].format(link=unsubscribe_link)


def fill_derived(variables: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """Add the derived variables (honorific, opt_out_hint, locale) the caller left out."""
    out = dict(variables)
    out.setdefault("locale", locale)
    if "honorific" not in out:
        out["honorific"] = honorific(out.get("customer_name"), out.get("salutation"), locale)
    if "opt_out_hint" not in out and "two_way_sms" in out:
        two_way = bool(out["two_way_sms"])
        if two_way or out.get("unsubscribe_link"):
            out["opt_out_hint"] = opt_out_hint(locale, two_way, out.get("unsubscribe_link"))
    if "bundle_kinds" in out:
        out["bundle_kinds"] = list(normalize_kinds(out["bundle_kinds"]))
    return out


def link(public_url: str, prefix: str, token: str = "Ab3dEf7hJk9m") -> str:
    """A full-length link like the real ones: <public_url>/<prefix>/<12-char token>."""
    return f"{public_url.rstrip('/')}/{prefix}/{token[:TOKEN_LENGTH]}"


def sample_variables(
    locale: str,
    *,
    long: bool = False,
    public_url: str = DEFAULT_PUBLIC_URL,
    two_way_sms: bool = True,
    bundle_kinds: Iterable[str] = (),
    festival_names: Iterable[str] = (),
) -> dict[str, Any]:
    """Values for preview and validation; `long=True` is the worst case for SMS length.

    The long sample: a 10-character dotted name, a 12-character signature, a
    20-character branch name, the longest festival name, 3-digit day counts and
    full-length links on `public_url`.
    """
    zh = locale == "zh-CN"
    if long:
        values: dict[str, Any] = {
            "customer_name": "古丽娜扎尔·买买提江",
            "salutation": "女士",
            "branch_name": "示例证券上海浦东新区陆家嘴环路证券营业部"
            if zh
            else "Hangzhou Xihu Branch",
            "sms_signature": "示例证券股份有限责任公司",
            "service_phone": "400-820-8888",
            "festival_name": longest_festival_name(locale, festival_names),
            "days_since_last_trade": 999,
        }
    else:
        values = {
            "customer_name": "欧阳晓燕",
            "salutation": "女士",
            "branch_name": "示例证券上海世纪大道营业部" if zh else "Shanghai Century Avenue Branch",
            "sms_signature": "示例证券",
            "service_phone": "400-820-8888",
            "festival_name": "中秋节" if zh else "Mid-Autumn Festival",
            "days_since_last_trade": 186,
        }
    values.update(
        telegram_link=link(public_url, "t", "Tg7kP2mQx9Lw"),
        unsubscribe_link=link(public_url, "u", "Ab3dEf7hJk9m"),
        two_way_sms=two_way_sms,
        bundle_kinds=list(normalize_kinds(bundle_kinds)),
    )
    return fill_derived(values, locale)
