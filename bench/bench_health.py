"""Health scoring: 100,000 accounts from their metric snapshots, and a 12-month weekly backfill.

    .venv/bin/python -m bench.bench_health [--repeat 3] [--accounts N] [--skip-backfill]

Scoring: the standard metrics for N accounts (bench_metrics' data, computed once here on
DuckDB, which also times the metrics step), written as one date's snapshots into a fresh SQLite
database with one contract per account; then the standard scorecard scores every account
(``compute``: read inputs, points, weights, bands) and is stored (``refresh_scorecard``:
compute, replace the date's snapshots, band changes). Medians of --repeat runs.

Backfill: `banso demo --accounts 10000` (a year of usage), then `banso refresh` weekly over
the last 12 months, metrics and health scores together, timed end to end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from bench.bench_metrics import AS_OF, OUT, _timed, generate

BACKFILL_ACCOUNTS = 10_000
DEMO_TODAY = date(2026, 11, 22)


def _database(folder: Path, accounts: int) -> tuple[object, object]:
    """A fresh SQLite database with N accounts, each with one active contract and a movement."""
    from sqlalchemy import insert

    from banso.accounts.models import Account
    from banso.contracts.models import Contract, ContractMovement
    from banso.db import make_engine, make_sessionmaker, session_scope
    from banso.migrate import upgrade
    from banso.settings import load_settings

    data_dir = folder / f"health-{time.time_ns()}"
    data_dir.mkdir(parents=True)
    config = load_settings(
        data_dir=str(data_dir), database_url=f"sqlite:///{data_dir / 'bench.db'}"
    )
    engine = make_engine(config)
    upgrade(engine)
    make = make_sessionmaker(engine)
    rng = np.random.default_rng(11)
    mrr = rng.integers(1, 50, accounts) * 10_000
    ids = range(1, accounts + 1)
    start = date(2025, 4, 1)
    with session_scope(make) as session:
        session.execute(
            insert(Account), [{"id": i, "name": f"a{i}", "name_key": f"a{i}"} for i in ids]
        )
        session.execute(
            insert(Contract),
            [
                {
                    "id": i,
                    "account_id": i,
                    "plan": "Standard",
                    "mrr": int(mrr[i - 1]),
                    "seats": 10,
                    "start_date": start,
                    "end_date": start + timedelta(days=int(365 + i % 300)),
                    "status": "active",
                    "custom": {},
                }
                for i in ids
            ],
        )
        session.execute(
            insert(ContractMovement),
            [
                {
                    "contract_id": i,
                    "account_id": i,
                    "effective_date": start,
                    "kind": "new",
                    "mrr_before": 0,
                    "mrr_after": int(mrr[i - 1]),
                    "seats_before": None,
                    "seats_after": 10,
                    "status_after": "active",
                    "plan_after": "Standard",
                    "actor": "bench",
                }
                for i in ids
            ],
        )
    return engine, make


def bench_scoring(accounts: int, events: int, repeat: int) -> None:
    from banso.audit.service import Actor
    from banso.db import session_scope
    from banso.health.definitions import standard_scorecard
    from banso.health.service import compute, refresh_scorecard, save_scorecard, spec_of
    from banso.metrics.definitions import standard_definitions
    from banso.metrics.plan import to_long
    from banso.metrics.refresh import write_snapshots

    folder = generate(accounts, events)
    metrics_step = _timed("ibis", folder)["seconds"]
    print(
        f"  metrics step (DuckDB, {accounts:,} accounts, {events:,} events): {metrics_step:.1f} s"
    )
    values = to_long(
        pq.read_table(folder / "result-ibis.parquet"), [d.key for d in standard_definitions()]
    )
    engine, make = _database(folder, accounts)
    with session_scope(make) as session:  # type: ignore[arg-type]
        write_snapshots(session, AS_OF, values)
        save_scorecard(session, Actor(label="bench"), standard_scorecard())
    handed, stored, storing = [], [], []
    for _ in range(repeat):
        with session_scope(make) as session:  # type: ignore[arg-type]
            from banso.health.service import primary_scorecard

            card = primary_scorecard(session)
            assert card is not None
            spec = spec_of(session, card)
            started = time.perf_counter()
            scores = compute(session, spec, AS_OF, metrics=values)
            handed.append(time.perf_counter() - started)
            started = time.perf_counter()
            compute(session, spec, AS_OF)
            stored.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = refresh_scorecard(session, card, AS_OF, metrics=values)
            storing.append(time.perf_counter() - started)
        assert result.scored == accounts, result
    scored = int((~np.isnan(scores.score)).sum())
    h, r, s = (statistics.median(x) for x in (handed, stored, storing))
    print(f"  score {scored:,} accounts, metric values handed on (banso refresh): median {h:.2f} s")
    print(f"  score {scored:,} accounts, metric values read back (banso health score): {r:.2f} s")
    print(f"  score and store (replace the date's snapshots, band changes): median {s:.2f} s")
    print(
        f"  ratio to the metrics step: {h / metrics_step:.3f} (score), "
        f"{s / metrics_step:.3f} (score and store)"
    )
    engine.dispose()  # type: ignore[attr-defined]


def bench_backfill() -> None:
    folder = OUT / f"health-backfill-{BACKFILL_ACCOUNTS}"
    banso = str(Path(sys.executable).with_name("banso"))
    env = {**os.environ, "BANSO_DATA_DIR": str(folder)}
    if not (folder / "demo-login.txt").exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([banso, "init"], env=env, check=True, capture_output=True)
        started = time.perf_counter()
        subprocess.run(
            [banso, "demo", "--accounts", str(BACKFILL_ACCOUNTS), "--today", str(DEMO_TODAY)],
            env=env,
            check=True,
            capture_output=True,
        )
        print(f"  demo data: {time.perf_counter() - started:.0f} s")
    first = DEMO_TODAY - timedelta(days=364)
    started = time.perf_counter()
    done = subprocess.run(
        [banso, "refresh", "--from", str(first), "--to", str(DEMO_TODAY), "--every", "7d"],
        env={**env, "COLUMNS": "200"},
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    dates = sum(1 for line in done.stdout.splitlines() if " metrics × " in line)
    health = [
        float(line.rsplit(",", 1)[1].strip().removesuffix(" s"))
        for line in done.stdout.splitlines()
        if ": health " in line
    ]
    print(
        f"  backfill {dates} weekly dates × {BACKFILL_ACCOUNTS:,} accounts, metrics and scores: "
        f"{seconds:.0f} s ({seconds / max(dates, 1):.1f} s per date; scoring "
        f"{sum(health):.1f} s of it)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-backfill", action="store_true")
    args = parser.parse_args()
    bench_scoring(args.accounts, args.events, args.repeat)
    if not args.skip_backfill:
        bench_backfill()


if __name__ == "__main__":
    main()
