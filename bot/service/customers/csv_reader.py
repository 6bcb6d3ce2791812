"""Reading a customer CSV record by record, each with the physical line it starts on.

Quoted fields may hold line breaks, so a record is not a line; a stray `"` must not swallow
the rest of the file, so a record spans at most MAX_SPAN lines and a broken one is reported
on its first line while reading resumes after it.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bot.service.customers.csv_rows import COLUMNS, REQUIRED, RowError
from bot.service.customers.errors import CustomerError


class ImportFileError(CustomerError):
    """The file as a whole cannot be read (encoding, header): nothing was imported."""


# A quoted field may hold newlines, but a record spanning more physical lines than this is
# taken to be a stray `"` that would otherwise swallow the rest of the file.
MAX_SPAN = 8


class Lines:
    """The file's physical lines with their numbers; lines can be put back to be read again."""

    def __init__(self, handle: io.TextIOBase) -> None:
        self.handle = handle
        self.number = 0
        self.back: deque[tuple[int, str]] = deque()

    def next(self) -> tuple[int, str] | None:
        if self.back:
            return self.back.popleft()
        text = self.handle.readline()
        if not text:
            return None
        self.number += 1
        return self.number, text

    def put_back(self, lines: list[tuple[int, str]]) -> None:
        self.back.extendleft(reversed(lines))


@dataclass
class _Record:
    lines: list[tuple[int, str]]
    cells: list[str] | None = None
    error: str | None = None  # csv.Error, or a quote left open past MAX_SPAN or the file's end


def _read_record(lines: Lines) -> _Record | None:
    """Parse one record from at most MAX_SPAN physical lines; None at the end of the file."""
    taken: list[tuple[int, str]] = []
    open_quote = False

    def feed() -> Iterator[str]:
        # csv asks for another line only while the record is unfinished (inside quotes).
        nonlocal open_quote
        while True:
            if len(taken) >= MAX_SPAN:
                open_quote = True
                return
            item = lines.next()
            if item is None:
                open_quote = bool(taken)
                return
            taken.append(item)
            yield item[1]

    try:
        cells = next(csv.reader(feed()), None)
    except csv.Error as exc:
        return _Record(taken, error=str(exc)) if taken else None
    if not taken:
        return None
    if open_quote:
        last = taken[-1][0]
        reach = "the end of the file" if len(taken) < MAX_SPAN else f"line {last}"
        return _Record(taken, error=f"unclosed quote (the quoted field runs on to {reach})")
    return _Record(taken, cells=cells or [])


def _header(lines: Lines) -> tuple[list[str], int]:
    """The column names (trailing unnamed columns dropped) and the header's cell count."""
    record = _read_record(lines)
    if record is None:
        raise ImportFileError("the file is empty: it needs a header line")
    if record.cells is None:
        raise ImportFileError(f"line 1: {record.error}")
    names = [h.strip().lower() for h in record.cells]
    width = len(names)
    while names and not names[-1]:
        names.pop()  # spreadsheets export `…,channels,,`
    blank = [str(i) for i, n in enumerate(names, 1) if not n]
    if blank:
        raise ImportFileError(f"line 1: column(s) {listed(blank)} have no name")
    return names, width


def listed(names: list[str], limit: int = 10) -> str:
    """Column names for a message, kept short whatever the header holds (100,000 columns,
    one of a megabyte): the first `limit`, each cut to 40 characters, then how many more."""
    shown = [n if len(n) <= 40 else n[:39] + "…" for n in names[:limit]]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def records(
    handle: io.TextIOBase, check: Callable[[dict[str, str]], object] | None = None
) -> Iterator[tuple[int, dict[str, str] | None, str | None]]:
    """Yield (line number, record, error) with the physical line where each record starts.

    A broken record (csv error, unclosed quote, or a multi-line record with the wrong number
    of fields or that `check` rejects) is reported on its first line, and reading resumes
    on the line after it.
    """
    lines = Lines(handle)
    names, width = _header(lines)
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise ImportFileError(f"line 1: missing required column(s): {', '.join(missing)}")
    dupes = sorted(n for n, count in Counter(names).items() if count > 1)  # linear in columns
    if dupes:
        raise ImportFileError(f"line 1: column(s) named twice: {listed(dupes)}")
    unknown = [n for n in names if n not in COLUMNS]
    yield 1, None, (f"unknown column(s) ignored: {listed(unknown)}" if unknown else None)
    while (record := _read_record(lines)) is not None:
        line = record.lines[0][0]
        cells = record.cells
        if cells is None:
            lines.put_back(record.lines[1:])
            yield line, None, f"line {line}: {record.error}"
            continue
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(names) <= len(cells) <= width:
            cells = cells[: len(names)]
        problem = None
        if len(cells) != len(names):
            problem = f"line {line}: {len(cells)} fields, the header has {len(names)}"
        elif len(record.lines) > 1 and check is not None:
            # A value with a line break that the check rejects is a stray quote's doing.
            values = dict(zip(names, cells, strict=True))
            try:
                check(values)
            except RowError as exc:
                if any(c in values.get(exc.column, "") for c in "\r\n"):
                    problem = "rejected"
        if problem:
            if len(record.lines) > 1:
                # Most likely a stray quote that closed lines later: read those lines again.
                lines.put_back(record.lines[1:])
                last = record.lines[-1][0]
                problem = f"line {line}: unclosed quote (the quoted field runs on to line {last})"
            yield line, None, problem
            continue
        yield line, dict(zip(names, cells, strict=True)), None
