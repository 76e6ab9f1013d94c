"""Import benchmark: 100,000 accounts and 300,000 contacts from Salesforce-style CSV files.

    .venv/bin/python bench/bench_import.py            # SQLite, and PostgreSQL when reachable
    .venv/bin/python bench/bench_import.py --scale 0.1

Each measurement runs in a fresh process on a fresh database (migrated with banso.migrate), so
the peak RSS it prints (resource.getrusage) belongs to that import alone. The same import at
10% of the size is measured too: similar peaks show that memory does not grow with the file.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

OUT = Path(__file__).parent / "out"
ACCOUNTS, CONTACTS = 100_000, 300_000
PG_ADMIN_URL = os.environ.get(
    "BANSO_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
STEMS = ("さくら", "ひかり", "青葉", "東京", "大和", "富士", "みらい", "北斗", "若葉", "朝日")
KINDS = ("商事", "システムズ", "製作所", "ホールディングス", "テクノロジー", "物流", "フーズ")
INDUSTRIES = ("IT・通信", "製造", "小売", "飲食", "不動産", "医療・福祉", "教育", "物流")
TYPES = ("Customer - Direct", "Customer - Channel", "Prospect", "Partner")
FAMILY = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤")
GIVEN = ("太郎", "花子", "健", "美咲", "翔太", "陽菜", "大輔", "さくら", "蓮", "結衣")
TITLES = ("部長", "課長", "主任", "CS担当", "情報システム", "代表取締役")


def _files(scale: float) -> tuple[Path, Path]:
    tag = f"{scale:g}".replace(".", "_")
    return OUT / f"accounts_{tag}.csv", OUT / f"contacts_{tag}.csv"


def generate(scale: float) -> tuple[Path, Path]:
    """Write the two CSV files (Salesforce export column names) unless they exist."""
    accounts_path, contacts_path = _files(scale)
    n_accounts, n_contacts = int(ACCOUNTS * scale), int(CONTACTS * scale)
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(42)
    if not accounts_path.exists():
        with accounts_path.open("w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f, lineterminator="\r\n")
            w.writerow(["Account ID", "Account Name", "Website", "Industry", "Type", "Employees"])
            for i in range(n_accounts):
                name = f"株式会社{rng.choice(STEMS)}{rng.choice(KINDS)}{i}"
                w.writerow(
                    [
                        f"001B{i:014d}",
                        name,
                        f"https://www.company{i}.co.jp/",
                        rng.choice(INDUSTRIES),
                        rng.choice(TYPES),
                        rng.randint(3, 5000),
                    ]
                )
    if not contacts_path.exists():
        with contacts_path.open("w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f, lineterminator="\r\n")
            w.writerow(
                ["Contact ID", "Account ID", "Last Name", "First Name", "Email", "Phone", "Title"]
            )
            for i in range(n_contacts):
                account = rng.randrange(n_accounts)
                w.writerow(
                    [
                        f"003B{i:014d}",
                        f"001B{account:014d}",
                        rng.choice(FAMILY),
                        rng.choice(GIVEN),
                        f"user{i}@company{account}.co.jp",
                        f"03-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                        rng.choice(TITLES),
                    ]
                )
    return accounts_path, contacts_path


def _pg_reachable() -> bool:
    from sqlalchemy import create_engine

    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # any failure means: no PostgreSQL to measure on
        return False


def _pg_admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def measure(backend: str, scale: float) -> dict[str, object]:
    """Run one import in this process (called in a child process by main)."""
    from banso import migrate
    from banso.audit.service import CLI
    from banso.db import make_engine, make_sessionmaker
    from banso.imports import service
    from banso.imports.engine import ImportOptions
    from banso.settings import load_settings

    accounts_path, contacts_path = _files(scale)
    result: dict[str, object] = {"backend": backend, "scale": scale}
    with tempfile.TemporaryDirectory() as tmp:
        db_name = None
        if backend == "sqlite":
            url = f"sqlite:///{tmp}/bench.db"
        else:
            db_name = f"banso_bench_{uuid.uuid4().hex[:10]}"
            _pg_admin(f'CREATE DATABASE "{db_name}"')
            url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db_name}"
        try:
            settings = load_settings(data_dir=tmp, database_url=url)
            engine = make_engine(settings)
            migrate.upgrade(engine)
            factory = make_sessionmaker(engine)
            for entity, path in (("account", accounts_path), ("contact", contacts_path)):
                with factory() as session:
                    mapping = service.build_mapping(session, entity, preset="salesforce")
                    started = time.perf_counter()
                    report = service.run_import(
                        session, CLI, entity, path, mapping, ImportOptions()
                    )
                    session.commit()
                    seconds = time.perf_counter() - started
                assert report.written and report.counts["created"] == report.counts["rows"], (
                    report.counts,
                    report.rejected[:3],
                )
                result[entity] = {
                    "rows": report.counts["rows"],
                    "seconds": round(seconds, 2),
                    "rows_per_s": round(report.counts["rows"] / seconds),
                }
            with factory() as session:
                mapping = service.build_mapping(session, "account", preset="salesforce")
                started = time.perf_counter()
                again = service.run_import(
                    session, CLI, "account", accounts_path, mapping, ImportOptions()
                )
                session.commit()
                seconds = time.perf_counter() - started
            result["account_reimport"] = {
                "unchanged": again.counts["unchanged"],
                "created": again.counts["created"],
                "updated": again.counts["updated"],
                "rows_per_s": round(again.counts["rows"] / seconds),
            }
            engine.dispose()
        finally:
            if db_name:
                _pg_admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100k accounts")
    parser.add_argument("--child", nargs=2, metavar=("BACKEND", "SCALE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], float(args.child[1]))))
        return
    scales = sorted({args.scale, round(args.scale / 10, 4)})
    for scale in scales:
        generate(scale)
    backends = ["sqlite"] + (["postgresql"] if _pg_reachable() else [])
    if "postgresql" not in backends:
        print("PostgreSQL not reachable: measuring SQLite only", file=sys.stderr)
    for backend in backends:
        for scale in scales:
            child = subprocess.run(
                [sys.executable, __file__, "--child", backend, str(scale)],
                check=True,
                capture_output=True,
                text=True,
            )
            r = json.loads(child.stdout.strip().splitlines()[-1])
            a, c, again = r["account"], r["contact"], r["account_reimport"]
            print(
                f"{backend:<10} scale {scale:<5g} accounts {a['rows']:>7,} in {a['seconds']:>6}s "
                f"= {a['rows_per_s']:>6,} rows/s | contacts {c['rows']:>7,} in {c['seconds']:>6}s "
                f"= {c['rows_per_s']:>6,} rows/s | re-import {again['rows_per_s']:>6,} rows/s "
                f"({again['unchanged']:,} unchanged, {again['created'] + again['updated']} "
                f"written) | peak RSS {r['peak_rss_mb']} MB"
            )


if __name__ == "__main__":
    main()
