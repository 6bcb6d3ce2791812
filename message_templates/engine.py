"""The sandboxed Jinja environments, template loading and error wording.

Branch admins write templates, so rendering must never reach Python internals,
files or unbounded memory; and every failure must read as a message a branch
admin can act on, in Chinese first, English after.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator, Mapping
from functools import cache, lru_cache, wraps
from importlib import resources
from types import TracebackType
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.nodes import Concat, Filter, For
from jinja2.nodes import Template as TemplateNode
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import pass_context

MAX_REPEAT = 2000  # longest string/list a template may build with "*"
MAX_EXPONENT = 64
MAX_POWER_BITS = 4096  # no template needs numbers beyond this; big powers burn CPU
MAX_SIZE_ARG = 1000  # widest width/precision/count a string-building filter or method may take
MAX_STRING = 10_000  # longest string a template may build in one step (replace, format, join, ~, +)
MAX_STEPS = 10_000  # loop iterations plus calls (macros, methods) in one render: nested loops, recursion

#: Filters whose integer arguments are sizes (widths, lengths, counts): bounded by MAX_SIZE_ARG.
SIZED_FILTERS = ("center", "indent", "wordwrap", "truncate", "replace", "batch", "slice")
#: str methods whose integer arguments are sizes.
SIZED_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "replace"})
#: Filters that build strings; their result is bounded by MAX_STRING.
STRING_FILTERS = (*SIZED_FILTERS, "format", "join", "string", "urlize", "xmlattr")

# %-format specs: optional (key), flags, width, .precision, length modifier, conversion.
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)", re.S)


class TemplateRenderError(Exception):
    """Rendering failed; `messages` are the bilingual, user-facing reasons."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class TemplateLimitError(SecurityError):
    """A template asked for more work or memory than any message needs (bilingual reason)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


def _check_size(value: Any, what: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SIZE_ARG:
        raise TemplateLimitError(
            f"{what} 的数值参数 {value} 过大（上限 {MAX_SIZE_ARG}）",
            f"{what}: numeric argument {value} is too large (limit {MAX_SIZE_ARG})",
        )


def _check_sizes(args: tuple[Any, ...], kwargs: Mapping[str, Any], what: str) -> None:
    for value in (*args, *kwargs.values()):
        _check_size(value, what)


def _check_count(length: int, what: str) -> None:
    if length > MAX_STRING:
        raise TemplateLimitError(
            f"{what} 生成的文字过长（超过 {MAX_STRING} 个字符）",
            f"{what}: the result is too long (over {MAX_STRING} characters)",
        )


def _check_length(result: Any, what: str) -> Any:
    if isinstance(result, str | list | tuple):
        _check_count(len(result), what)
    return result


def _check_replace(s: Any, old: Any, new: Any, count: Any, what: str) -> None:
    """Refuse a replace whose result would exceed MAX_STRING, before building it."""
    s, old, new = str(s), str(old), str(new)
    hits = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    _check_count(len(s) + hits * (len(new) - len(old)), what)


def _check_percent_spec(fmt: str, what: str) -> None:
    for match in _PERCENT_SPEC.finditer(fmt):
        if match.group(3) == "%":
            continue
        for part in match.group(1, 2):
            if part == "*":
                raise TemplateLimitError(
                    f"{what} 不允许用 * 指定宽度或精度", f"{what}: '*' widths and precisions are not allowed"
                )
            if part:
                _check_size(int(part), what)


def _check_format_spec(fmt: str, what: str) -> None:
    for _literal, _field, spec, _conversion in string.Formatter().parse(fmt):
        if not spec:
            continue
        if "{" in spec:
            raise TemplateLimitError(
                f"{what} 的格式说明里不允许嵌套 {{}}", f"{what}: nested {{}} in a format spec is not allowed"
            )
        for digits in re.findall(r"\d+", spec):
            _check_size(int(digits), what)


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a built-in filter: size arguments and the resulting length are bounded."""
    what = f"|{name}"

    @wraps(func)  # keeps jinja_pass_arg (pass_eval_context / pass_environment)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if name in SIZED_FILTERS:
            _check_sizes(args, kwargs, what)
        if name == "replace":  # do_replace(eval_ctx, s, old, new, count=None)
            rest = list(args[1:]) + [kwargs.get(k) for k in ("old", "new", "count") if k in kwargs]
            if len(rest) >= 3:
                _check_replace(rest[0], rest[1], rest[2], rest[3] if len(rest) > 3 else None, what)
        if name == "format" and args:  # do_format(value, *args, **kwargs) is "value % args"
            _check_percent_spec(str(args[0]), what)
        return _check_length(func(*args, **kwargs), what)

    return bounded


