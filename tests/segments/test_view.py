"""The customer list's view: parameters in, the right accounts out, bad parameters named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.customfields import CustomFieldIn, create_definition
from banso.accounts.models import Account, AccountDomain
from banso.errors import InvalidInput
from banso.segments.view import CustomerView, count, page, parse_view, view_from_saved
from tests.conftest import Person
from tests.factories import SYSTEM, make_account


@pytest.fixture
def accounts(session: Session, bob: Person) -> None:
    create_definition(
        session,
        SYSTEM,
        CustomFieldIn(
            key="plan", type="single_choice", label_ja="プラン", label_en="Plan",
            choices=["Pro", "Lite"],
        ),
    )  # fmt: skip
    make_account(session, name="東京商事", segment="SMB", lifecycle_stage="stable",
                 owner_id=bob.user.id, tags=["解約予定"], custom={"plan": "Pro"})  # fmt: skip
    make_account(session, name="大阪商事", segment="Enterprise", lifecycle_stage="stable")
    make_account(session, name="東京物流", segment="SMB", lifecycle_stage="churned",
                 custom={"plan": "Lite"})  # fmt: skip
    session.flush()


def names(session: Session, params: dict[str, list[str]], user_id: int | None = None) -> list[str]:
    view = parse_view(session, params)
    return [a.name for a in page(session, view, user_id, None).items]


def test_it_filters_by_search_fields_owner_tags_and_custom_fields(
    session: Session, accounts: None, bob: Person
) -> None:
    assert names(session, {"q": ["東京"]}) == ["東京商事", "東京物流"]
    assert names(session, {"q": ["東京"], "f.stage": ["stable"]}) == ["東京商事"]
    assert names(session, {"f.stage": ["stable", "churned"], "f.segment": ["SMB"]}) == [
        "東京商事",
        "東京物流",
    ]
    assert names(session, {"f.owner": ["me"]}, bob.user.id) == ["東京商事"]
    assert names(session, {"f.owner": ["none"]}) == ["大阪商事", "東京物流"]
    assert names(session, {"f.tag": ["解約予定"]}) == ["東京商事"]
    assert names(session, {"f.custom.plan": ["Lite"]}) == ["東京物流"]
    assert len(names(session, {"f.segment": [""], "f.owner": [""]})) == 3  # fields left at "any"


def test_it_filters_by_domain_and_by_days_in_the_workspace_timezone(
    session: Session, accounts: None
) -> None:
    tokyo = session.scalars(select(Account).where(Account.name == "東京商事")).one()
    tokyo.domains = [AccountDomain(domain="tokyo-shoji.co.jp")]
    # 2026-04-01 00:30 in Tokyo is still 31 March in UTC.
    tokyo.created_at = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)
    session.flush()
    assert names(session, {"f.domain": ["https://www.TOKYO-shoji.co.jp/"]}) == ["東京商事"]
    assert names(session, {"f.created_from": ["2026-04-01"], "f.created_to": ["2026-04-01"]}) == [
        "東京商事"
    ]
    assert names(session, {"f.created_to": ["2026-03-31"]}) == []


def test_it_sorts_by_a_column_both_ways(session: Session, accounts: None) -> None:
    assert names(session, {"sort": ["-name"]}) == ["東京物流", "東京商事", "大阪商事"]
    assert names(session, {"sort": ["segment"], "f.stage": ["stable"]}) == ["大阪商事", "東京商事"]


def test_it_counts_what_it_lists(session: Session, accounts: None) -> None:
    view = parse_view(session, {"q": ["商事"]})
    assert count(session, view, None) == 2


def test_it_names_every_bad_parameter(session: Session, accounts: None) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_view(
            session,
            {
                "f.colour": ["red"],
                "sort": ["password"],
                "cols": ["name,secret"],
                "f.mrr_min": ["lots"],
                "f.owner": ["someone"],
                "f.created_from": ["yesterday"],
                "f.domain": ["not a domain"],
            },
        )
    fields = {e.field: e.message for e in caught.value.errors}
    assert "no field 'colour'" in fields["f.colour"]
    assert "cannot sort by 'password'" in fields["sort"]
    assert "no such column: secret" in fields["cols"]
    assert "not a whole amount" in fields["f.mrr_min"]
    assert "not a user" in fields["f.owner"]
    assert "not a day" in fields["f.created_from"]
    assert "not a domain" in fields["f.domain"]


def test_it_refuses_a_cursor_from_elsewhere(session: Session, accounts: None) -> None:
    view = parse_view(session, {})
    with pytest.raises(InvalidInput, match="cursor"):
        page(session, view, None, "not-a-cursor")


def test_it_round_trips_through_a_saved_segment(session: Session, accounts: None) -> None:
    view = parse_view(
        session, {"q": ["東京"], "f.stage": ["stable"], "sort": ["-mrr"], "cols": ["name,mrr"]}
    )
    again = parse_view(session, view_from_saved(view.as_saved()))
    assert again == view
    assert CustomerView().query_string() == ""
    assert "f.stage=stable" in view.query_string()
