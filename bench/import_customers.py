"""Benchmark: `import customers` lines/s and peak RSS, against a raw csv+INSERT baseline.

Usage: python bench/import_customers.py [--lines 100000 200000] [--database-url URL]
Each size runs in a subprocess of its own, so peak RSS is per run; memory that stays
flat between sizes is the point of the streaming importer.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEADER = ["customer_id", "name", "branch", "phone", "email", "birthday", "opened_on",
          "tier", "marketing_consent", "channels", "salutation"]


PREFIXES = ("138", "139", "136", "186", "150", "159", "177")


def make_file(path: Path, lines: int) -> None:
    """A realistic file: Chinese names, CN mobiles, emails, dates; GB18030 as Excel writes."""
    surnames, given = "王李张刘陈杨黄赵吴周", ("伟", "芳", "秀英", "敏", "静", "晓燕")
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(lines):
            writer.writerow([
                f"C{i:08d}", surnames[i % 10] + given[i % 6], f"B{i % 20:02d}",
                f"{PREFIXES[i % 7]}{i % 100000000:08d}", f"c{i}@example.com",
                f"{1950 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}", "2021-03-01",
                ("diamond", "gold", "standard")[i % 3], ("yes", "no")[i % 2],
                "sms|email", ("先生", "女士", "")[i % 3],
            ])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_product(path: Path, database_url: str) -> dict[str, float]:
    from bot.bootstrap import open_app
    from bot.service.customers.importer import import_customers
    from bot.settings import load_settings

    async def main() -> dict[str, float]:
        settings = load_settings(_env_file=None, database_url=database_url)
        async with open_app(settings) as app:
            started = time.perf_counter()
            report = await import_customers(app.engine, path, settings, say=lambda _: None)
            elapsed = time.perf_counter() - started
        assert report.error_count == 0, report.errors[:3]
        return {"lines": report.lines, "seconds": elapsed}

    result = asyncio.run(main())
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def run_baseline(path: Path, db: Path) -> dict[str, float]:
    """Raw floor: decode + csv.reader + executemany INSERT into sqlite3, no checks at all."""
    conn = sqlite3.connect(db)
    conn.execute(f"CREATE TABLE c ({', '.join(h + ' TEXT' for h in HEADER)})")
    started = time.perf_counter()
    count = 0
    with path.open(encoding="gb18030", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        batch = []
        for row in reader:
            batch.append(row)
            count += 1
            if len(batch) == 1000:
                conn.executemany(f"INSERT INTO c VALUES ({','.join('?' * len(HEADER))})", batch)
                conn.commit()
                batch = []
        if batch:
            conn.executemany(f"INSERT INTO c VALUES ({','.join('?' * len(HEADER))})", batch)
            conn.commit()
    return {"lines": count, "seconds": time.perf_counter() - started, "peak_rss_mb": peak_rss_mb()}


def child(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.csv"
        make_file(path, args.child)
        if args.baseline:
            result = run_baseline(path, Path(tmp) / "raw.db")
        else:
            url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            result = run_product(path, url)
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, nargs="+", default=[100_000, 200_000])
    parser.add_argument("--database-url", default=None,
                        help="an EMPTY database (default: a fresh SQLite file per run)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    print(f"{'run':<10}{'lines':>10}{'seconds':>10}{'lines/s':>10}{'peak RSS MB':>13}")
    for lines in args.lines:
        for baseline in (True, False):
            cmd = [sys.executable, __file__, "--child", str(lines)]
            if baseline:
                cmd.append("--baseline")
            elif args.database_url:
                cmd += ["--database-url", args.database_url]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            name = "raw" if baseline else "import"
            print(f"{name:<10}{int(r['lines']):>10}{r['seconds']:>10.1f}"
                  f"{r['lines'] / r['seconds']:>10.0f}{r['peak_rss_mb']:>13.0f}")


if __name__ == "__main__":
    main()
