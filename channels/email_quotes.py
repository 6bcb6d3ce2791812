"""A reply's text cut to what the customer wrote: no quoted history, signature, "sent from"
line or blank-line run.

Where the history starts: a separator ("-----Original Message-----", "-----原始邮件-----",
"-----邮件原件-----", QQ's "------------------ 原始邮件 ------------------", NetEase's
"---- 回复的原邮件 ----", Android's "-------- 原始信息 --------"), a header block (From:/Sent:,
发件人:/发送时间:/日期:/收件人:/主题:, one line or several), an attribution ("On … wrote:",
"在 … 写道：", "… <a@b> 于 … 写道：", over up to three lines) with no `>` lines under it, or
a "--" signature delimiter. `>` lines are dropped wherever they are, so a reply written under
the quote (Thunderbird) keeps its text. What is left is trimmed from the bottom: "sent from"
lines (发自我的iPhone, 发送自 Outlook, Get Outlook for iOS …), a bare address, the sender's
name (and a "Regards," above it), a name over an address, a short block under a dash rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import unescape

_DASH = r"[-‐‑‒–—―_=*]"
_SEPARATOR = re.compile(
    rf"^\s*{_DASH}{{2,}}\s*(?:original message|original mail|original|forwarded message"
    r"|原始邮件|原始郵件|原始信息|原邮件|邮件原件|回复的原邮件|转发的原邮件|转发邮件|转发邮件信息"
    rf"|message d'origine|ursprüngliche nachricht)\s*{_DASH}{{2,}}\s*$",
    re.IGNORECASE)
_FORWARD = re.compile(r"^\s*(?:begin forwarded message|开始转发的邮件)\s*[:：]\s*$", re.IGNORECASE)
_HEADER_FROM = re.compile(r"^\s*\*?(?:from|发\s*件\s*人|寄件者|寄件人)\*?\s*[:：]", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(?:sent|date|to|cc|subject|发送时间|发送日期|时间|日期|收\s*件\s*人|抄\s*送|主\s*题"
    r"|寄件日期|收件者|主旨)\*?\s*[:：]", re.IGNORECASE)
_HEADER_ONE_LINE = re.compile(
    r"^\s*\*?(?:from|发件人)\*?\s*[:：].{1,300}\s\*?(?:sent|date|发送时间|日期)\*?\s*[:：]",
    re.IGNORECASE)
_SIG_DELIMITER = re.compile(r"^--\s*$")
_WROTE = re.compile(
    r"^\s*(?:on\b.{0,400}\bwrote|在.{0,400}写道|.{0,400}@.{0,400}(?:wrote|写道))\s*[:：]\s*$",
    re.IGNORECASE)
_WROTE_START = re.compile(r"^\s*(?:on\s|at\s|在|于|\d{4}\s*[-/年])", re.IGNORECASE)
_CONTINUES = re.compile(r"^\s*(?:<|于|wrote\b|写道)", re.IGNORECASE)
_SENT_FROM = re.compile(
    r"^[-—–\s]*(?:sent from (?:my )?\S.{0,40}|sent (?:with|via|using) \S.{0,40}"
    r"|get outlook for \S.{0,20}|发自\s*(?:我的|网易|[A-Za-z]).{0,24}"
    r"|来自(?:我的)?\s*\S{0,12}(?:手机|邮箱|客户端|iphone|ipad|android)"
    r"|发送自\s*(?:我的\s*)?[A-Za-z华为小米荣耀三星网易].{0,30}"
    r"|从\s*(?:我的\s*)?(?:windows|iphone|ipad|android|mac|outlook|华为|小米|荣耀|三星)"
    r"[^。，！？]{0,20}发送|获取\s*outlook.{0,30}|签名由.{0,12}定制)"
    r"\s*(?:<(?:https?|mailto):[^>]*>)?\s*$", re.IGNORECASE)
_RULE = re.compile(rf"^\s*{_DASH}{{2,}}\s*$")
_ADDRESS = re.compile(r"^\s*(?:mailto:)?<?[\w.+'-]+@[\w-]+(?:\.[\w-]+)+>?\s*$")
_CLOSING = re.compile(
    r"^\s*(?:(?:best|kind|warm|warmest)\s+regards|regards|best wishes|best|cheers|thanks"
    r"|many thanks|sincerely|yours sincerely|此致|此致敬礼|敬礼|祝好|顺祝商祺)\s*[,，!！.。]?\s*$",
    re.IGNORECASE)
_NAME_LIKE = re.compile(r"^[^\d,，。！？!?;；:：<>@()（）]{1,40}$")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});", re.IGNORECASE)
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SIGNATURE_LINES = 6
#: A reply's own text is short; past this much only history (or an attack) is left.
MAX_TEXT = 200_000
_ATTRIBUTION_MAX = 600


def normalize_text(text: str) -> str:
    """Line ends unified; HTML entities (QQ's and others' text parts carry `&nbsp;`,
    `&gt;`) and no-break spaces made plain; zero-width marks dropped; lines right-trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ENTITY.sub(lambda m: unescape(m.group(0)), text)
    text = _INVISIBLE.sub("", text.replace("\xa0", " "))
    return "\n".join(line.rstrip() for line in text.split("\n"))


