"""Raw replies in the layouts real mail clients write (tests/data/mail/*.eml) cut to exactly
what the customer wrote, and auto-replies told apart from replies.

The files are written by hand after each client's format (headers, MIME structure, quote
markers, signature, charset and transfer encoding as that client sends them), with made-up
people and addresses; none is a customer's mail."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import pytest

from channels.base import InboundMessage
from channels.email_parse import (
    decode_bytes,
    header_text,
    html_to_text,
    parse_email_inbound,
    strip_quoted_reply,
)

MAIL = Path(__file__).resolve().parents[2] / "data" / "mail"
REPLY = "reply+rTok123@replies.localhost"
DOMAIN = "replies.localhost"

#: file → the text the customer wrote. Each file is one client's layout: headers, MIME
#: structure (multipart/alternative, HTML only, plain only), charset and transfer encoding.
CUT = {
    # QQ Mail web: GB18030 base64, &nbsp; entities in the text part, blank-line runs, the
    # grey "------------------" signature, "------------------ 原始邮件 ------------------".
    "qq_web.eml": "好的，下午三点以后打给我吧。",
    # QQ Mail app, HTML only, labelled gb2312 but GB18030 bytes (䶮 is four bytes).
    "qq_app_html_only.eml": "可以，刘䶮周三上午十点后方便接电话。",
    # Foxmail / QQ web, HTML only: the original inside <includetail>.
    "foxmail_web_html_only.eml": "好的，知道了。",
    # Foxmail 7.2: gb2312 label with GBK bytes (喆), address signature, 发件人： block.
    "foxmail_desktop.eml": "好的，请喆经理下午联系我。",
    # Foxmail for Mac: a name line under the text, "------------------ Original ---".
    "foxmail_mac_name_line.eml": "不需要了，谢谢",
    # NetEase Mail Master: 发自网易邮箱大师 and "---- 回复的原邮件 ----".
    "netease_mailmaster.eml": "可以，周三上午十点后打我手机。",
    # NetEase Mail Master signature card (GBK quoted-printable).
    "netease_mailmaster_card.eml": "好的，谢谢提醒",
    # 163 webmail: GBK base64, ten blank lines, "在 … 写道：" and > quoting.
    "netease_163_web.eml": "好的，知道了，谢谢。",
    # Coremail XT: "--" signature (name, company), "-----原始邮件-----".
    "coremail_signature.eml": "您好，我已经不在原单位了，请不要再发这个邮箱。",
    # Coremail: a bare address as the signature, gb2312 label, GBK base64.
    "coremail_address_signature.eml": "明天下午三点以后可以。",
    # Outlook 2016 zh-CN: 发件人:/发送时间:/收件人:/主题: after "&nbsp;" lines, gb2312 QP.
    "outlook_2016_zh.eml": "好的，请喆经理下午给我回电话。",
    # Outlook, plain text: "Regards, <name>" and "-----Original Message-----".
    "outlook_en_original_message.eml": "Please call me back after 3 pm tomorrow.",
    # Outlook 2010 zh-CN: "-----邮件原件-----".
    "outlook_2010_zh.eml": "不用了，谢谢。",
    # Outlook for iOS: "Get Outlook for iOS<link>", underscores, From:/Sent: block.
    "outlook_ios_en.eml": "OK, call me tomorrow morning.",
    # Outlook for Android, zh: 获取 Outlook for Android, 发件人:/发送时间: block, gb2312 base64.
    "outlook_android_zh.eml": "好的，下周一上午再联系。",
    # Outlook on the web, HTML only: #Signature, #divRplyFwdMsg and the original after it.
    "outlook_web_html_only.eml": "我对这个没兴趣，以后请不要再联系我了。",
    # new Outlook for Mac, HTML only: #mail-editor-reference-message-container, 日期:.
    "outlook_mac_html_only.eml": "收到，周四下午两点后方便。",
    # Windows Mail: 发送自 Windows 10 版邮件应用.
    "windows_mail_zh.eml": "好的，谢谢。",
    # Outlook.com: 发送自 Outlook<link>.
    "outlook_com_sent_from.eml": "可以，下午打给我。",
    # Gmail web zh: "… <addr>\n于2026年12月1日周二 10:00写道：" over two lines.
    "gmail_web_zh.eml": "收到，谢谢！下周一上午可以。",
    # Gmail-style HTML only: gmail_signature and gmail_quote.
    "gmail_html_only.eml": "Not interested, please remove me from your list.",
    # iPhone Mail zh: 发自我的iPhone, the attribution itself quoted.
    "iphone_zh.eml": "好的，谢谢",
    # iPhone Mail en, plain only: Sent from my iPhone.
    "iphone_en.eml": "Yes, please call me after 4 pm.",
    # Apple Mail (macOS): "2026年12月1日 10:00，… 写道：", blank-line run before it.
    "apple_mail_mac_zh.eml": "可以，下周二上午十点。",
    # Thunderbird: format=flowed, bottom-posted under the quote, "-- " signature.
    "thunderbird_flowed.eml": (
        "Thanks. I am travelling this week, please call me next Monday after 2 pm, "
        "Beijing time."),
    # Huawei Email: 发自我的华为手机, "-------- 原始邮件 --------", 发件人：/日期：.
    "huawei_android_zh.eml": "好的，我周末在家，周六下午可以聊。",
    # Samsung Email: 发自我的Galaxy, "-------- 原始信息 --------".
    "samsung_android_zh.eml": "谢谢，不需要回访。",
    # Aliyun Mail: a long dash rule straight under the text, 发件人：/主　题：.
    "aliyun_mail_zh.eml": "好的，谢谢提醒。",
}

AUTO = {
    "auto_qq_vacation.eml": "subject",
    "auto_outlook_oof_zh.eml": "subject",
    "auto_outlook_oof_en.eml": "subject",
    "auto_out_of_office.eml": "subject",
    "auto_not_in_office_zh.eml": "subject",
    "auto_gmail_vacation.eml": "Auto-Submitted",
    "auto_x_autoreply.eml": "X-Autoreply",
    "auto_x_autorespond.eml": "X-Autorespond",
    "auto_precedence.eml": "Precedence",
    "auto_body_only_zh.eml": "out-of-office text",
    "auto_body_only_en.eml": "out-of-office text",
}


def _parse(name: str) -> InboundMessage:
    return parse_email_inbound((MAIL / name).read_bytes(), [REPLY], reply_domain=DOMAIN)


def test_every_fixture_is_listed() -> None:
    assert {p.name for p in MAIL.glob("*.eml")} == set(CUT) | set(AUTO) | {
        "human_auto_submitted_no.eml"}


@pytest.mark.parametrize(("name", "expected"), sorted(CUT.items()), ids=sorted(CUT))
def test_client_reply_is_cut_to_what_the_customer_wrote(name: str, expected: str) -> None:
    inbound = _parse(name)
    assert inbound.text == expected
    assert inbound.reply_token == "rTok123"
    assert not inbound.raw["auto_reply"]


@pytest.mark.parametrize(("name", "why"), sorted(AUTO.items()), ids=sorted(AUTO))
def test_auto_replies_are_recognised(name: str, why: str) -> None:
    inbound = _parse(name)
    assert inbound.raw["auto_reply"].startswith(why)


def test_subjects_decode_gbk_under_a_gb2312_label() -> None:
    assert _parse("foxmail_desktop.eml").subject == "回复: 生日快乐"
    assert _parse("auto_outlook_oof_zh.eml").subject == "自动答复: 生日快乐"


def test_auto_submitted_no_and_a_human_away_from_the_office_are_replies() -> None:
    inbound = _parse("human_auto_submitted_no.eml")
    assert inbound.raw["auto_reply"] == ""
    assert inbound.text == "我现在不在办公室，下午三点后打给我。"


def _message(name: str) -> EmailMessage:
    msg = message_from_bytes((MAIL / name).read_bytes(), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


WITH_HTML = [n for n in sorted(CUT) if _message(n).get_body(preferencelist=("html",))]


@pytest.mark.parametrize("name", WITH_HTML, ids=WITH_HTML)
def test_the_html_alternative_cuts_alike(name: str) -> None:
    """Where the client sent HTML too (or only HTML), the HTML alone gives the same text."""
    msg = _message(name)
    part = msg.get_body(preferencelist=("html",))
    assert part is not None
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    display, address = getaddresses([header_text(msg, "From")])[0]
    text = html_to_text(decode_bytes(payload, part.get_content_charset()))
    names = (display, address, address.partition("@")[0])
    assert strip_quoted_reply(text, sender_names=names) == CUT[name]


@pytest.mark.parametrize(("text", "expected"), [
    # QQ's text part: entities and a blank-line run before the separator
    ("好的&nbsp;谢谢\n\n\n&nbsp;\n\n\n------------------&nbsp;原始邮件&nbsp;------------------\n"
     "发件人:&nbsp;\"某某证券\"&lt;noreply@firm.example&gt;;\n发送时间:&nbsp;2026年12月1日", "好的 谢谢"),
    # "在 … 写道：" split over two lines, full-width colon, no > under it
    ("明白\n\n在 2026年12月1日 上午10:00，某某证券 <noreply@firm.example>\n写道：\n张先生：您好",
     "明白"),
    ("Sure.\n\nOn Tue, Dec 1, 2026 at 10:00 AM Firm Securities\n<noreply@firm.example> wrote:\n\n"
     "Dear Mr Zhang", "Sure."),
    # an Outlook header block collapsed onto one line
    ("OK\n\nFrom: Firm <noreply@firm.example> Sent: Tuesday, December 1, 2026 10:00 AM To: Zhang",
     "OK"),
    ("可以\n\n-----原始邮件-----\n发件人: 某某证券", "可以"),
    ("Fine\n\nGet Outlook for Android<https://aka.ms/AAb9ysg>", "Fine"),
    ("行\n\n发送自 Outlook", "行"),
    ("Yes\n\nSent from my iPhone", "Yes"),
    # the customer's own paragraphs keep one blank line between them
    ("第一，不用打电话。\n\n\n\n第二，请发邮件。\n\n\n", "第一，不用打电话。\n\n第二，请发邮件。"),
    # kept: what only looks like a trailer or a signature
    ("请打我手机\n\n13800138000", "请打我手机\n\n13800138000"),
    ("谢谢你们的祝福\n发自内心地感谢", "谢谢你们的祝福\n发自内心地感谢"),
    ("以后别发了\n从今天起不要再给我发送", "以后别发了\n从今天起不要再给我发送"),
    ("zhang.san@example.com", "zhang.san@example.com"),
    ("On Monday I wrote: nothing\nOn Monday my wife wrote:\nplease call", (
        "On Monday I wrote: nothing\nOn Monday my wife wrote:\nplease call")),
], ids=["qq-entities", "zai-xiedao-two-lines", "on-wrote-two-lines", "one-line-header",
        "yuanshi-youjian", "get-outlook", "fasongzi-outlook", "sent-from-iphone",
        "own-paragraphs", "phone-kept", "fazi-neixin-kept", "fasong-kept", "only-address-kept",
        "not-attributions"])
def test_cut_text(text: str, expected: str) -> None:
    assert strip_quoted_reply(text, sender_names=("张三", "zhang.san@example.com")) == expected
