"""Check a branch's template before it can be approved: every problem as a clear message.

Static checks read the template's syntax tree (syntax, unknown variables,
missing blocks, unescaped HTML); dynamic checks render it in the sandbox for a
normal and a worst-case long sample, on two-way and one-way SMS routes, and for
every realistic bundle, then check what the customer would receive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes

from message_templates.catalog import (
    BUNDLE,
    CHANNELS,
    LOCALES,
    REALISTIC_BUNDLES,
    TEMPLATE_KINDS,
    is_service_only,
    normalize_kinds,
)
from message_templates.engine import TEXT_ENV, TemplateRenderError, describe_error
from message_templates.render import RenderedMessage, render
from message_templates.sms import SegmentLimits
from message_templates.telegram import BUTTON_PREFIX, check_html
from message_templates.variables import (
    DEFAULT_PUBLIC_URL,
    OPT_OUT_REPLY,
    VARIABLES,
    sample_variables,
)

REQUIRED_BLOCKS = {"sms": (), "email": ("subject", "text", "html"), "telegram": ("html",)}
PASSWORD_WORD = {"zh-CN": "密码", "en": "password"}
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
_XSS_PROBE = "<script>x</script>"


@dataclass(frozen=True)
class Scenario:
    """One sample rendering: which members, which route, normal or long sample."""

    kinds: tuple[str, ...]
    two_way: bool
    long: bool

    def describe(self, *, route: bool = True, sample: bool = False) -> tuple[str, str]:
        """(zh, en) wording of the scenario; only the parts that matter to the message."""
        zh, en = ["组合 " + "+".join(self.kinds)], ["+".join(self.kinds)]
        if route:
            zh.append("双向线路" if self.two_way else "单向线路")
            en.append("two-way route" if self.two_way else "one-way route")
        if sample and self.long:
            zh.append("长样本")
            en.append("long sample")
        return "，".join(zh), ", ".join(en)


def validate(
    source: str,
    kind: str,
    channel: str,
    locale: str,
    *,
    max_segments: int = 2,
    max_segments_en: int = 3,
    public_url: str = DEFAULT_PUBLIC_URL,
    two_way: bool | None = None,
    festival_names: Iterable[str] = (),
) -> list[str]:
    """Human-readable problems with `source` as the (kind, channel, locale) template; [] if fine.

    `two_way` limits the SMS route types checked (None: both, the safe default);
    `festival_names` adds branch festivals to the long sample's candidates; the long sample
    must fit `max_segments` (Chinese) or `max_segments_en` (English, see SegmentLimits).
    """
    if kind not in TEMPLATE_KINDS or channel not in CHANNELS or locale not in LOCALES:
        raise ValueError(f"unknown template slot: {kind}/{channel}/{locale}")
    try:
        ast = TEXT_ENV.parse(source)
    except TemplateSyntaxError as exc:
        return [describe_error(exc)]
    problems = _static_problems(ast, channel)
    if problems:
        return problems
    routes = (True, False) if two_way is None else (two_way,)
    limit = SegmentLimits(max_segments, max_segments_en).for_locale(locale)
    festivals = tuple(festival_names)
    for scenario in _scenarios(kind, routes):
        variables = sample_variables(
            locale,
            long=scenario.long,
            public_url=public_url,
            two_way_sms=scenario.two_way,
            bundle_kinds=scenario.kinds,
            festival_names=festivals,
        )
        try:
            target = kind if kind == BUNDLE else scenario.kinds
            message = render(target, channel, locale, variables, source=source)
        except TemplateRenderError as exc:
            return _unique(exc.messages)
        problems += _message_problems(message, variables, scenario, limit)
    if channel != "sms" and not problems:
        problems += _escape_probe(source, kind, channel, locale, public_url)
    return _unique(problems)


def _scenarios(kind: str, routes: tuple[bool, ...]) -> Iterator[Scenario]:
    member_sets = [normalize_kinds(b) for b in REALISTIC_BUNDLES] if kind == BUNDLE else [(kind,)]
    for kinds in member_sets:
        yield Scenario(kinds, two_way=routes[0], long=False)
        for two_way in routes:
            yield Scenario(kinds, two_way=two_way, long=True)


def _line(node: nodes.Node) -> tuple[str, str]:
    return f"第{node.lineno}行：", f"line {node.lineno}: "


def _static_problems(ast: nodes.Template, channel: str) -> list[str]:
    problems: list[str] = []
    unknown = meta.find_undeclared_variables(ast) - set(VARIABLES)
    for name_node in ast.find_all(nodes.Name):
        if name_node.name in unknown:
            unknown.discard(name_node.name)
            zh, en = _line(name_node)
            problems.append(
                f"{zh}未知变量 {name_node.name}（可用变量见 outreach templates vars） / "
                f"{en}unknown variable {name_node.name} (see outreach templates vars)"
            )
    for node in ast.find_all((nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport)):
        zh, en = _line(node)
        problems.append(
            f"{zh}模板不能引用其他模板（include/extends/import） / "
            f"{en}templates cannot include, extend or import other templates"
        )
    blocks = {b.name for b in ast.find_all(nodes.Block)}
    for name in REQUIRED_BLOCKS[channel]:
        if name not in blocks:
            problems.append(f"缺少 {{% block {name} %}} 块 / missing {{% block {name} %}} block")
    if channel != "sms":
        problems += _escape_problems(ast)
    return problems


def _escape_problems(ast: nodes.Template) -> list[str]:
    """HTML parts must stay autoescaped: no |safe, no {% autoescape false %}."""
    problems = []
    for f in ast.find_all(nodes.Filter):
        if f.name == "safe":
            zh, en = _line(f)
            problems.append(
                f"{zh}HTML 模板不允许使用 |safe 过滤器（客户数据必须转义） / "
                f"{en}|safe is not allowed: customer data must stay escaped in HTML"
            )
    for mod in ast.find_all((nodes.EvalContextModifier, nodes.ScopedEvalContextModifier)):
        if any(kw.key == "autoescape" for kw in mod.options):
            zh, en = _line(mod)
            problems.append(
                f"{zh}HTML 模板不允许关闭自动转义 / {en}autoescaping cannot be switched off in HTML"
            )
    return problems


def _message_problems(
    msg: RenderedMessage, variables: dict[str, Any], scenario: Scenario, max_segments: int
) -> list[str]:
    loc = msg.locale
    where_zh, where_en = scenario.describe(route=False)
    problems: list[str] = []
    body = msg.text if msg.channel == "sms" else f"{msg.text}\n{msg.html or ''}"
    if is_service_only(msg.kinds) and _LINK.search(body):
        problems.append("服务类消息不得包含链接 / service messages must not contain links")
    if "new_account" in msg.kinds and PASSWORD_WORD[loc] not in body.lower():
        problems.append(
            "开户回访须提示“本公司不会以任何方式索要您的密码或验证码” / "
            "new-account messages must say the firm never asks for passwords or codes"
        )
    if msg.channel == "sms":
        problems += _sms_problems(msg, variables, scenario, max_segments)
    elif msg.channel == "email":
        if not msg.subject:
            problems.append("邮件主题为空 / the email subject is empty")
        for part, content in (("text", msg.text), ("html", msg.html or "")):
            if msg.marketing and variables["unsubscribe_link"] not in content:
                problems.append(
                    f"营销邮件的 {part} 部分须包含退订链接 {{{{ unsubscribe_link }}}} / "
                    f"the {part} part of a marketing email must contain {{{{ unsubscribe_link }}}}"
                )
    else:
        problems += check_html(msg.html or "")
        if msg.marketing and not any(b.intent == "opt_out" for b in msg.buttons):
            problems.append(
                f"营销消息须有退订按钮（如“退订 | {BUTTON_PREFIX}opt_out”）（{where_zh}） / "
                f"marketing messages need an opt-out button ({where_en})"
            )
    return problems


def _sms_problems(
    msg: RenderedMessage, variables: dict[str, Any], scenario: Scenario, max_segments: int
) -> list[str]:
    problems: list[str] = []
    where_zh, where_en = scenario.describe()
    if not msg.text.startswith(f"【{variables['sms_signature']}】"):
        problems.append(
            "短信必须以签名【{{ sms_signature }}】开头 / "
            "the SMS must start with the signature 【{{ sms_signature }}】"
        )
    if msg.marketing:
        tail = msg.text.rstrip().rstrip("。.")
        expected = OPT_OUT_REPLY[msg.locale] if scenario.two_way else variables["unsubscribe_link"]
        if not tail.endswith(expected):
            problems.append(
                f"营销短信须以退订提示结尾（建议用 {{{{ opt_out_hint }}}}：双向线路为“回复TD退订”，"
                f"单向线路为退订链接）（{where_zh}） / marketing SMS must end with the opt-out hint "
                f"(use {{{{ opt_out_hint }}}}) ({where_en})"
            )
    info = msg.sms
    if scenario.long and info is not None and info.segments > max_segments:
        where_zh, where_en = scenario.describe(sample=True)
        problems.append(
            f"短信过长：长样本渲染后 {info.units} 个 {info.encoding} 字符单位，需 {info.segments} 条，"
            f"超过上限 {max_segments} 条（{where_zh}） / SMS too long: the long sample renders to "
            f"{info.units} {info.encoding} units = {info.segments} segments, over the limit of "
            f"{max_segments} ({where_en})"
        )
    return problems


def _escape_probe(source: str, kind: str, channel: str, locale: str, public_url: str) -> list[str]:
    """Render with markup in customer data: it must come out escaped."""
    kinds = normalize_kinds(next(iter(REALISTIC_BUNDLES))) if kind == BUNDLE else (kind,)
    variables = sample_variables(locale, public_url=public_url, bundle_kinds=kinds)
    variables.update(customer_name=_XSS_PROBE, branch_name=_XSS_PROBE, honorific=_XSS_PROBE)
    try:
        msg = render(kind if kind == BUNDLE else kinds, channel, locale, variables, source=source)
    except TemplateRenderError as exc:
        return exc.messages
    if _XSS_PROBE in (msg.html or ""):
        return ["HTML 中的客户数据未被转义 / customer data is not escaped in the HTML"]
    return []


def _unique(messages: list[str]) -> list[str]:
    return list(dict.fromkeys(messages))
