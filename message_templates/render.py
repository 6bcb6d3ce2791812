"""Render a touch (or a bundle of same-day touches) for one channel and locale.

Each channel's template is one source text: SMS is the whole template; email
declares blocks `subject`, `text`, `html`; Telegram declares `html` and
optionally `buttons`. HTML parts always render with autoescape on, plain parts
with it off, from the same source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateError

from message_templates.catalog import (
    BUNDLE,
    CHANNELS,
    KINDS,
    LOCALES,
    is_marketing,
    normalize_kinds,
)
from message_templates.engine import (
    TemplateRenderError,
    compile_source,
    default_source,
    describe_error,
    render_block,
    render_whole,
)
from message_templates.sms import SmsInfo, sms_info
from message_templates.telegram import Button, parse_buttons, to_plain_text
from message_templates.variables import fill_derived

_CJK_EDGE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f【】]")


@dataclass(frozen=True)
class RenderedMessage:
    """A rendered message, ready for a channel adapter.

    `text` is the SMS body, the email's plain-text part, or Telegram's text
    without tags (for the record); `html` is the email HTML part or the
    Telegram message to send with parse_mode=HTML.
    """

    template_kind: str
    kinds: tuple[str, ...]
    channel: str
    locale: str
    text: str
    subject: str | None = None
    html: str | None = None
    buttons: tuple[Button, ...] = ()
    sms: SmsInfo | None = None
    marketing: bool = False


def resolve_kinds(
    kind_or_bundle: str | Iterable[str], variables: Mapping[str, Any]
) -> tuple[str, tuple[str, ...]]:
    """(template kind, member kinds): a single kind, or "bundle" with its members."""
    if isinstance(kind_or_bundle, str):
        if kind_or_bundle == BUNDLE:
            members = normalize_kinds(variables.get("bundle_kinds") or ())
            if not members:
                raise ValueError("a bundle needs variables['bundle_kinds']")
            return (members[0] if len(members) == 1 else BUNDLE), members
        if kind_or_bundle not in KINDS:
            raise ValueError(f"unknown template kind: {kind_or_bundle}")
        return kind_or_bundle, (kind_or_bundle,)
    members = normalize_kinds(kind_or_bundle)
    if not members:
        raise ValueError("no touch kinds given")
    return (members[0] if len(members) == 1 else BUNDLE), members


def join_sms_lines(text: str) -> str:
    """SMS is one paragraph: template line breaks vanish between Chinese, else become a space."""

    def _join(match: re.Match[str]) -> str:
        before = text[match.start() - 1] if match.start() else ""
        after = text[match.end()] if match.end() < len(text) else ""
        if not before or not after or _CJK_EDGE.match(before) or _CJK_EDGE.match(after):
            return ""
        return " "

    return re.sub(r"[ \t]*\n\s*", _join, text).strip()


def tidy_lines(text: str) -> str:
    """Drop trailing spaces and runs of blank lines that template logic leaves behind."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def render(
    kind_or_bundle: str | Iterable[str],
    channel: str,
    locale: str,
    variables: Mapping[str, Any],
    source: str | None = None,
) -> RenderedMessage:
    """Render the branch's `source` (or the shipped default) in the sandbox.

    `kind_or_bundle` is a kind, "bundle" (members from variables["bundle_kinds"]),
    or a collection of kinds; a bundle of one member renders that kind's
    template. Derived variables (honorific, opt_out_hint, locale) are filled in
    when absent. Raises TemplateRenderError with user-facing messages.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel: {channel}")
    if locale not in LOCALES:
        raise ValueError(f"unknown locale: {locale}")
    template_kind, kinds = resolve_kinds(kind_or_bundle, variables)
    values = fill_derived({**variables, "bundle_kinds": list(kinds)}, locale)
    text_src = source if source is not None else default_source(template_kind, channel, locale)
    try:
        return _render(template_kind, kinds, channel, locale, values, text_src)
    except TemplateRenderError:
        raise
    except (
        TemplateError,
        ArithmeticError,
        TypeError,
        ValueError,
        LookupError,
        RecursionError,
    ) as exc:
        raise TemplateRenderError([describe_error(exc)]) from exc


def _render(
    template_kind: str,
    kinds: tuple[str, ...],
    channel: str,
    locale: str,
    values: dict[str, Any],
    source: str,
) -> RenderedMessage:
    common: dict[str, Any] = {
        "template_kind": template_kind,
        "kinds": kinds,
        "channel": channel,
        "locale": locale,
        "marketing": is_marketing(kinds),
    }
    plain = compile_source(source, autoescape=False)
    if channel == "sms":
        body = join_sms_lines(render_whole(plain, values))
        return RenderedMessage(text=body, sms=sms_info(body), **common)
    rich = compile_source(source, autoescape=True)
    html = tidy_lines(render_block(rich, "html", values))
    if channel == "email":
        subject = " ".join(render_block(plain, "subject", values).split())
        text = tidy_lines(render_block(plain, "text", values))
        return RenderedMessage(text=text, subject=subject, html=html, **common)
    buttons: list[Button] = []
    if "buttons" in plain.blocks:
        buttons, problems = parse_buttons(render_block(plain, "buttons", values))
        if problems:
            raise TemplateRenderError(problems)
    return RenderedMessage(text=to_plain_text(html), html=html, buttons=tuple(buttons), **common)
