"""Telegram specifics: its HTML subset and the quick-reply buttons a template declares.

Telegram rejects a whole message on an unknown tag (HTTP 400, a permanent
failure), so templates are checked against the subset before they are approved.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from html.parser import HTMLParser

#: Tags of Telegram's HTML parse mode and the attributes each may carry.
ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "tg-spoiler": frozenset(),
    "span": frozenset({"class"}),
    "blockquote": frozenset({"expandable"}),
}
MAX_MESSAGE_CHARS = 4096

#: Intents a button may report (the reply classifier's eleven).
INTENTS: frozenset[str] = frozenset(
    {
        "not_me", "complaint", "negative", "callback_request", "reschedule", "wrong_person",
        "opt_out", "opt_in", "help", "positive", "neutral",
    }
)  # fmt: skip
BUTTON_PREFIX = "reply:"


@dataclass(frozen=True)
class Button:
    """A quick-reply button: what the customer sees and the data it sends back when pressed."""

    label: str
    data: str

    @property
    def intent(self) -> str:
        """The reply intent this button stands for (its data without the prefix)."""
        return self.data.removeprefix(BUTTON_PREFIX)


class _SubsetChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(
                f"Telegram 不支持标签 <{tag}> / Telegram does not allow the <{tag}> tag"
            )
            return
        for name, _ in attrs:
            if name not in ALLOWED_TAGS[tag]:
                self.problems.append(
                    f"Telegram 标签 <{tag}> 不支持属性 {name} / "
                    f"Telegram does not allow attribute {name} on <{tag}>"
                )
        if tag == "span" and dict(attrs).get("class") != "tg-spoiler":
            self.problems.append(
                'Telegram 的 <span> 只能写成 <span class="tg-spoiler"> / '
                'Telegram allows <span> only as <span class="tg-spoiler">'
            )
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(
            f"Telegram 不支持自闭合标签 <{tag}/>（换行请直接换行） / "
            f"Telegram does not allow <{tag}/> (use a plain line break)"
        )

    def handle_endtag(self, tag: str) -> None:
        if tag not in ALLOWED_TAGS:
            return  # already reported at the start tag
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"标签 </{tag}> 未正确配对 / </{tag}> does not close an open tag")
            return
        self.stack.pop()


def check_html(text: str) -> list[str]:
    """Problems that would make Telegram refuse this HTML; empty when it is fine."""
    checker = _SubsetChecker()
    checker.feed(text)
    checker.close()
    problems = list(dict.fromkeys(checker.problems))
    if checker.stack:
        problems.append(
            f"标签未闭合：{'、'.join(checker.stack)} / unclosed tags: {', '.join(checker.stack)}"
        )
    if len(text) > MAX_MESSAGE_CHARS:
        problems.append(
            f"消息超过 Telegram 上限 {MAX_MESSAGE_CHARS} 字符 / "
            f"message exceeds Telegram's {MAX_MESSAGE_CHARS} characters"
        )
    return problems


def to_plain_text(text: str) -> str:
    """The message as a customer reads it, for the record and for previews."""

    class _Strip(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    stripper = _Strip()
    stripper.feed(text)
    stripper.close()
    return html.unescape("".join(stripper.parts))


def parse_buttons(block_text: str) -> tuple[list[Button], list[str]]:
    """Read the `buttons` block: one `label | reply:<intent>` per line."""
    buttons: list[Button] = []
    problems: list[str] = []
    for number, raw in enumerate(block_text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        label, sep, code = (part.strip() for part in line.rpartition("|"))
        if not sep or not label:
            problems.append(
                f"按钮第{number}行应为“文字 | reply:意图”：{line} / "
                f"button line {number} must be 'label | reply:<intent>': {line}"
            )
            continue
        if not code.startswith(BUTTON_PREFIX) or code.removeprefix(BUTTON_PREFIX) not in INTENTS:
            problems.append(
                f"按钮“{label}”的回复代码未知：{code}（可用 reply:positive、reply:callback_request、"
                f"reply:opt_out 等） / unknown reply code for button '{label}': {code}"
            )
            continue
        buttons.append(Button(label=label, data=code))
    return buttons, problems
