"""How fast the customer list page answers on 100,000 accounts, on SQLite and on PostgreSQL.

Reuses the 100,000-account setup of ``bench_api.py``, indexes it for search, signs a user in
and requests ``GET /customers`` (the whole HTML page: search, filters, count, sidebar,
filter choices, rendering) in process. "server" time is measured inside the app.
Target: server p95 ≤ 100 ms for a search with two filters.

    .venv/bin/python -m bench.bench_web_list                  # 100,000 accounts, 100 requests
    .venv/bin/python -m bench.bench_web_list --accounts 20000 --requests 30 --no-postgresql
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from banso import migrate
from banso.app import create_app
from banso.auth.models import User
from banso.db import make_engine
from banso.search.service import reindex_all
from banso.settings import Settings
from banso.web.security import SESSION_COOKIE, start_session
from bench.bench_api import (
    PG_ADMIN_URL,
    Result,
    ServerTimer,
    populate,
    postgresql_backend,
    postgresql_reachable,
    sqlite_backend,
)

TARGET_P95_MS = 100.0
BENCH_USER = "csm0@bench.example"
CASES: list[tuple[str, dict[str, str | list[str]]]] = [
    ("search 東京 + segment + stage", {"q": "東京", "f.segment": "SMB", "f.stage": "stable"}),
    ("search 北斗ダイニング (rare) + segment + industry", {
        "q": "北斗ダイニング", "f.segment": "SMB", "f.industry": "飲食"}),
    ("search 解約 (no match) + owner + tag", {"q": "解約", "f.owner": "me", "f.tag": "要フォロー"}),
    ("search さくら + stage, sort=-mrr", {"q": "さくら", "f.stage": "stable", "sort": "-mrr"}),
    ("no search, segment + industry, sort=-mrr", {
        "f.segment": "SMB", "f.industry": "飲食", "sort": "-mrr"}),
    ("everything, sort=name (first page)", {}),
]  # fmt: skip


def _sign_in(settings: Settings, user: User) -> dict[str, str]:
    """A real signed-in session for ``user``: every request pays the session check too."""
    engine = make_engine(settings)
    with Session(engine) as session:
        _row, cookie = start_session(session, settings, session.get(User, user.id) or user)
        session.commit()
    engine.dispose()
    return {SESSION_COOKIE: cookie}


def run_cases(backend: str, settings: Settings, accounts: int, requests: int) -> list[Result]:
    engine = make_engine(settings)
    migrate.upgrade(engine)
    started = time.perf_counter()
    populate(engine, accounts)
    print(f"{backend}: {accounts:,} accounts inserted in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with Session(engine) as session:
        reindex_all(session)
        session.commit()
    print(f"{backend}: search index built in {time.perf_counter() - started:.1f} s")
    with engine.connect() as conn:  # what autovacuum would have done after the bulk load
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE" if backend == "postgresql" else "ANALYZE")
        )
    with Session(engine) as session:
        user = session.scalars(select(User).where(User.email == BENCH_USER)).one()
        session.expunge(user)
    engine.dispose()
    app = create_app(settings)
    cookies = _sign_in(settings, user)
    timer = ServerTimer(app)
    results = []
    with TestClient(timer, cookies=cookies) as client:
        for case, params in CASES:
            for _ in range(5):  # warm caches and the connection pool
                client.get("/customers", params=params).raise_for_status()
            timer.samples.clear()
            client_ms: list[float] = []
            for _ in range(requests):
                started = time.perf_counter()
                response = client.get("/customers", params=params)
                client_ms.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            rows = response.text.count('<td class="col-name">')
            results.append(Result(backend, case, list(timer.samples), client_ms, rows))
    app.state.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument("--no-postgresql", action="store_true")
    args = parser.parse_args()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="banso-bench-") as tmp:
        workdir = Path(tmp)
        with sqlite_backend(workdir) as settings:
            results += run_cases("sqlite", settings, args.accounts, args.requests)
        reason = "--no-postgresql" if args.no_postgresql else None
        reason = reason or postgresql_reachable(args.pg_admin_url)
        if reason:
            print(f"postgresql: skipped ({reason})")
        else:
            with postgresql_backend(workdir, args.pg_admin_url) as settings:
                results += run_cases("postgresql", settings, args.accounts, args.requests)
    print(
        f"\n{args.accounts:,} accounts, {args.requests} requests per case, times in ms "
        f"(target p95 ≤ {TARGET_P95_MS:.0f} ms server time)"
    )
    print(
        f"{'backend':<14} {'srv p50':>8} {'srv p95':>8} {'cli p50':>8} {'cli p95':>8} "
        f"{'rows':>5}  {'':<4}  case"
    )
    for r in results:
        p50, p95 = Result.pct(r.server, 50), Result.pct(r.server, 95)
        c50, c95 = Result.pct(r.client, 50), Result.pct(r.client, 95)
        flag = "ok" if p95 <= TARGET_P95_MS else "SLOW"
        print(
            f"{r.backend:<14} {p50:>8.1f} {p95:>8.1f} {c50:>8.1f} {c95:>8.1f} "
            f"{r.rows:>5}  {flag:<4}  {r.case}"
        )


if __name__ == "__main__":
    main()
