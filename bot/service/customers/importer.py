"""Customer import: stream a CSV in batches, upsert by customer_id, report bad lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.db.models import Branch, ConsentChange, Customer, Event, Staff, table, utcnow
from bot.service.customers.csv_encoding import detect
from bot.service.customers.csv_reader import records
from bot.service.customers.csv_rows import OPTIONAL, Cell, CheckedRow, RowError, check_row
from bot.settings import Settings

BATCH = 1000
CUSTOMER = table(Customer)
_DEFAULTS: dict[str, Any] = {"tier": "standard", "locale": "zh-CN", "status": "active"}
#: The customer columns an import writes (the CSV's `branch` is stored as `branch_code`).
_FIELDS = ("name", "branch_code", *OPTIONAL)


@dataclass
class ImportReport:
    """What an import did; errors are `line N, column C: reason` strings."""

    encoding: str = ""
    lines: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_learned: int = 0
    kept_opted_out: int = 0  # lines whose consent was left alone: the customer opted out
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    notices: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class _Line:
    number: int
    row: CheckedRow


Progress = Callable[[int], None]
Output = Callable[[str], None]


def _same(a: Any, b: Any) -> bool:
    """Equal values; datetimes compared as instants (SQLite gives them back naive, in UTC)."""
    if isinstance(a, datetime) and isinstance(b, datetime):
        a, b = (x if x.tzinfo else x.replace(tzinfo=UTC) for x in (a, b))
    return bool(a == b)


class CustomerImporter:
    """One import run over one connection; batches commit as they go."""

    def __init__(self, conn: AsyncConnection, settings: Settings, source: str) -> None:
        self.conn = conn
        self.settings = settings
        self.source = source
        self.zone = ZoneInfo(settings.timezone)
        self.today = datetime.now(self.zone).date()
        self.report = ImportReport()
        self.branches: set[str] = set()
        self.staff: set[str] = set()
        self.unknown_reps: set[str] = set()

    async def prepare(self) -> None:
        """Load branch codes and usernames (small sets) and make the seen-ids table."""
        branch, staff = table(Branch), table(Staff)
        self.branches = set((await self.conn.execute(sa.select(branch.c.code))).scalars())
        self.staff = set((await self.conn.execute(sa.select(staff.c.username))).scalars())
        # Repeated ids are found through a temporary table, so memory stays flat.
        await self.conn.execute(sa.text("DROP TABLE IF EXISTS import_seen"))
        await self.conn.execute(
            sa.text("CREATE TEMPORARY TABLE import_seen (id VARCHAR(64) PRIMARY KEY, line INTEGER)")
        )
        await self.conn.commit()

    def _consent_at(self, value: Any) -> Any:
        if isinstance(value, date):
            return datetime.combine(value, time(0), self.zone)
        return value

    def _merge(self, line: _Line, old: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
        """Apply the line to the stored row: empty keeps, `-` clears, learned facts stay."""
        row = line.row
        new: dict[str, Any] = dict(old) if old else {f: _DEFAULTS.get(f) for f in _FIELDS}
        new["name"], new["branch_code"] = row.name, row.branch
        opted_out = bool(old and old.get("opted_out_at"))
        kept_consent = False
        for column, value in row.values.items():
            if value is Cell.KEEP:
                continue
            value = _DEFAULTS.get(column) if value is Cell.CLEAR else value
            if column == "consent_at":
                value = self._consent_at(value)
            if old and column == "telegram_chat_id" and old.get("telegram_bound"):
                self.report.kept_learned += value != old.get(column)
                continue
            if old and opted_out and column in ("marketing_consent", "consent_at"):
                # A withdrawal the bot learned: neither a value nor `-` changes it.
                if not _same(value, old.get(column)):
                    self.report.kept_learned += 1
                    kept_consent = True
                continue
            new[column] = value
        birthday, opened = new.get("birthday"), new.get("opened_on")
        if birthday and opened and opened < birthday:
            raise RowError("opened_on", f"{opened} is before the birthday {birthday}")
        self.report.kept_opted_out += kept_consent
        changed = [f for f in _FIELDS if old is None or new.get(f) != old.get(f)]
        return new, changed

    async def _ensure_branches(self, lines: list[_Line], say: Output) -> None:
        missing = sorted({ln.row.branch for ln in lines} - self.branches)
        for code in missing:
            now = utcnow()
            await self.conn.execute(
                sa.insert(table(Branch)).values(
                    code=code,
                    name=code,
                    timezone=self.settings.timezone,
                    send_window=self.settings.send_window,
                    working_hours=self.settings.working_hours,
                    recording_ref_required=True,
                    festival_offset_working_days=0,
                    created_at=now,
                    updated_at=now,
                )
            )
            self._event(None, code, "branch.added", f"branch {code} created by customer import")
            notice = (
                f"branch {code} did not exist: created with defaults "
                f"(set it up with `outreach branch set {code}`)"
            )
            self.report.notices.append(notice)
            say(notice)
            self.branches.add(code)

    def _event(
        self,
        customer_id: str | None,
        branch: str | None,
        type_: str,
        summary: str,
        payload: dict[str, Any] | None = None,
    ) -> None:
        self._events.append(
            {
                "at": utcnow(),
                "type": type_,
                "customer_id": customer_id,
                "branch_code": branch,
                "actor": "import",
                "channel": None,
                "summary": summary,
                "payload": json.dumps(payload, ensure_ascii=False) if payload else None,
            }
        )

    async def write_batch(self, lines: list[_Line], say: Output) -> None:
        """Check repeats, merge with stored rows and write one batch in one transaction."""
        self._events: list[dict[str, Any]] = []
        ids = [ln.row.customer_id for ln in lines]
        seen: dict[str, int] = dict(
            (
                await self.conn.execute(
                    sa.text("SELECT id, line FROM import_seen WHERE id IN :ids").bindparams(
                        sa.bindparam("ids", expanding=True)
                    ),
                    {"ids": ids},
                )
            ).all()
        )
        stored = {
            r["id"]: dict(r)
            for r in (
                await self.conn.execute(sa.select(CUSTOMER).where(CUSTOMER.c.id.in_(ids)))
            ).mappings()
        }
        good: list[_Line] = []
        for ln in lines:
            first = seen.get(ln.row.customer_id)
            if first is not None:
                self._error(
                    ln.number,
                    RowError(
                        "customer_id", f"{ln.row.customer_id} already appears on line {first}"
                    ),
                    say,
                )
                continue
            seen[ln.row.customer_id] = ln.number
            good.append(ln)
        await self._ensure_branches(good, say)
        inserts, updates, consents, seen_rows = [], [], [], []
        now = utcnow()
        for ln in good:
            old = stored.get(ln.row.customer_id)
            try:
                new, changed = self._merge(ln, old)
            except RowError as exc:
                seen.pop(ln.row.customer_id, None)
                self._error(ln.number, exc, say)
                continue
            rep = new.get("sales_rep")
            if rep and rep not in self.staff and rep not in self.unknown_reps:
                self.unknown_reps.add(rep)
                say(
                    f"warning: line {ln.number}: sales_rep {rep} is not a staff username (imported anyway)"
                )
            seen_rows.append({"id": ln.row.customer_id, "line": ln.number})
            cid = ln.row.customer_id
            where = f"{self.source} line {ln.number}"
            if old is None:
                inserts.append(
                    {
                        **new,
                        "id": cid,
                        "created_at": now,
                        "updated_at": now,
                        "telegram_bound": False,
                    }
                )
                self.report.created += 1
                self._event(cid, new["branch_code"], "customer.imported", f"imported from {where}")
            elif changed:
                updates.append({**{f: new.get(f) for f in _FIELDS}, "b_id": cid, "updated_at": now})
                self.report.updated += 1
                self._event(
                    cid,
                    new["branch_code"],
                    "customer.updated",
                    f"updated from {where}: {', '.join(changed)}",
                    {"fields": changed},
                )
            else:
                self.report.unchanged += 1
            if "marketing_consent" in changed and new.get("marketing_consent") is not None:
                consents.append(
                    {
                        "customer_id": cid,
                        "marketing": new["marketing_consent"],
                        "source": "import",
                        "channel": None,
                        "at": new.get("consent_at") or now,
                    }
                )
        if seen_rows:
            await self.conn.execute(
                sa.text("INSERT INTO import_seen (id, line) VALUES (:id, :line)"), seen_rows)
        if inserts:
            await self.conn.execute(sa.insert(CUSTOMER), inserts)
        if updates:
            stmt = sa.update(CUSTOMER).where(CUSTOMER.c.id == sa.bindparam("b_id"))
            await self.conn.execute(
                stmt.values({f: sa.bindparam(f) for f in (*_FIELDS, "updated_at")}), updates
            )
        if consents:
            await self.conn.execute(sa.insert(table(ConsentChange)), consents)
        if self._events:
            await self.conn.execute(sa.insert(table(Event)), self._events)
        await self.conn.commit()

    def _error(self, number: int, exc: RowError, say: Output) -> None:
        message = f"line {number}, {exc}"
        self.report.error_count += 1
        if len(self.report.errors) < 1000:
            self.report.errors.append(message)
        say(message)


async def import_customers(
    engine: AsyncEngine,
    path: Path,
    settings: Settings,
    *,
    progress: Progress | None = None,
    say: Output = print,
    total: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a customer CSV: bad lines are reported and skipped, good ones upserted."""
    facts = detect(path)
    if total:
        total(max(facts.lines - 1, 0))
    async with engine.connect() as conn:
        importer = CustomerImporter(conn, settings, path.name)
        importer.report.encoding = facts.encoding
        await importer.prepare()
        batch: list[_Line] = []
        with path.open(encoding=facts.encoding, newline="") as handle:
            check = lambda r: check_row(r, importer.today)  # noqa: E731
            for number, record, problem in records(handle, check):
                if number == 1:
                    if problem:
                        importer.report.notices.append(problem)
                        say(f"warning: {problem}")
                    continue
                importer.report.lines += 1
                if progress:
                    progress(1)
                if problem:
                    importer.report.error_count += 1
                    importer.report.errors.append(problem)
                    say(problem)
                    continue
                assert record is not None
                try:
                    batch.append(_Line(number, check_row(record, importer.today)))
                except RowError as exc:
                    importer._error(number, exc, say)
                if len(batch) >= BATCH:
                    await importer.write_batch(batch, say)
                    batch = []
        if batch:
            await importer.write_batch(batch, say)
        if importer.report.kept_opted_out:
            notice = (
                f"{importer.report.kept_opted_out} line(s) set marketing_consent or consent_at "
                "for customers who opted out: left unchanged (only the customer can opt back in)"
            )
            importer.report.notices.append(notice)
            say(f"warning: {notice}")
        await conn.execute(sa.text("DROP TABLE IF EXISTS import_seen"))
        await conn.commit()
    return importer.report
