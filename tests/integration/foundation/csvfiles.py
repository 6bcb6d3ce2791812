"""Helpers that write customer CSV files the way users' tools do."""

from __future__ import annotations

import csv
import io
from pathlib import Path

HEADER = ["customer_id", "name", "branch", "phone", "email", "birthday", "opened_on",
          "tier", "marketing_consent", "sales_rep"]


def write_csv(path: Path, rows: list[dict[str, str]], *, encoding: str = "utf-8",
              header: list[str] | None = None) -> Path:
    """Write rows with the given codec (`utf-8-sig` for Excel's BOM, `gb18030` for Chinese Excel)."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=header or HEADER, extrasaction="raise")
    writer.writeheader()
    for r in rows:
        writer.writerow(r)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def person(i: int, **over: str) -> dict[str, str]:
    """A valid customer row number i."""
    base = {
        "customer_id": f"C{i:06d}",
        "name": "Li Lei",
        "branch": "SH01",
        "phone": f"+8613{i % 10}{i:08d}"[:14],
        "email": f"c{i}@example.com",
        "birthday": "1980-05-17",
        "opened_on": "2020-03-02",
        "tier": "standard",
        "marketing_consent": "yes",
        "sales_rep": "",
    }
    base.update(over)
    return base
