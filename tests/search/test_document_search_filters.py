"""Document search filters: customer, type, author, dates; they combine with the query."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from banso.errors import InvalidInput
from banso.search.documents import put_many, search
from tests.factories import make_account
from tests.search._docs import doc, refs


@pytest.fixture
def ids(session: Session, alice, bob) -> dict[str, int]:  # type: ignore[no-untyped-def]
    one = make_account(session, name="東京システム")
    two = make_account(session, name="京都物産")
    session.flush()
    put_many(
        session,
        [
            doc(1, "解約ヒアリング", account_id=one.id, author_id=alice.user.id),
            doc(2, "解約の相談", account_id=two.id, author_id=bob.user.id, kind="meeting",
                occurred_at=datetime(2024, 5, 10, tzinfo=UTC)),
            doc(3, "解約タスク", account_id=one.id, author_id=bob.user.id, kind="task",
                occurred_at=datetime(2024, 6, 1, tzinfo=UTC)),
            doc(4, "解約手順", kind="knowledge_page", author_id=alice.user.id,
                occurred_at=datetime(2023, 1, 1, tzinfo=UTC)),
        ],
    )  # fmt: skip
    return {"one": one.id, "two": two.id, "alice": alice.user.id, "bob": bob.user.id}


def test_it_filters_by_customer(session: Session, ids: dict[str, int]) -> None:
    assert refs(session, "解約", account_id=ids["one"]) == {1, 3}
    assert refs(session, "解約", account_id=ids["two"]) == {2}


def test_it_filters_by_type(session: Session, ids: dict[str, int]) -> None:
    assert refs(session, "解約", kinds=["meeting", "task"]) == {2, 3}
    assert refs(session, "解約", kinds=["observation"]) == set()


def test_it_filters_by_author(session: Session, ids: dict[str, int]) -> None:
    assert refs(session, "解約", author_id=ids["alice"]) == {1, 4}


def test_it_filters_by_dates(session: Session, ids: dict[str, int]) -> None:
    may, june = datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)
    assert refs(session, "解約", since=may, until=june) == {2}  # the end is excluded
    assert refs(session, "解約", since=june) == {3}
    assert refs(session, "解約", until=datetime(2024, 1, 1, tzinfo=UTC)) == {4}


def test_it_combines_filters(session: Session, ids: dict[str, int]) -> None:
    assert refs(session, "解約", account_id=ids["one"], author_id=ids["bob"]) == {3}
    assert refs(session, "解約", account_id=ids["one"], kinds=["meeting"]) == set()


def test_it_names_the_customer_and_the_author(session: Session, ids: dict[str, int]) -> None:
    (hit,) = search(session, "相談").hits
    assert (hit.account_id, hit.account_name) == (ids["two"], "京都物産")
    assert hit.author_name == "bob"
    (page,) = search(session, "手順").hits
    assert page.account_name is None


def test_it_rejects_bad_filters(session: Session, ids: dict[str, int]) -> None:
    with pytest.raises(InvalidInput, match="kind"):
        search(session, "解約", kinds=["email"])
    with pytest.raises(InvalidInput, match="since"):
        search(session, "解約", since=datetime(2024, 1, 1))  # naive
    with pytest.raises(InvalidInput, match="limit"):
        search(session, "解約", limit=0)
