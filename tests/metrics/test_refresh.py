"""`refresh` on the app database: snapshots per date, replaced atomically, late-bound users."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.errors import InvalidInput
from banso.events.models import UsageUser
from banso.metrics.engine import DuckDBEngine
from banso.metrics.models import MetricSnapshot
from banso.metrics.refresh import dates, parse_every, refresh
from banso.metrics.service import latest, series
from tests.factories import make_account, make_contact, make_contract
from tests.metrics.conftest import event, utc, write_events

TZ = "Asia/Tokyo"


def _value(session: Session, account: Account, key: str, as_of: date) -> float | None:
    return session.scalar(
        select(MetricSnapshot.value).where(
            MetricSnapshot.account_id == account.id,
            MetricSnapshot.metric_key == key,
            MetricSnapshot.as_of == as_of,
        )
    )


@pytest.fixture
def engine() -> DuckDBEngine:
    return DuckDBEngine(threads=1)


def test_it_stores_every_metric_for_every_account(
    session: Session, engine: DuckDBEngine, tmp_path: Path
) -> None:
    acme = make_account(session, name="株式会社アクメ")
    make_account(session, name="空の会社")
    tanaka = make_contact(session, acme, name="田中 花子", is_key_person=True)
    make_contract(session, acme, seats=5, start_date=date(2026, 10, 1), end_date=None)
    session.add(UsageUser(user_id="u1", account_id=acme.id, contact_id=tanaka.id))
    files = write_events(
        tmp_path, [event(1, utc(2026, 11, 19, 1), "u1"), event(2, utc(2026, 11, 20, 1), "u1")]
    )

    result = refresh(session, engine, files, date(2026, 11, 20), TZ)

    assert result.metrics == 20 and result.rows == 20 * result.accounts
    assert _value(session, acme, "active_users_30d", date(2026, 11, 20)) == 1
    assert _value(session, acme, "logins_30d", date(2026, 11, 20)) == 2
    assert _value(session, acme, "seats", date(2026, 11, 20)) == 5
    assert _value(session, acme, "licence_activation", date(2026, 11, 20)) == pytest.approx(0.2)
    assert _value(session, acme, "first_login_rate", date(2026, 11, 20)) == 1.0
    assert _value(session, acme, "key_person_days_inactive_max", date(2026, 11, 20)) == 0
    # Before the contract started there were no seats, so no activation rate either.
    refresh(session, engine, files, date(2026, 9, 30), TZ)
    assert _value(session, acme, "seats", date(2026, 9, 30)) is None
    assert _value(session, acme, "licence_activation", date(2026, 9, 30)) is None


def test_it_replaces_one_date_and_leaves_the_others(
    session: Session, engine: DuckDBEngine, tmp_path: Path
) -> None:
    acme = make_account(session)
    session.add(UsageUser(user_id="u1", account_id=acme.id))
    (tmp_path / "a").mkdir()
    first = write_events(tmp_path / "a", [event(1, utc(2026, 11, 18, 1), "u1")])
    refresh(session, engine, first, date(2026, 11, 19), TZ)
    refresh(session, engine, first, date(2026, 11, 20), TZ)
    (tmp_path / "b").mkdir()
    more = write_events(
        tmp_path / "b", [event(1, utc(2026, 11, 18, 1), "u1"), event(2, utc(2026, 11, 20, 1), "u1")]
    )

    refresh(session, engine, more, date(2026, 11, 20), TZ)

    assert _value(session, acme, "events_30d", date(2026, 11, 19)) == 1
    assert _value(session, acme, "events_30d", date(2026, 11, 20)) == 2
    per_date = session.execute(
        select(MetricSnapshot.as_of, func.count())
        .where(MetricSnapshot.account_id == acme.id)
        .group_by(MetricSnapshot.as_of)
    ).all()
    assert dict(per_date) == {date(2026, 11, 19): 20, date(2026, 11, 20): 20}


def test_it_counts_a_users_past_events_once_they_are_linked(
    session: Session, engine: DuckDBEngine, tmp_path: Path
) -> None:
    acme = make_account(session)
    stranger = UsageUser(user_id="new-user")
    session.add(stranger)
    files = write_events(
        tmp_path, [event(1, utc(2026, 11, 1), "new-user"), event(2, utc(2026, 11, 2), "new-user")]
    )
    refresh(session, engine, files, date(2026, 11, 20), TZ)
    assert _value(session, acme, "events_30d", date(2026, 11, 20)) == 0

    stranger.account_id = acme.id
    session.flush()
    refresh(session, engine, files, date(2026, 11, 20), TZ)

    assert _value(session, acme, "events_30d", date(2026, 11, 20)) == 2


def test_it_reads_series_and_latest_values_for_the_customer_page(
    session: Session, engine: DuckDBEngine, tmp_path: Path
) -> None:
    acme = make_account(session)
    session.add(UsageUser(user_id="u1", account_id=acme.id))
    files = write_events(
        tmp_path, [event(1, utc(2026, 11, 10, 1), "u1"), event(2, utc(2026, 11, 12, 1), "u1")]
    )
    for day in (date(2026, 11, 11), date(2026, 11, 12), date(2026, 11, 13)):
        refresh(session, engine, files, day, TZ)

    got = series(session, acme.id, ["events_30d", "days_since_last_activity"], date(2026, 11, 12))
    newest = {v.key: v for v in latest(session, acme.id)}

    assert [(p.as_of.day, p.value) for p in got["events_30d"]] == [(12, 2), (13, 2)]
    assert [p.value for p in got["days_since_last_activity"]] == [0, 1]
    assert newest["days_since_last_activity"].as_of == date(2026, 11, 13)
    assert newest["days_since_last_activity"].value == 1
    assert newest["active_users_1d"].value == 0


def test_it_refuses_backfill_ranges_it_cannot_run() -> None:
    assert list(dates(date(2026, 1, 1), date(2026, 1, 15), parse_every("1w"))) == [
        date(2026, 1, 1),
        date(2026, 1, 8),
        date(2026, 1, 15),
    ]
    with pytest.raises(InvalidInput, match="--to: 2026-01-01 is before --from 2026-02-01"):
        list(dates(date(2026, 2, 1), date(2026, 1, 1)))
    with pytest.raises(InvalidInput, match="--every: 'weekly' is not a period"):
        parse_every("weekly")
