"""Demo usage tells the demo accounts' stories: rhythm, decline before churn, growth."""

from __future__ import annotations

import duckdb
import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.demo.generator import external_value, generate, stories_by_account
from banso.demo.usage import KEY_FEATURES, LOGIN, generate_usage
from banso.events.identities import attribution_tables
from banso.events.models import UsageGroup, UsageUser
from banso.events.store import EventStore
from tests.events.conftest import stored


def test_it_generates_a_year_of_usage_that_tells_each_story(
    session: Session, store: EventStore
) -> None:
    generate(session, seed=3, n_accounts=120, admin_password="demo-only-password")
    session.flush()
    result = generate_usage(session, store)
    assert result.groups == 120
    events = stored(store)
    assert events.num_rows == result.events > 10_000
    stories = {external_value(s.index): s for s in stories_by_account(session).values()}
    kinds = pa.table(
        {
            "group_id": list(stories),
            "kind": [s.kind for s in stories.values()],
            "churn": [s.churn_date for s in stories.values()],
            "decline": [s.decline_start for s in stories.values()],
        }
    )
    db = duckdb.connect()
    db.register("events", events)
    db.register("kinds", kinds)
    weekday, weekend = db.sql(
        "select count(*) filter (where isodow(timestamp + interval 9 hour) <= 5) / 5, "
        "count(*) filter (where isodow(timestamp + interval 9 hour) > 5) / 2 from events"
    ).fetchone()  # type: ignore[misc]
    assert weekday > 4 * weekend
    after_churn = db.sql(
        "select count(*) from events join kinds using (group_id) "
        "where churn is not null and timestamp::date >= churn and type = 'track'"
    ).fetchone()
    assert after_churn == (0,)
    # Events per account-day in the 120 days before the decline, and from 60 days after it
    # until the churn: fading accounts use the product less.
    before, late = db.sql(
        "with fading as (select * from kinds where kind = 'churned' and churn - decline > 90 "
        "and decline - 120 > (select min(timestamp)::date from events)) "
        "select count(*) filter (where timestamp::date between decline - 120 and decline - 1) "
        "/ (120 * count(distinct group_id)), "
        "count(*) filter (where timestamp::date >= decline + 60) "
        "/ (select sum(churn - decline - 60) from fading) "
        "from events join fading using (group_id) where type = 'track'"
    ).fetchone()  # type: ignore[misc]
    assert late < 0.7 * before
    names = set(db.sql("select distinct event from events where type = 'track'").fetchall())
    assert (LOGIN,) in names and any((f,) in names for f in KEY_FEATURES)


def test_it_links_every_product_user_and_group_of_the_demo(
    session: Session, store: EventStore
) -> None:
    generate(session, seed=4, n_accounts=30, admin_password="demo-only-password")
    session.flush()
    first = generate_usage(session, store)
    again = generate_usage(session, store)
    assert again.events == 0, "the same demo generated twice adds no event"
    unlinked = select(func.count()).select_from(UsageUser).where(UsageUser.account_id.is_(None))
    assert session.scalar(unlinked) == 0
    assert session.scalar(select(func.count()).select_from(UsageGroup)) == 30
    users, groups, _ = attribution_tables(session)
    assert users.num_rows == first.users
    linked_contacts = [c for c in users.column("contact_id").to_pylist() if c is not None]
    assert len(linked_contacts) >= 60  # every demo account has at least two contacts
    assert set(stored(store).column("group_id").to_pylist()) <= set(
        groups.column("group_id").to_pylist()
    ) | {None}
