"""Encoding detection over the whole file: UTF-8 (with or without BOM) or GB18030."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from bot.service.customers.errors import CustomerError

CHUNK = 1 << 20


class EncodingError(CustomerError):
    """The file is neither UTF-8 nor GB18030."""


@dataclass(frozen=True)
class FileFacts:
    """What the first pass learned: the codec to read with, and the number of lines."""

    encoding: str
    lines: int


def _decodes(path: Path, encoding: str) -> tuple[bool, int, int]:
    """Stream the file through an incremental decoder; (ok, bad byte offset, newline count)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = newlines = 0
    last = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return False, offset + exc.start, newlines
            newlines += chunk.count(b"\n")
            offset += len(chunk)
            last = chunk[-1:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False, offset, newlines
    if last and last != b"\n":
        newlines += 1
    return True, -1, newlines


def detect(path: Path) -> FileFacts:
    """Decide the encoding from every byte of the file, in constant memory.

    Excel writes GB18030 (GBK) for Chinese; a file whose first non-ASCII byte is deep
    inside would be misread by any guess from the first kilobytes, so we read it all.
    """
    with path.open("rb") as handle:
        bom = handle.read(3) == codecs.BOM_UTF8
    ok, bad_at, lines = _decodes(path, "utf-8")
    if ok:
        return FileFacts("utf-8-sig" if bom else "utf-8", lines)
    ok_gb, _, lines = _decodes(path, "gb18030")
    if ok_gb and not bom:
        return FileFacts("gb18030", lines)
    raise EncodingError(
        f"{path}: not UTF-8 (bad byte at offset {bad_at}) and not GB18030; "
        "save the file as CSV UTF-8 or as CSV from Excel"
    )
