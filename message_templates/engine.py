"""The sandboxed Jinja environments, template loading and error wording.

Branch admins write templates, so rendering must never reach Python internals,
files or unbounded memory; and every failure must read as a message a branch
admin can act on, in Chinese first, English after.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache, lru_cache
from importlib import resources
from types import TracebackType
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_REPEAT = 2000  # longest string/list a template may build with "*"
MAX_EXPONENT = 64
MAX_POWER_BITS = 4096  # no template needs numbers beyond this; big powers burn CPU


class TemplateRenderError(Exception):
    """Rendering failed; `messages` are the bilingual, user-facing reasons."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class _Sandbox(ImmutableSandboxedEnvironment):
    """Immutable sandbox with no globals and bounded "*" / "**" (memory and CPU)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(n, int)
                    and n * max(len(seq), 1) > MAX_REPEAT
                ):
                    raise SecurityError("repetition too large")
        if operator == "**" and isinstance(right, int) and isinstance(left, int | float):
            bits = max(abs(int(left)).bit_length(), 1) * abs(right)
            if abs(right) > MAX_EXPONENT or bits > MAX_POWER_BITS:
                raise SecurityError("exponent too large")
        return super().call_binop(context, operator, left, right)


def _make_env(autoescape: bool) -> _Sandbox:
    env = _Sandbox(
        undefined=StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
    )
    env.globals.clear()  # no range/cycler/joiner/lipsum/namespace: nothing to escape through
    return env


TEXT_ENV = _make_env(autoescape=False)  # SMS, email subject and plain text, button labels
HTML_ENV = _make_env(autoescape=True)  # email HTML and Telegram HTML


def env_for(autoescape: bool) -> _Sandbox:
    """The shared environment for plain text (False) or HTML (True)."""
    return HTML_ENV if autoescape else TEXT_ENV


@lru_cache(maxsize=512)
def compile_source(source: str, autoescape: bool) -> Template:
    """Compile once per distinct source: rendering is hot, overrides change rarely."""
    return env_for(autoescape).from_string(source)


@cache
def default_source(kind: str, channel: str, locale: str) -> str:
    """Text of the shipped default template for (kind, channel, locale)."""
    path = resources.files("message_templates") / "defaults" / kind / f"{channel}.{locale}.j2"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise LookupError(f"no default template for {kind}/{channel}/{locale}") from exc


def render_block(template: Template, name: str, variables: Mapping[str, Any]) -> str:
    """Render one named block (subject, text, html, buttons) of a template."""
    block = template.blocks.get(name)
    if block is None:
        raise TemplateRenderError([missing_block_message(name)])
    ctx = template.new_context(dict(variables))
    return "".join(block(ctx))


def render_whole(template: Template, variables: Mapping[str, Any]) -> str:
    """Render a template that has no blocks (SMS)."""
    return template.render(dict(variables))


def missing_block_message(name: str) -> str:
    """Wording for a channel template that lacks a block it must declare."""
    return f"缺少 {{% block {name} %}} 块 / missing {{% block {name} %}} block"


def _template_line(tb: TracebackType | None) -> int | None:
    line = None
    for frame_tb in _walk(tb):
        if frame_tb.tb_frame.f_code.co_filename == "<template>":
            line = frame_tb.tb_lineno
    return line


def _walk(tb: TracebackType | None) -> Iterator[TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _prefix(line: int | None) -> tuple[str, str]:
    return (f"第{line}行：", f"line {line}: ") if line else ("", "")


def describe_error(exc: BaseException) -> str:
    """Turn a Jinja or runtime error into one bilingual sentence a branch admin understands."""
    if isinstance(exc, TemplateSyntaxError):
        zh, en = _prefix(exc.lineno)
        return f"{zh}模板语法错误：{exc.message} / {en}syntax error: {exc.message}"
    zh, en = _prefix(_template_line(exc.__traceback__))
    if isinstance(exc, SecurityError):
        return (
            f"{zh}安全沙箱拦截了模板中不允许的操作（访问内部属性或方法、修改数据或超大运算）：{exc} / "
            f"{en}the sandbox blocked an operation templates may not do "
            f"(internal attributes, changing data, huge computations): {exc}"
        )
    if isinstance(exc, UndefinedError):
        match = re.search(r"'([^']+)' is undefined", str(exc))
        if match:
            name = match.group(1)
            return f"{zh}未定义的变量：{name} / {en}undefined variable: {name}"
        return f"{zh}变量没有这个属性或键：{exc} / {en}no such attribute or key: {exc}"
    if isinstance(exc, TemplateError):
        return f"{zh}模板错误：{exc} / {en}template error: {exc}"
    return (
        f"{zh}渲染失败：{type(exc).__name__}: {exc} / "
        f"{en}rendering failed: {type(exc).__name__}: {exc}"
    )
