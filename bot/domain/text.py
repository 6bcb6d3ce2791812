"""Text the database can store: no NUL (PostgreSQL text refuses it) and no lone surrogate
(UTF-8 cannot encode one; JSON's "\\ud800" and Python's surrogateescape produce them).

Input from outside (URLs, JSON, CSV, webhooks) is checked or cleaned with these before it
reaches a query, so hostile text is a clear 4xx or a line error, never a server error.
"""

from __future__ import annotations

import re
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored ("a NUL character", "a lone surrogate"), or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return "a NUL character" if found.group() == "\x00" else "a lone surrogate"


def clean_text(value: Any) -> Any:
    """`value` storable: NUL removed, lone surrogates replaced by U+FFFD; through dicts,
    lists and plain tuples. Used where the text is a customer's words, kept whatever it is."""
    if isinstance(value, str):
        if _UNSTORABLE.search(value) is None:
            return value
        return _SURROGATE.sub("\ufffd", value.replace("\x00", ""))
    if isinstance(value, dict):
        return {clean_text(k): clean_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_text(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(clean_text(v) for v in value)
    return value