class _BoundedCodeGenerator(CodeGenerator):
    """Route "~" through a length check (doubling a string with {% set %} must hit MAX_STRING)
    and count loop iterations (nested loops must hit MAX_STEPS)."""

    def visit_Concat(self, node: Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat(")
        super().visit_Concat(node, frame)
        self.write(")")

    def visit_Template(self, node: TemplateNode, frame: Frame | None = None) -> None:
        for loop in node.find_all(For):  # before dependencies are pulled: the filter must be known
            if isinstance(loop.iter, Filter) and loop.iter.name == COUNTED_LOOP:
                continue  # the same tree compiled twice
            loop.iter = Filter(loop.iter, COUNTED_LOOP, [], [], None, None, lineno=loop.iter.lineno)
        super().visit_Template(node, frame)


COUNTED_LOOP = "_counted_loop"  # the filter every {% for %} iterable is wrapped in


@pass_context
def _counted_loop(context: Any, iterable: Any) -> Iterator[Any]:
    for item in iterable:
        _step(context)
        yield item


def _step(context: Any) -> None:
    """Count one loop iteration or call against the render's MAX_STEPS."""
    steps = getattr(context, "_outreach_steps", 0) + 1
    if steps > MAX_STEPS:
        raise TemplateLimitError(
            f"循环次数与调用次数过多（超过 {MAX_STEPS} 次）",
            f"too many loop iterations and calls (over {MAX_STEPS})",
        )
    context._outreach_steps = steps


class _Sandbox(ImmutableSandboxedEnvironment):
    """Immutable sandbox with no globals; work and memory are bounded.

    "*" / "**" / "+" / "%" / "~", the string-building filters and str methods refuse sizes above
    MAX_SIZE_ARG and results longer than MAX_STRING, so a template cannot stall the process.
    """

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _BoundedCodeGenerator

    def bounded_concat(self, result: Any) -> Any:
        return _check_length(result, "~")


    def call(__self, __context: Any, __obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _step(__context)
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        what = f".{name}()"
        if isinstance(owner, str) and name in SIZED_METHODS:
            _check_sizes(args, kwargs, what)
            if name == "replace" and len(args) >= 2:
                _check_replace(owner, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count"), what)
        return _check_length(super().call(__context, __obj, *args, **kwargs), what)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        fmt, what = str(value.__self__), f".{value.__name__}()"

        @wraps(wrapper)
        def bounded(*args: Any, **kwargs: Any) -> str:
            _check_format_spec(fmt, what)
            return _check_length(wrapper(*args, **kwargs), what)

        return bounded

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%" and isinstance(left, str):
            _check_percent_spec(left, "%")
            return _check_length(super().call_binop(context, operator, left, right), "%")
        if operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
            _check_count(len(left) + len(right), "+")
        if (
            operator == "*"
            and isinstance(left, int)
            and isinstance(right, int)
            and abs(left).bit_length() + abs(right).bit_length() > MAX_POWER_BITS
        ):
            raise SecurityError("product too large")
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
    for name in STRING_FILTERS:
        env.filters[name] = _bounded_filter(name, env.filters[name])
    env.filters[COUNTED_LOOP] = _counted_loop
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
    if isinstance(exc, TemplateLimitError):
        return (
            f"{zh}模板运算超出限制：{exc.zh} / "
            f"{en}the template asks for too much work or memory: {exc.en}"
        )
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
