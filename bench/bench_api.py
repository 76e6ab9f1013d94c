"""How fast the account list API answers on 100,000 accounts, on SQLite and on PostgreSQL.

Builds a fresh database per backend (PostgreSQL only when reachable), bulk-inserts accounts
with a realistic spread of segment, industry, company size, MRR and tags, then calls
``GET /api/v1/accounts`` in process through TestClient and prints p50/p95 per case.

"server" time is measured inside the app (an ASGI wrapper around it: routing, auth, query,
serialisation); "client" time adds TestClient's own overhead. The target is p95 ≤ 50 ms.

    .venv/bin/python -m bench.bench_api                    # 100,000 accounts, 200 requests
    .venv/bin/python -m bench.bench_api --accounts 20000 --requests 50 --no-postgresql
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.orm import Session

from banso import migrate
from banso.accounts.identity import normalize_company_name
from banso.accounts.models import Account, AccountTag
from banso.app import create_app
from banso.audit.service import Actor
from banso.auth.service import UserIn, create_token, create_user
from banso.db import make_engine
from banso.settings import Settings, load_settings

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET_P95_MS = 50.0

# Industries (業態) with their share of accounts and the words their names end with.
INDUSTRIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "飲食": (0.18, ("フーズ", "ダイニング", "食堂", "キッチン")),
    "小売": (0.14, ("ストア", "商店", "マート")),
    "美容室": (0.10, ("ヘアサロン", "ビューティー")),
    "フィットネス": (0.08, ("フィットネス", "スポーツクラブ")),
    "IT": (0.12, ("システムズ", "ソリューションズ", "テック")),
    "製造": (0.10, ("工業", "製作所", "精機")),
    "不動産": (0.07, ("不動産", "ハウジング", "エステート")),
    "医療クリニック": (0.08, ("クリニック", "メディカル")),
    "学習塾": (0.06, ("ゼミナール", "学院", "アカデミー")),
    "物流": (0.07, ("運輸", "ロジスティクス", "物流")),
}
STEMS = (
    ("さくら", "サクラ"), ("ひまわり", "ヒマワリ"), ("青空", "アオゾラ"), ("東京", "トウキョウ"),
    ("大阪", "オオサカ"), ("北斗", "ホクト"), ("未来", "ミライ"), ("富士", "フジ"),
    ("山田", "ヤマダ"), ("鈴木", "スズキ"), ("アルファ", "アルファ"), ("グローバル", "グローバル"),
    ("ネクスト", "ネクスト"), ("サンライズ", "サンライズ"), ("みどり", "ミドリ"), ("光", "ヒカリ"),
    ("若葉", "ワカバ"), ("日本橋", "ニホンバシ"), ("湘南", "ショウナン"), ("博多", "ハカタ"),
    ("札幌", "サッポロ"), ("仙台", "センダイ"), ("名古屋", "ナゴヤ"), ("京都", "キョウト"),
    ("神戸", "コウベ"), ("広島", "ヒロシマ"), ("横浜", "ヨコハマ"), ("千葉", "チバ"),
    ("つばさ", "ツバサ"), ("あおば", "アオバ"), ("ミライズ", "ミライズ"), ("スマイル", "スマイル"),
    ("ハーモニー", "ハーモニー"), ("オリオン", "オリオン"), ("ペガサス", "ペガサス"),
    ("大和", "ヤマト"),
    ("東邦", "トウホウ"), ("中央", "チュウオウ"), ("第一", "ダイイチ"), ("丸の内", "マルノウチ"),
)  # fmt: skip
LEGAL_FORMS = ("株式会社", "株式会社", "株式会社", "(株)", "有限会社", "合同会社")
SEGMENTS = (("SMB", 0.55), ("Mid", 0.30), ("Enterprise", 0.15))
SIZES = {
    "SMB": ("1-9", "10-49", "50-99"),
    "Mid": ("50-99", "100-299"),
    "Enterprise": ("300-999", "1000+"),
}
MRR_MEDIAN = {"SMB": 30_000, "Mid": 150_000, "Enterprise": 800_000}
SOURCES = ("web", "event", "referral", "partner", "outbound", None)
STAGES = ("considering", "initial_setup", "early_operation", "stable", "stable", "churned", None)
TAGS = (
    "多店舗",
    "本部主導",
    "補助金活用",
    "乗り換え",
    "API連携",
    "要フォロー",
    "事例候補",
    "海外拠点",
)


# ------------------------------------------------------------------ data


def _account_rows(count: int, owner_ids: list[int], rng: random.Random) -> Iterator[dict[str, Any]]:
    industries = list(INDUSTRIES)
    industry_weights = [INDUSTRIES[i][0] for i in industries]
    segments = [s for s, _ in SEGMENTS]
    segment_weights = [w for _, w in SEGMENTS]
    start = datetime(2023, 4, 1, tzinfo=UTC)
    for _ in range(count):
        industry = rng.choices(industries, industry_weights)[0]
        segment = rng.choices(segments, segment_weights)[0]
        (stem, reading), (stem2, reading2) = rng.sample(STEMS, 2)
        ending = rng.choice(INDUSTRIES[industry][1])
        legal = rng.choice(LEGAL_FORMS)
        core = f"{stem}{stem2}{ending}"
        name = f"{legal}{core}" if rng.random() < 0.7 else f"{core}{legal}"
        created = start + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
        churned = rng.random() < 0.08
        mrr = 0 if churned else int(rng.lognormvariate(0, 0.8) * MRR_MEDIAN[segment]) // 100 * 100
        yield {
            "name": name,
            "name_kana": f"{reading}{reading2}",
            "name_key": normalize_company_name(name),
            "industry": industry,
            "company_size": rng.choice(SIZES[segment]),
            "segment": segment,
            "source": rng.choice(SOURCES),
            "owner_id": rng.choice(owner_ids) if rng.random() < 0.9 else None,
            "lifecycle_stage": "churned" if churned else rng.choice((*STAGES[:-2], None)),
            "mrr": mrr,
            "custom": {},
            "version": 1,
            "created_at": created,
            "updated_at": created + timedelta(minutes=rng.randrange(60 * 24 * 365)),
        }


# Indexes the list would need to meet the target everywhere. Not in the migrations yet:
# ``--proposed-indexes`` adds them to the bench database only, to measure what they give.
PROPOSED_INDEXES = {
    "any": (
        "CREATE INDEX ix_accounts_industry_mrr_id ON accounts (industry, mrr, id)",
        "CREATE INDEX ix_accounts_segment_mrr_id ON accounts (segment, mrr, id)",
    ),
    "postgresql": (
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE INDEX ix_accounts_name_trgm ON accounts USING gin (name gin_trgm_ops)",
        "CREATE INDEX ix_accounts_name_kana_trgm ON accounts USING gin (name_kana gin_trgm_ops)",
        "CREATE INDEX ix_accounts_name_key_trgm ON accounts USING gin (name_key gin_trgm_ops)",
    ),
}


def add_proposed_indexes(engine: Engine) -> None:
    statements = PROPOSED_INDEXES["any"]
    if engine.dialect.name == "postgresql":
        statements += PROPOSED_INDEXES["postgresql"]
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
        conn.execute(text("ANALYZE"))


def populate(engine: Engine, count: int, seed: int = 7) -> str:
    """Users, one API token, ``count`` accounts with tags. Returns the token."""
    rng = random.Random(seed)
    system = Actor(label="bench")
    with Session(engine) as session:
        users = [
            create_user(session, system, UserIn(email=f"csm{i}@bench.example", name=f"CSM {i}"))
            for i in range(20)
        ]
        _, token = create_token(session, system, users[0], "bench")
        session.commit()
        owner_ids = [u.id for u in users]
    rows = _account_rows(count, owner_ids, rng)
    with engine.begin() as conn:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == 5000:
                conn.execute(insert(Account.__table__), batch)
                batch = []
        if batch:
            conn.execute(insert(Account.__table__), batch)
        ids = list(conn.scalars(text("SELECT id FROM accounts ORDER BY id")))
        tags = [
            {"account_id": account_id, "tag": tag}
            for account_id in ids
            for tag in rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2, 3)))
        ]
        for start in range(0, len(tags), 5000):
            conn.execute(insert(AccountTag.__table__), tags[start : start + 5000])
    with engine.connect() as conn:  # what autovacuum (PostgreSQL) or `banso init` would do
        conn.execute(text("ANALYZE"))
        conn.commit()
    return token


# ------------------------------------------------------------------ backends


@contextmanager
def sqlite_backend(workdir: Path) -> Iterator[Settings]:
    yield load_settings(data_dir=str(workdir), database_url=f"sqlite:///{workdir / 'bench.db'}")


@contextmanager
def postgresql_backend(workdir: Path, admin_url: str) -> Iterator[Settings]:
    name = f"banso_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = f"{admin_url.rsplit('/', 1)[0]}/{name}"
        yield load_settings(data_dir=str(workdir), database_url=url)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgresql_reachable(admin_url: str) -> str | None:
    try:
        engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means "skip PostgreSQL"
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


# ------------------------------------------------------------------ timing


@dataclass
class ServerTimer:
    """ASGI wrapper that records how long the app took for each request."""

    app: Any
    samples: list[float] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http":
                self.samples.append((time.perf_counter() - started) * 1000)


@dataclass
class Result:
    backend: str
    case: str
    server: list[float]
    client: list[float]
    rows: int

    @staticmethod
    def pct(samples: list[float], q: int) -> float:
        return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]

    def line(self) -> str:
        p50, p95 = self.pct(self.server, 50), self.pct(self.server, 95)
        c50, c95 = self.pct(self.client, 50), self.pct(self.client, 95)
        flag = "ok" if p95 <= TARGET_P95_MS else "SLOW"
        return (
            f"{self.backend:<14} {p50:>8.1f} {p95:>8.1f} {c50:>8.1f} {c95:>8.1f} "
            f"{self.rows:>5}  {flag:<4}  {self.case}"
        )


def _deep_cursor(
    client: TestClient, headers: dict[str, str], params: dict[str, Any], rows: int
) -> str:
    """Walk ``rows`` rows into the list 500 at a time and return the cursor found there."""
    cursor = None
    for _ in range(rows // 500):
        page = client.get(
            "/api/v1/accounts", params={**params, "limit": 500, "cursor": cursor}, headers=headers
        )
        page.raise_for_status()
        cursor = page.json()["next_cursor"]
    assert cursor, "the list ended before the deep page"
    return str(cursor)


def run_cases(
    backend: str, settings: Settings, accounts: int, requests: int, *, proposed: bool
) -> list[Result]:
    engine = make_engine(settings)
    migrate.upgrade(engine)
    started = time.perf_counter()
    token = populate(engine, accounts)
    print(f"{backend}: {accounts:,} accounts inserted in {time.perf_counter() - started:.1f} s")
    if proposed:
        add_proposed_indexes(engine)
        backend += "+idx"
    engine.dispose()
    app = create_app(settings)
    timer = ServerTimer(app)
    headers = {"Authorization": f"Bearer {token}"}
    results = []
    with TestClient(timer) as client:
        filtered = {"segment": "SMB", "industry": "飲食", "sort": "-mrr", "limit": 50}
        by_name = {"sort": "name", "limit": 50}
        by_mrr = {"sort": "-mrr", "limit": 50}
        tagged = {"tag": "要フォロー", "mrr_min": 100_000, "sort": "-updated_at"}

        def deep(params: dict[str, Any], rows: int) -> Callable[[], dict[str, Any]]:
            return lambda: {**params, "cursor": _deep_cursor(client, headers, params, rows)}

        cases: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("filtered first page segment+industry -mrr", lambda: filtered),
            ("deep page sort=name (cursor at 80%)", deep(by_name, accounts * 4 // 5)),
            ("deep page sort=-mrr (cursor at 50%)", deep(by_mrr, accounts // 2)),
            ("name search q=ひまわり", lambda: {"q": "ひまわり", "limit": 50}),
            ("name search q=北斗ダイニング (rare)", lambda: {"q": "北斗ダイニング", "limit": 50}),
            ("normalised search q=(株)さくら", lambda: {"q": "(株)さくら", "limit": 50}),
            ("tag + mrr range, sort=-updated_at", lambda: tagged),
        ]
        for case, make_params in cases:
            params = make_params()
            for _ in range(5):  # warm caches and the connection pool
                client.get("/api/v1/accounts", params=params, headers=headers)
            timer.samples.clear()
            client_ms: list[float] = []
            rows = 0
            for _ in range(requests):
                started = time.perf_counter()
                response = client.get("/api/v1/accounts", params=params, headers=headers)
                client_ms.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                rows = len(response.json()["items"])
            results.append(Result(backend, case, list(timer.samples), client_ms, rows))
    app.state.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument(
        "--proposed-indexes",
        action="store_true",
        help="also create PROPOSED_INDEXES in the bench databases (not in the migrations yet)",
    )
    args = parser.parse_args()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="banso-bench-") as tmp:
        workdir = Path(tmp)
        with sqlite_backend(workdir) as settings:
            results += run_cases(
                "sqlite", settings, args.accounts, args.requests, proposed=args.proposed_indexes
            )
        reason = None if not args.no_postgresql else "--no-postgresql"
        reason = reason or postgresql_reachable(args.pg_admin_url)
        if reason:
            print(f"postgresql: skipped ({reason})")
        else:
            with postgresql_backend(workdir, args.pg_admin_url) as settings:
                results += run_cases(
                    "postgresql",
                    settings,
                    args.accounts,
                    args.requests,
                    proposed=args.proposed_indexes,
                )
    print(
        f"\n{args.accounts:,} accounts, {args.requests} requests per case, times in ms "
        f"(target p95 ≤ {TARGET_P95_MS:.0f} ms server time)"
    )
    print(
        f"{'backend':<14} {'srv p50':>8} {'srv p95':>8} {'cli p50':>8} {'cli p95':>8} "
        f"{'rows':>5}  {'':<4}  case"
    )
    for result in results:
        print(result.line())


if __name__ == "__main__":
    main()
