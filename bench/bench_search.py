"""Document search: 1,000,000 timeline-like entries in Japanese and English, on both databases.

    .venv/bin/python -m bench.bench_search [--size 1000000] [--repeat 3] [--runs 40]
        [--no-sqlite] [--no-postgresql] [--keep] [--reuse-sqlite URL] [--reuse-postgresql URL]

--keep leaves the databases in place (their URLs are printed) and --reuse-* times the
queries again on such a database without indexing anew (while tuning queries).

Builds a fresh SQLite database under bench/out/ and, when PostgreSQL answers on
127.0.0.1:5432, a database of its own there (dropped after). Generates entries from a
vocabulary (hearings, troubles, meetings, cancellation interviews, tasks; Japanese with
English product words, some all-English), indexes them through ``put_many`` (the same path as
the services and ``banso search reindex``) and reports the indexing rate; then times
``banso.search.documents.search`` (query, filters, snippets and names: what the page calls)
for a set of queries, --runs times each, and reports the medians over --repeat rounds of the
per-round p50 and p95.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "out"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ACCOUNTS = 10_000
USERS = 40
START = datetime(2022, 1, 1, tzinfo=UTC)
SPAN_DAYS = 4 * 365
CHUNK = 20_000

COMPANIES = [
    "さくら",
    "ひまわり",
    "北斗",
    "青葉",
    "みらい",
    "東和",
    "大和",
    "千代田",
    "港南",
    "白鷺",
]
PEOPLE = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田"]
ROLES = ["情シス担当", "営業部長", "経理課長", "現場リーダー", "社長", "人事担当", "CS責任者"]
FEATURES = [
    "ダッシュボード", "レポート機能", "CSV取込", "API連携", "権限設定", "ワークフロー",
    "通知設定", "シングルサインオン", "モバイルアプリ", "承認フロー", "請求書発行", "検索機能",
    "Slack連携", "Salesforce連携", "カスタム項目", "データ出力",
]  # fmt: skip
ISSUES = [
    "ログインできない", "画面が重い", "集計が合わない", "メールが届かない", "エラーが表示される",
    "データが消えた", "権限が足りない", "操作が分かりにくい", "取込に失敗する", "帳票がずれる",
]  # fmt: skip
REASONS = [
    "価格が高い", "使いこなせなかった", "他社製品に乗り換え", "予算削減", "担当者の退職",
    "機能が足りない", "社内の利用が定着しなかった", "事業縮小",
]  # fmt: skip
SENTENCES = [
    "{person}様（{role}）と{feature}の利用状況について打ち合わせを実施。",
    "{feature}について「{issue}」との問い合わせがあり、原因を調査中。",
    "先方より{feature}の改善要望をいただいた。次回の定例で回答する。",
    "契約更新に向けて{person}様と面談。{feature}の活用度は高い。",
    "解約の意向あり。理由は「{reason}」とのこと。代替案として{feature}のトレーニングを提案。",
    "オンボーディングの進捗確認。{feature}の設定が完了し、来週から本番運用。",
    "{person}様から電話。{issue}件について至急対応してほしいとのこと。",
    "稟議が通り、{feature}のオプション追加が決まった。",
    "定例ミーティング：利用率は先月比で{pct}%向上。{feature}の展開を他部署にも広げたい意向。",
    "トラブル報告：{issue}。影響は{count}名。暫定対応として手順書を送付済み。",
    "{role}の{person}様はITリテラシーが高く、{feature}の社内展開を主導している。",
    "ヒアリング：週次で{feature}を使い、月末に集計している。繁忙期は{month}月。",
    "アップセルの可能性あり。{feature}に関心を示している。見積もりを送付予定。",
    "メールで{feature}の操作マニュアルを送付した。",
    "{person}様が異動のため、後任の{person2}様へ引き継ぎ。",
    "ヘルススコアが低下。ログイン数が減っているため、{person}様に状況を確認する。",
]  # fmt: skip
ENGLISH = [
    "Quarterly business review with {person}: adoption of {en} is up {pct}% since last quarter.",
    "Customer reported that {en} is slow during the month-end close; escalated to support.",
    "Onboarding call: walked the admin through {en} and user permissions.",
    "Renewal risk: budget cuts announced, champion {person} is leaving the company.",
    "Follow up on the {en} integration and send the pricing proposal.",
    "Kickoff meeting with the project team; success criteria agreed for {en}.",
]  # fmt: skip
ENGLISH_FEATURES = ["dashboards", "reporting", "the API", "single sign-on", "workflows", "exports"]
TITLES = [
    "定例ミーティング", "解約ヒアリング", "トラブル対応", "電話メモ", "オンボーディング",
    "契約更新面談", "QBR", "要望ヒアリング", "Kickoff", "Follow-up call", "引き継ぎ",
]  # fmt: skip
RARE = "監査法人"  # added to about 1 entry in 5,000
KINDS = (
    ("timeline_entry", 70),
    ("meeting", 15),
    ("task", 10),
    ("knowledge_page", 3),
    ("observation", 2),
)


def documents(size: int, seed: int = 7) -> Iterator[Any]:
    """``size`` varied entries, in random order of time (as a reindex of old data would be)."""
    from banso.search.documents import Doc

    rng = random.Random(seed)
    kinds = [k for k, weight in KINDS for _ in range(weight)]
    for i in range(1, size + 1):
        english = rng.random() < 0.15
        count = rng.randint(2, 5)
        parts = []
        for _ in range(count):
            template = rng.choice(ENGLISH if english else SENTENCES)
            parts.append(
                template.format(
                    person=rng.choice(PEOPLE),
                    person2=rng.choice(PEOPLE),
                    role=rng.choice(ROLES),
                    feature=rng.choice(FEATURES),
                    en=rng.choice(ENGLISH_FEATURES),
                    issue=rng.choice(ISSUES),
                    reason=rng.choice(REASONS),
                    pct=rng.randint(2, 60),
                    count=rng.randint(1, 300),
                    month=rng.randint(1, 12),
                )
            )
        if rng.random() < 0.0002:
            parts.append(f"{RARE}の指摘事項への対応を依頼された。")
        company = rng.choice(COMPANIES)
        yield Doc(
            kind=rng.choice(kinds),
            ref_id=i,
            account_id=rng.randint(1, ACCOUNTS),
            author_id=rng.randint(1, USERS),
            occurred_at=START + timedelta(seconds=rng.randrange(SPAN_DAYS * 86400)),
            title=f"{rng.choice(TITLES)}（{company}）",
            body="\n\n".join(parts),
            url=f"/timeline/{i}",
        )


@dataclass
class Case:
    label: str
    q: str
    filters: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case("2-char Japanese, common (`契約`)", "契約"),
    Case("2-char Japanese, frequent (`設定`)", "設定"),
    Case("2-char Japanese, rare (`監査`)", "監査"),
    Case("4-char Japanese (`請求書発`)", "請求書発"),
    Case("longer Japanese phrase (`社内の利用が定着`)", "社内の利用が定着"),
    Case("English word (`onboarding`)", "Onboarding"),
    Case("two words (`解約 価格`)", "解約 価格"),
    Case("absent word (`該当なし`)", "該当なし"),
    Case("with an account filter (`契約`, one account)", "契約", {"account_id": 4242}),
    Case(
        "kind + date filter (`解約`, meetings, one quarter)",
        "解約",
        {
            "kinds": ["meeting"],
            "since": datetime(2024, 4, 1, tzinfo=UTC),
            "until": datetime(2024, 7, 1, tzinfo=UTC),
        },
    ),
    Case("next page (`契約`, page 5)", "契約", {"pages": 5}),
]


def _engine(url: str) -> Any:
    from banso.db import make_engine, make_sessionmaker
    from banso.migrate import upgrade
    from banso.settings import load_settings

    data_dir = OUT / f"search-{time.time_ns()}"
    data_dir.mkdir(parents=True)
    config = load_settings(data_dir=str(data_dir), database_url=url.format(dir=data_dir))
    engine = make_engine(config)
    upgrade(engine)
    return engine, make_sessionmaker(engine)


def _people(make: Any) -> None:
    from sqlalchemy import insert

    from banso.accounts.models import Account
    from banso.auth.models import User
    from banso.db import session_scope

    with session_scope(make) as session:
        session.execute(
            insert(Account),
            [
                {"id": i, "name": f"{COMPANIES[i % 10]}商事{i}", "name_key": f"k{i}"}
                for i in range(1, ACCOUNTS + 1)
            ],
        )
        session.execute(
            insert(User),
            [
                {"id": i, "email": f"u{i}@example.com", "name": f"{PEOPLE[i % 11]} {i}"}
                for i in range(1, USERS + 1)
            ],
        )


def index(make: Any, size: int) -> float:
    """Index ``size`` entries in chunks (one transaction each); returns the seconds spent
    inside ``put_many`` (generating the entries is not counted)."""
    from banso.db import session_scope
    from banso.search import document_sql
    from banso.search.documents import put_many

    spent = 0.0
    source = documents(size)
    done = 0
    while done < size:
        chunk = [next(source) for _ in range(min(CHUNK, size - done))]
        with session_scope(make) as session:
            started = time.perf_counter()
            put_many(session, chunk)
            session.flush()
            session.commit()
            spent += time.perf_counter() - started
        done += len(chunk)
        if done % 200_000 == 0 or done == size:
            print(f"    {done:,} indexed, {done / spent:,.0f} docs/s so far", flush=True)
    with session_scope(make) as session:
        started = time.perf_counter()
        document_sql.optimise(session.connection())
        session.commit()
        print(f"    optimise/analyse: {time.perf_counter() - started:.1f} s", flush=True)
    return spent


def run_case(make: Any, case: Case, runs: int) -> tuple[list[float], int]:
    from banso.db import session_scope
    from banso.search.documents import search

    filters = dict(case.filters)
    pages = filters.pop("pages", 1)
    times: list[float] = []
    hits = 0
    with session_scope(make) as session:
        for _ in range(runs):
            cursor = None
            for _ in range(pages - 1):  # not timed: the earlier pages of a deep page
                cursor = search(session, case.q, cursor=cursor, **filters).next_cursor
            started = time.perf_counter()
            results = search(session, case.q, cursor=cursor, **filters)
            times.append((time.perf_counter() - started) * 1000)
            hits = len(results.hits)
    return times, hits


def bench(
    name: str, url: str, size: int, repeat: int, runs: int, reuse: bool = False
) -> dict[str, Any]:
    from sqlalchemy import text

    from banso.db import make_engine, make_sessionmaker, session_scope
    from banso.settings import load_settings

    if reuse:
        engine = make_engine(load_settings(data_dir=str(OUT), database_url=url))
        make = make_sessionmaker(engine)
        rate = float("nan")
    else:
        print(f"{name}: indexing {size:,} entries", flush=True)
        engine, make = _engine(url)
        print(f"  database: {engine.url.render_as_string(hide_password=True)}", flush=True)
        _people(make)
        seconds = index(make, size)
        rate = size / seconds
        print(f"  indexing: {seconds:.0f} s = {rate:,.0f} docs/s", flush=True)
    if engine.dialect.name == "sqlite":
        with session_scope(make) as session:
            pages = session.execute(text("PRAGMA page_count")).scalar_one()
            size_mb = pages * session.execute(text("PRAGMA page_size")).scalar_one() / 1e6
    else:
        with session_scope(make) as session:
            size_mb = (
                session.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
                / 1e6
            )
    print(f"  database size: {size_mb:,.0f} MB", flush=True)
    result: dict[str, Any] = {"rate": rate, "size_mb": size_mb, "cases": {}}
    for case in CASES:
        p50s, p95s = [], []
        for _ in range(repeat):
            times, hits = run_case(make, case, runs)
            times.sort()
            p50s.append(statistics.median(times))
            p95s.append(times[min(len(times) - 1, int(len(times) * 0.95))])
        p50, p95 = statistics.median(p50s), statistics.median(p95s)
        result["cases"][case.label] = (p50, p95, hits)
        print(f"  {case.label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({hits} hits)", flush=True)
    engine.dispose()
    return result


def _pg_database() -> tuple[str, str] | None:
    from sqlalchemy import create_engine, text

    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        name = f"banso_bench_search_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # no PostgreSQL here
        print(f"PostgreSQL skipped: {type(exc).__name__}")
        return None
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _drop_pg(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse-sqlite")
    parser.add_argument("--reuse-postgresql")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    if args.reuse_sqlite or args.reuse_postgresql:
        for name, url in (("SQLite", args.reuse_sqlite), ("PostgreSQL", args.reuse_postgresql)):
            if url:
                results[name] = bench(name, url, args.size, args.repeat, args.runs, reuse=True)
    else:
        if not args.no_sqlite:
            results["SQLite"] = bench(
                "SQLite", "sqlite:///{dir}/bench.db", args.size, args.repeat, args.runs
            )
        if not args.no_postgresql and (pg := _pg_database()) is not None:
            try:
                results["PostgreSQL"] = bench(
                    "PostgreSQL", pg[1], args.size, args.repeat, args.runs
                )
            finally:
                if not args.keep:
                    _drop_pg(pg[0])
    names = list(results)
    print()
    print(f"| case | {' | '.join(f'{n} p50 / p95 (ms)' for n in names)} |")
    print(f"| --- | {' | '.join('---' for _ in names)} |")
    for case in CASES:
        cells = []
        for n in names:
            p50, p95, _hits = results[n]["cases"][case.label]
            cells.append(f"{p50:.1f} / {p95:.1f}")
        print(f"| {case.label} | {' | '.join(cells)} |")
    rates = " | ".join(f"{results[n]['rate']:,.0f}" for n in names)
    sizes = " | ".join(f"{results[n]['size_mb']:,.0f}" for n in names)
    print(f"| indexing rate (docs/s) | {rates} |")
    print(f"| database size (MB) | {sizes} |")


if __name__ == "__main__":
    main()
