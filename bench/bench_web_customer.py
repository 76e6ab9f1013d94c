"""How fast the customer page (Customer 360) answers with 100,000 accounts, SQLite and PostgreSQL.

Reuses the 100,000-account setup of ``bench_api.py``, gives every account a contract with its
first movement (so the movement tables are full-sized), and gives 20 accounts a realistic
history: three contracts with a dozen movements, eight contacts, custom fields. Then requests
``GET /customers/{id}`` (the whole HTML page: header figures, renewal, MRR history series,
contacts, contracts, deals, custom fields, rendering) for those 20 in turn, in process.
Target: server p95 ≤ 100 ms.

    .venv/bin/python -m bench.bench_web_customer               # 100,000 accounts, 200 requests
    .venv/bin/python -m bench.bench_web_customer --accounts 20000 --requests 50 --no-postgresql
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from banso import migrate
from banso.accounts import customfields
from banso.accounts.customfields import CustomFieldIn
from banso.accounts.schemas import AccountPatch, ContactIn
from banso.accounts.service import create_contact, update_account
from banso.app import create_app
from banso.audit.service import Actor
from banso.auth.models import User
from banso.contracts.models import Contract, ContractMovement
from banso.contracts.schemas import ContractIn, MovementIn
from banso.contracts.service import create_contract, record_movement
from banso.db import make_engine
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
RICH_ACCOUNTS = 20
SYSTEM = Actor(label="bench")


def _sign_in(settings: Settings, user: User) -> dict[str, str]:
    """A real signed-in session for ``user``: every request pays the session check too."""
    engine = make_engine(settings)
    with Session(engine) as session:
        _row, cookie = start_session(session, settings, session.get(User, user.id) or user)
        session.commit()
    engine.dispose()
    return {SESSION_COOKIE: cookie}


def _bulk_contracts(session: Session, rng: random.Random) -> None:
    """One contract and its first movement per account, inserted in batches."""
    ids = list(session.scalars(text("SELECT id FROM accounts ORDER BY id")))
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        rows = []
        for account_id in chunk:
            begin = date(2023, 1, 1) + timedelta(days=rng.randrange(900))
            rows.append(
                {
                    "account_id": account_id,
                    "plan": "Standard",
                    "mrr": rng.choice((30_000, 50_000, 120_000)),
                    "currency": "JPY",
                    "seats": 10,
                    "start_date": begin,
                    "end_date": begin + timedelta(days=364),
                    "auto_renew": True,
                    "status": "active",
                    "custom": {},
                    "version": 1,
                }
            )
        session.execute(insert(Contract), rows)
        contracts = session.execute(
            select(Contract.id, Contract.account_id, Contract.mrr, Contract.start_date).where(
                Contract.account_id.in_(chunk)
            )
        ).all()
        movements = [
            {
                "contract_id": c.id,
                "account_id": c.account_id,
                "effective_date": c.start_date,
                "kind": "new",
                "mrr_before": 0,
                "mrr_after": c.mrr,
                "seats_after": 10,
                "status_after": "active",
                "plan_after": "Standard",
                "actor": "bench",
            }
            for c in contracts
        ]
        session.execute(insert(ContractMovement), movements)
    session.commit()


def _rich_history(session: Session, account_id: int, rng: random.Random) -> None:
    """What a customer of a few years looks like: contracts, movements, contacts, fields."""
    for n in range(3):
        contract = create_contract(
            session,
            SYSTEM,
            ContractIn(
                account_id=account_id,
                plan=f"オプション{n}",
                mrr=20_000 * (n + 1),
                seats=5,
                start_date=date(2022, 4, 1) + timedelta(days=200 * n),
                end_date=date(2027, 3, 31),
            ),
        )
        mrr = contract.mrr
        for step in range(4):
            mrr += rng.choice((5_000, 10_000, -5_000))
            day = contract.start_date + timedelta(days=90 * (step + 1))
            kind = "expansion" if mrr > contract.mrr else "contraction"
            session.flush()
            record_movement(
                session,
                SYSTEM,
                contract.id,
                MovementIn(kind=kind, effective_date=day, mrr=mrr, version=contract.version),
            )
    for n in range(8):
        create_contact(
            session,
            SYSTEM,
            ContactIn(account_id=account_id, name=f"担当 {n}", is_key_person=n < 2),
        )
    account_version = session.scalar(text(f"SELECT version FROM accounts WHERE id = {account_id}"))
    update_account(
        session,
        SYSTEM,
        account_id,
        AccountPatch(version=account_version, custom={"plan_note": "年次契約、更新交渉中"}),
    )


def prepare(session: Session, rng: random.Random) -> list[int]:
    _bulk_contracts(session, rng)
    customfields.create_definition(
        session,
        SYSTEM,
        CustomFieldIn(key="plan_note", type="text", label_ja="契約メモ", label_en="Plan note"),
    )
    ids = list(session.scalars(text("SELECT id FROM accounts ORDER BY id")))
    chosen = rng.sample(ids, RICH_ACCOUNTS)
    for account_id in chosen:
        _rich_history(session, account_id, rng)
    session.commit()
    return chosen


def run_cases(backend: str, settings: Settings, accounts: int, requests: int) -> list[Result]:
    engine = make_engine(settings)
    migrate.upgrade(engine)
    started = time.perf_counter()
    populate(engine, accounts)
    rng = random.Random(11)
    with Session(engine) as session:
        chosen = prepare(session, rng)
        user = session.scalars(select(User).where(User.email == BENCH_USER)).one()
        session.expunge(user)
    with engine.connect() as conn:  # what autovacuum would have done after the bulk load
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE" if backend == "postgresql" else "ANALYZE")
        )
    print(f"{backend}: {accounts:,} accounts prepared in {time.perf_counter() - started:.1f} s")
    engine.dispose()
    app = create_app(settings)
    cookies = _sign_in(settings, user)
    timer = ServerTimer(app)
    with TestClient(timer, cookies=cookies) as client:
        for account_id in chosen:  # warm caches and the connection pool
            client.get(f"/customers/{account_id}").raise_for_status()
        timer.samples.clear()
        client_ms: list[float] = []
        for n in range(requests):
            started = time.perf_counter()
            response = client.get(f"/customers/{chosen[n % len(chosen)]}")
            client_ms.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
        rows = response.text.count('class="c360-contact ')
    app.state.engine.dispose()
    case = "Customer 360 page (3 contracts, 13 movements, 8 contacts)"
    return [Result(backend, case, list(timer.samples), client_ms, rows)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
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
        f"\n{args.accounts:,} accounts, {args.requests} requests, times in ms "
        f"(target p95 ≤ {TARGET_P95_MS:.0f} ms server time)"
    )
    print(f"{'backend':<12} {'srv p50':>8} {'srv p95':>8} {'cli p50':>8} {'cli p95':>8}  case")
    for r in results:
        p50, p95 = Result.pct(r.server, 50), Result.pct(r.server, 95)
        c50, c95 = Result.pct(r.client, 50), Result.pct(r.client, 95)
        flag = "ok" if p95 <= TARGET_P95_MS else "SLOW"
        print(f"{r.backend:<12} {p50:>8.1f} {p95:>8.1f} {c50:>8.1f} {c95:>8.1f}  {flag} {r.case}")


if __name__ == "__main__":
    main()
