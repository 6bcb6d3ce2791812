"""Every string the console shows, Simplified Chinese first, English second, in one table
(`strings.toml`).

Templates call `t("key")` (and `t("key", name=…)` for `{name}` placeholders); Python code
takes a translator from `translator(lang)`. A missing key shows as the key itself, so a
forgotten string is visible on the page rather than an error.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

LANGS = ("zh-CN", "en")
DEFAULT_LANG = "zh-CN"
LANG_COOKIE = "outreach_lang"

Translate = Callable[..., str]

#: key → (Simplified Chinese, English), from `strings.toml` beside this module.
STRINGS: dict[str, tuple[str, str]] = {
    key: (zh, en) for key, (zh, en) in tomllib.loads(
        (Path(__file__).parent / "strings.toml").read_text(encoding="utf-8")).items()}


def pick_lang(asked: str | None) -> str | None:
    """The console language named by `?lang=` or the cookie (zh, zh-CN, en), else None."""
    if not asked:
        return None
    if asked.lower().startswith("zh"):
        return "zh-CN"
    return "en" if asked.lower().startswith("en") else None


def translator(lang: str) -> Translate:
    """`t(key, **values)` for one language."""
    index = LANGS.index(lang) if lang in LANGS else 0

    def t(key: str, **values: object) -> str:
        text = STRINGS[key][index] if key in STRINGS else key
        return text.format(**values) if values else text

    return t
