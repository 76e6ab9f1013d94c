"""Standard metrics for 100,000 accounts from 20,000,000 events on DuckDB, against hand-written SQL.

    .venv/bin/python -m bench.bench_metrics [--repeat 3] [--accounts N --events N]

The events are generated once into bench/out/metrics-<accounts>-<events>/ (Parquet, the event
store's schema) and reused. Each timed run is a fresh process so its peak memory is its own.
The hand-written query computes the same numbers; the script checks they agree.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from banso.events.schema import EVENT_SCHEMA
from banso.metrics.definitions import standard_definitions
from banso.metrics.engine import DuckDBEngine
from banso.metrics.plan import AppData, MetricPlan

OUT = Path(__file__).parent / "out"
AS_OF = date(2026, 11, 20)
DAYS = 60
FILES = 8
EVENTS = ["Logged In", "Report Created", "Dashboard Viewed", "Task Completed"]
EVENTS += ["Export Downloaded", "Workflow Automated", "Comment Posted", "Home"]
_JST_DAY0 = np.datetime64("2026-09-22T00:00:00") - np.timedelta64(9, "h")  # local midnight


# The same numbers as the standard set, written by hand for DuckDB (JST has no daylight saving,
# so a local day is floor((epoch + 9 h) / 1 day)). {today} is as_of's day number.
STANDARD_METRICS_SQL = """
WITH ev AS (
  SELECT coalesce(e.user_id, al.user_id, e.anonymous_id) AS user_key, e.group_id, e.event,
         e.type, e.timestamp AS ts,
         CAST(floor((epoch(e.timestamp) + 32400) / 86400) AS BIGINT) AS day
  FROM read_parquet({files}) e LEFT JOIN aliases al ON e.anonymous_id = al.alias_id
  WHERE e.timestamp < {end} AND e.type IN ('track', 'page', 'screen')
), att AS (
  SELECT coalesce(g.account_id, u.account_id) AS account_id, ev.user_key, u.contact_id,
         ev.day, ev.ts, ev.event, ev.type, ev.day BETWEEN {today} - 29 AND {today} AS in30
  FROM ev LEFT JOIN groups g USING (group_id) LEFT JOIN users u ON ev.user_key = u.user_id
  WHERE coalesce(g.account_id, u.account_id) IS NOT NULL OR u.contact_id IS NOT NULL
), marked AS (
  SELECT *, in30 AND coalesce(epoch(ts) - lag(epoch(ts)) OVER (
           PARTITION BY user_key, in30 ORDER BY ts), 1801) > 1800 AS starts
  FROM att
), per_user_day AS (
  SELECT account_id, user_key, contact_id, day,
    count(*) FILTER (in30) AS n30,
    count(*) FILTER (starts) AS s30,
    count(*) FILTER (day BETWEEN {today} - 59 AND {today} - 30) AS prev30,
    count(*) FILTER (type = 'track' AND event = 'Logged In' AND in30) AS login30,
    count(*) FILTER (type = 'track' AND event = 'Logged In') AS login_all,
    count(*) FILTER (type = 'track' AND event = 'Report Created' AND in30) AS f1,
    count(*) FILTER (type = 'track' AND event = 'Dashboard Viewed' AND in30) AS f2,
    count(*) FILTER (type = 'track' AND event = 'Task Completed' AND in30) AS f3,
    count(*) FILTER (type = 'track' AND event = 'Export Downloaded' AND in30) AS f4,
    count(*) FILTER (type = 'track' AND event = 'Workflow Automated' AND in30) AS f5,
    count(*) FILTER (type = 'track' AND event = 'Comment Posted' AND in30) AS f6
  FROM marked GROUP BY ALL
), per_account AS (
  SELECT account_id,
    count(DISTINCT user_key) FILTER (day = {today}) AS au1,
    count(DISTINCT user_key) FILTER (day >= {today} - 6) AS au7,
    count(DISTINCT user_key) FILTER (n30 > 0) AS au30,
    count(DISTINCT day) FILTER (n30 > 0) AS ad30,
    sum(n30) AS ev30, sum(login30) AS login30, sum(s30) AS s30,
    sum(f1) AS f1, sum(f2) AS f2, sum(f3) AS f3, sum(f4) AS f4, sum(f5) AS f5, sum(f6) AS f6,
    count(DISTINCT contact_id) FILTER (login_all > 0) AS logged_in,
    count(DISTINCT user_key) FILTER (prev30 > 0) AS au_prev, sum(prev30) AS ev_prev,
    max(day) AS last_day
  FROM per_user_day WHERE account_id IS NOT NULL GROUP BY account_id
), last_seen AS (
  SELECT contact_id, max(day) FILTER (day >= {today} - 89) AS last_day
  FROM per_user_day WHERE contact_id IS NOT NULL GROUP BY contact_id
), kp AS (
  SELECT k.account_id, max(coalesce({today} - l.last_day, 90)) AS kmax,
         min(coalesce({today} - l.last_day, 90)) AS kmin
  FROM key_persons k LEFT JOIN last_seen l USING (contact_id) GROUP BY k.account_id
)
SELECT a.account_id,
  coalesce(p.au1, 0)::DOUBLE AS active_users_1d,
  coalesce(p.au7, 0)::DOUBLE AS active_users_7d,
  coalesce(p.au30, 0)::DOUBLE AS active_users_30d,
  coalesce(p.ad30, 0)::DOUBLE AS active_days_30d,
  coalesce(p.ev30, 0)::DOUBLE AS events_30d,
  coalesce(p.login30, 0)::DOUBLE AS logins_30d,
  coalesce(p.s30, 0)::DOUBLE AS sessions_30d,
  coalesce(p.f1, 0)::DOUBLE AS reports_created_30d,
  coalesce(p.f4, 0)::DOUBLE AS exports_30d,
  ((coalesce(p.f1, 0) > 0)::INT + (coalesce(p.f2, 0) > 0)::INT + (coalesce(p.f3, 0) > 0)::INT
   + (coalesce(p.f4, 0) > 0)::INT + (coalesce(p.f5, 0) > 0)::INT
   + (coalesce(p.f6, 0) > 0)::INT) / 6.0 AS feature_adoption_30d,
  a.seats::DOUBLE AS seats,
  CASE WHEN a.seats > 0 THEN coalesce(p.au30, 0) / a.seats END AS licence_activation,
  coalesce(a.invited_contacts, 0)::DOUBLE AS contacts_invited,
  coalesce(p.logged_in, 0)::DOUBLE AS contacts_logged_in,
  CASE WHEN a.invited_contacts > 0 THEN coalesce(p.logged_in, 0) / a.invited_contacts END
    AS first_login_rate,
  kp.kmax::DOUBLE AS key_person_days_inactive_max,
  kp.kmin::DOUBLE AS key_person_days_inactive_min,
  CASE WHEN p.au_prev > 0 THEN coalesce(p.au30, 0) / p.au_prev END AS active_users_trend_30d,
  CASE WHEN p.ev_prev > 0 THEN coalesce(p.ev30, 0) / p.ev_prev END AS events_trend_30d,
  ({today} - p.last_day)::DOUBLE AS days_since_last_activity