def strip_quoted_reply(text: str, *, sender_names: Iterable[str] = ()) -> str:
    """Only what the customer wrote: quoted history, signature and "sent from" lines cut,
    blank-line runs made one blank line. `sender_names` (the From display name, the
    address, its local part) lets a signature that is just the sender's name go too.
    Reads the first MAX_TEXT characters."""
    lines = normalize_text(text[:MAX_TEXT]).split("\n")
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line:
            kept.append(line)
            i += 1
            continue
        if _history_starts(lines, i):
            break
        if _quoted(line):
            i += 1
            continue
        span = _wrote_span(lines, i)
        if span:
            if kept and kept[-1].strip() and _CONTINUES.match(line) and _WROTE.match(
                    " ".join([kept[-1], *lines[i:i + span]])):
                kept.pop()  # the attribution began on the line before ("Name\n<a@b> 于…写道：")
            after = i + span
            while after < len(lines) and not lines[after].strip():
                after += 1
            if after == len(lines) or not _quoted(lines[after]):
                break  # top-posted: what follows is the original, quoted or not
            i += span
            continue
        kept.append(line)
        i += 1
    kept = _without_signature(kept, {n.strip().casefold() for n in sender_names if n.strip()})
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _history_starts(lines: list[str], i: int) -> bool:
    line = lines[i]
    if _SIG_DELIMITER.match(line) or _SEPARATOR.match(line) or _FORWARD.match(line):
        return True
    if _HEADER_ONE_LINE.match(line):
        return True
    if _HEADER_FROM.match(line):
        following = [n for n in lines[i + 1:i + 9] if n.strip()][:5]
        return any(_HEADER_NEXT.match(n) for n in following)
    return False


def _wrote_span(lines: list[str], i: int) -> int:
    """How many lines (1-3, clients wrap it) form an attribution at i, else 0.

    "On … wrote:", "At … wrote:" (NetEase), "在 … 写道：" and a date first ("2026年12月1日 …
    写道：") anywhere; other shapes (Gmail's "Name <a@b> 于 … 写道：") when they name an
    address. A date or an address must be in it: "On Monday I wrote:" is not one."""
    if not (_WROTE_START.match(lines[i]) or "@" in lines[i]):
        return 0
    for span in (1, 2, 3):
        joined = " ".join(lines[i:i + span])
        if len(joined) > _ATTRIBUTION_MAX:
            return 0
        if (("写道" in joined or "wrote" in joined.lower()) and _WROTE.match(joined)
                and re.search(r"\d|@", joined)):
            return span
    return 0


def _without_signature(kept: list[str], names: set[str]) -> list[str]:
    """`kept` without what trails the text: blank and "sent from" lines, a bare address, the
    sender's name (and a closing such as "Regards," over it), a name over an address, and a
    short block (≤ 6 lines of ≤ 60 characters) under a dash rule ("------------------")."""
    kept = list(kept)
    first = next((i for i, k in enumerate(kept) if k.strip()), len(kept))
    after_address = after_name = False
    while kept:
        line = kept[-1].strip()
        content_above = first < len(kept) - 1
        if not line or line.strip("|").strip() == "" or _SENT_FROM.match(line) or _RULE.match(line):
            kept.pop()
            continue
        if content_above and _ADDRESS.match(line):
            kept.pop()
            after_address = True
            continue
        if content_above and _own_name(line, names):
            kept.pop()
            after_name = True
            continue
        if content_above and after_name and _CLOSING.match(line):
            kept.pop()
            after_name = False
            continue
        if (content_above and after_address and _NAME_LIKE.match(line)
                and _blank_above(kept)):
            kept.pop()
            after_address = False
            continue
        if not _rule_block(kept):
            break
    return kept


def _own_name(line: str, names: set[str]) -> bool:
    return line.lstrip("-—–~ ").strip().casefold() in names


def _blank_above(kept: list[str]) -> bool:
    """The line before the last is blank (a signature block set apart from the text)."""
    return len(kept) < 2 or kept[-2].strip("| ") == ""


def _rule_block(kept: list[str]) -> bool:
    """Drop a short block under a dash rule at the end ("------------------\n张三", QQ's
    signature); True when something was dropped."""
    tail = [i for i in range(len(kept) - 1, max(-1, len(kept) - 2 - _SIGNATURE_LINES), -1)
            if _RULE.match(kept[i])]
    if not tail:
        return False
    at = tail[0]
    block = [k for k in kept[at + 1:] if k.strip()]
    if len(block) > _SIGNATURE_LINES or any(len(k.strip()) > 60 for k in block):
        return False
    if not any(k.strip() for k in kept[:at]):
        return False
    del kept[at:]
    return True