FROM accounts a LEFT JOIN per_account p USING (account_id) LEFT JOIN kp USING (account_id)
"""


def _folder(accounts: int, events: int) -> Path:
    return OUT / f"metrics-{accounts}-{events}"


def _app_tables(accounts: int) -> dict[str, pa.Table]:
    rng = np.random.default_rng(7)
    users_per = rng.integers(1, 8, accounts)
    account_of_user = np.repeat(np.arange(1, accounts + 1), users_per)
    n_users = len(account_of_user)
    contact = np.where(rng.random(n_users) < 0.7, np.arange(1, n_users + 1), 0)
    key = (contact > 0) & (rng.random(n_users) < 0.3)
    seats = rng.integers(1, 20, accounts)
    invited = np.bincount(account_of_user[contact > 0], minlength=accounts + 1)[1:]
    ids = pa.array(np.arange(n_users)).cast(pa.string())
    return {
        "users": pa.table(
            {
                "user_id": pc.binary_join_element_wise("u", ids, ""),
                "account_id": pa.array(account_of_user, pa.int64()),
                "contact_id": pa.array(contact, pa.int64(), mask=contact == 0),
            }
        ),
        "groups": pa.table(
            {"group_id": pa.array([], pa.string()), "account_id": pa.array([], pa.int64())}
        ),
        "aliases": pa.table(
            {"alias_id": pa.array([], pa.string()), "user_id": pa.array([], pa.string())}
        ),
        "accounts": pa.table(
            {
                "account_id": pa.array(np.arange(1, accounts + 1), pa.int64()),
                "seats": pa.array(seats, pa.int64()),
                "invited_contacts": pa.array(invited, pa.int64()),
            }
        ),
        "key_persons": pa.table(
            {
                "contact_id": pa.array(contact[key], pa.int64()),
                "account_id": pa.array(account_of_user[key], pa.int64()),
            }
        ),
    }


def generate(accounts: int, events: int) -> Path:
    """Write the events (and app tables) once; later runs reuse them."""
    folder = _folder(accounts, events)
    if (folder / "done").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    app = _app_tables(accounts)
    for name, table in app.items():
        pq.write_table(table, folder / f"app-{name}.parquet")
    n_users = app["users"].num_rows
    rng = np.random.default_rng(11)
    per_file = events // FILES
    for i in range(FILES):
        user = rng.integers(0, n_users, per_file)
        seconds = rng.integers(0, DAYS * 86400, per_file)
        ts = _JST_DAY0 + seconds.astype("timedelta64[s]")
        name_idx = rng.integers(0, len(EVENTS), per_file)
        kinds = np.where(name_idx == len(EVENTS) - 1, "page", "track")
        ids = pa.array(np.arange(i * per_file, (i + 1) * per_file)).cast(pa.string())
        null = pa.nulls(per_file, pa.string())
        stamp = pa.array(ts.astype("datetime64[us]"), pa.timestamp("us", tz="UTC"))
        table = pa.table(
            {
                "message_id": ids,
                "type": pa.array(kinds),
                "event": pa.array(np.array(EVENTS, dtype=object)[name_idx]),
                "user_id": pc.take(app["users"].column("user_id"), pa.array(user)),
                "anonymous_id": null,
                "group_id": null,
                "previous_id": null,
                "timestamp": stamp,
                "received_at": stamp,
                "properties": null,
                "traits": null,
                "context": null,
                "source": pa.array(["bench"] * per_file),
            },
            schema=EVENT_SCHEMA,
        )
        pq.write_table(table, folder / f"events-{i}.parquet", row_group_size=1 << 20)
    (folder / "done").touch()
    return folder


def _load(folder: Path) -> tuple[list[Path], AppData]:
    names = ("users", "groups", "aliases", "accounts", "key_persons")
    tables = {n: pq.read_table(folder / f"app-{n}.parquet") for n in names}
    return sorted(folder.glob("events-*.parquet")), AppData(**tables)


def run_ibis(folder: Path) -> pa.Table:
    files, app = _load(folder)
    engine = DuckDBEngine()
    try:
        plan = MetricPlan(standard_definitions(), AS_OF, "Asia/Tokyo", engine)
        return engine.to_arrow(plan.expression(files, app))
    finally:
        engine.close()


def run_sql(folder: Path) -> pa.Table:
    import duckdb

    files, app = _load(folder)
    con = duckdb.connect()
    for name in ("users", "groups", "aliases", "accounts", "key_persons"):
        con.register(name, getattr(app, name))
    today = (AS_OF - date(1970, 1, 1)).days
    sql = STANDARD_METRICS_SQL.format(
        files=json.dumps([str(f) for f in files]).replace('"', "'"),
        today=today,
        end=f"TIMESTAMPTZ '{AS_OF.isoformat()} 15:00:00+00'",  # next local midnight
    )
    return con.execute(sql).fetch_arrow_table()


def _child(variant: str, folder: Path) -> None:
    started = time.perf_counter()
    result = run_ibis(folder) if variant == "ibis" else run_sql(folder)
    seconds = time.perf_counter() - started
    result.sort_by("account_id").to_pandas().to_parquet(folder / f"result-{variant}.parquet")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "rows": result.num_rows}))


def _timed(variant: str, folder: Path) -> dict[str, float]:
    cmd = [sys.executable, "-m", "bench.bench_metrics", "--child", variant, "--folder", str(folder)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _agree(folder: Path) -> str:
    a = pq.read_table(folder / "result-ibis.parquet").sort_by("account_id")
    b = pq.read_table(folder / "result-sql.parquet").sort_by("account_id")
    wrong = []
    for d in standard_definitions():
        x = np.array(a.column(d.key).to_pylist(), dtype=float)
        y = np.array(b.column(d.key).to_pylist(), dtype=float)
        if not np.allclose(x, y, equal_nan=True, rtol=1e-12):
            wrong.append(d.key)
    return "all agree" if not wrong else f"DIFFER: {', '.join(wrong)}"


def bench_write(folder: Path, accounts: int, postgresql: bool) -> None:
    """Time replacing one date's snapshots (accounts × 20 values), on SQLite and PostgreSQL."""
    from sqlalchemy import insert

    from banso.accounts.models import Account
    from banso.db import make_engine, make_sessionmaker, session_scope
    from banso.metrics.plan import to_long
    from banso.metrics.refresh import write_snapshots
    from banso.migrate import upgrade
    from bench.bench_api import PG_ADMIN_URL, postgresql_backend, sqlite_backend

    values = to_long(
        pq.read_table(folder / "result-ibis.parquet"), [d.key for d in standard_definitions()]
    )
    backends = [("SQLite", sqlite_backend(folder / f"write-{time.time_ns()}"))]
    if postgresql:
        backends.append(("PostgreSQL", postgresql_backend(folder, PG_ADMIN_URL)))
    for label, backend in backends:
        with backend as config:
            Path(config.data_dir).mkdir(parents=True, exist_ok=True)
            engine = make_engine(config)
            upgrade(engine)
            make = make_sessionmaker(engine)
            with session_scope(make) as session:
                names = [
                    {"id": i, "name": f"a{i}", "name_key": f"a{i}"} for i in range(1, accounts + 1)
                ]
                session.execute(insert(Account), names)
            for attempt in ("first write", "replace"):
                started = time.perf_counter()
                with session_scope(make) as session:
                    write_snapshots(session, AS_OF, values)
                print(
                    f"  snapshots {label} {attempt}: {values.num_rows:,} rows in "
                    f"{time.perf_counter() - started:.1f} s"
                )
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=("ibis", "sql"))
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--write-only", action="store_true", help="Only time snapshot writes.")
    parser.add_argument("--no-postgresql", action="store_true")
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.folder)
        return
    started = time.perf_counter()
    folder = generate(args.accounts, args.events)
    print(f"data: {folder} ({time.perf_counter() - started:.1f} s)")
    if args.write_only:
        bench_write(folder, args.accounts, not args.no_postgresql)
        return
    runs: dict[str, list[dict[str, float]]] = {"ibis": [], "sql": []}
    for _ in range(args.repeat):
        for variant in runs:  # alternate, so background load hits both alike
            runs[variant].append(_timed(variant, folder))
    med = {v: statistics.median(r["seconds"] for r in rs) for v, rs in runs.items()}
    peak = {v: max(r["peak_mb"] for r in rs) for v, rs in runs.items()}
    print(
        f"standard metrics ({len(standard_definitions())}), {args.accounts:,} accounts, "
        f"{args.events:,} events, median of {args.repeat}"
    )
    print(f"  banso (Ibis on DuckDB): {med['ibis']:.2f} s, peak {peak['ibis']:.0f} MB")
    print(f"  hand-written SQL:       {med['sql']:.2f} s, peak {peak['sql']:.0f} MB")
    print(f"  ratio: {med['ibis'] / med['sql']:.2f}; results: {_agree(folder)}")
    bench_write(folder, args.accounts, not args.no_postgresql)


if __name__ == "__main__":
    main()
