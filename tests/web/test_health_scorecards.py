"""Scorecards in the web interface: everyone reads; managers and admins edit them as YAML."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.health.definitions import dump_yaml
from banso.health.models import Scorecard
from banso.health.service import get_scorecard, spec_of
from tests.conftest import Person, make_person
from tests.health.factories import make_scorecard
from tests.web.conftest import Browse, form_token


@pytest.fixture
def dave(session: Session) -> Person:
    return make_person(session, "dave@example.com", "manager")


@pytest.fixture
def card(session: Session, actor: Actor) -> Scorecard:
    return make_scorecard(session, actor)


def _yaml(session: Session, card: Scorecard) -> str:
    return dump_yaml([spec_of(session, card)])


def test_it_lists_the_scorecards_for_everyone(
    web_client: Browse, charlie: Person, dave: Person, card: Scorecard
) -> None:
    page = web_client(charlie).get("/health/scorecards")
    assert page.status_code == 200
    assert "Fit score" in page.text and "Not scored yet" in page.text
    assert 'action="/health/scorecards"' not in page.text  # a viewer gets no form
    detail = web_client(charlie).get(f"/health/scorecards/{card.key}")
    assert detail.status_code == 200
    assert "Active days" in detail.text and "active_days_30d" in detail.text
    assert "Edit as YAML" not in detail.text
    assert "Edit as YAML" in web_client(dave).get(f"/health/scorecards/{card.key}").text
    assert 'action="/health/scorecards"' in web_client(dave).get("/health/scorecards").text


def test_it_saves_an_edit_as_a_new_version_and_compares_them(
    web_client: Browse, dave: Person, session: Session, card: Scorecard
) -> None:
    client = web_client(dave)
    page = client.get(f"/health/scorecards/{card.key}").text
    edited = _yaml(session, card).replace("weight: 3", "weight: 5")
    answer = client.post(
        f"/health/scorecards/{card.key}",
        data={"yaml": edited, "note": "利用日数を重視", "csrf_token": form_token(page)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert get_scorecard(session, card.key).current_version == 2
    shown = client.get(answer.headers["location"]).text
    assert "Saved as version 2 of Fit score." in shown and "利用日数を重視" in shown
    # The version in force against the one before, weights side by side.
    assert "Version 1" in shown and "Version 2" in shown
    compared = client.get(f"/health/scorecards/{card.key}?a=2&b=1")
    assert compared.status_code == 200
    assert compared.text.index("Version 2") < compared.text.index("Version 1")
    assert client.get(f"/health/scorecards/{card.key}?a=1&b=7").status_code == 422


@pytest.mark.parametrize(
    ("change", "place"),
    [
        (("weight: 3", "weight: -3"), "categories.0.measures.0.weight"),
        (("key: fit", "key: other"), "key"),
        (("categories:", "categories: [\n"), "not valid YAML (line"),
        (("metric: active_days_30d", "metric: no_such_metric"), "there is no metric"),
    ],
)
def test_it_shows_what_is_wrong_with_the_yaml_and_keeps_the_version(
    web_client: Browse,
    dave: Person,
    session: Session,
    card: Scorecard,
    change: tuple[str, str],
    place: str,
) -> None:
    client = web_client(dave)
    token = form_token(client.get(f"/health/scorecards/{card.key}").text)
    bad = _yaml(session, card).replace(*change)
    answer = client.post(f"/health/scorecards/{card.key}", data={"yaml": bad, "csrf_token": token})
    assert answer.status_code == 422
    assert "Nothing was saved" in answer.text and place in answer.text
    assert change[1].strip() in answer.text  # what was typed stays in the editor
    assert get_scorecard(session, card.key).current_version == 1


def test_it_says_when_nothing_changed(
    web_client: Browse, dave: Person, session: Session, card: Scorecard
) -> None:
    client = web_client(dave)
    token = form_token(client.get(f"/health/scorecards/{card.key}").text)
    answer = client.post(
        f"/health/scorecards/{card.key}", data={"yaml": _yaml(session, card), "csrf_token": token}
    )
    assert answer.status_code == 200
    assert "Nothing changed; the scorecard stays at version 1." in answer.text


def test_it_creates_a_scorecard_from_yaml(
    web_client: Browse, alice: Person, session: Session, card: Scorecard
) -> None:
    client = web_client(alice)
    page = client.get("/health/scorecards").text
    assert "key: new_scorecard" in page  # the standard scorecard to start from
    taken = client.post(
        "/health/scorecards", data={"yaml": _yaml(session, card), "csrf_token": form_token(page)}
    )
    assert taken.status_code == 422 and "exists already" in taken.text
    fresh = _yaml(session, card).replace("key: fit", "key: onboarding")
    created = client.post(
        "/health/scorecards",
        data={"yaml": fresh, "csrf_token": form_token(page)},
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/health/scorecards/onboarding"
    assert session.scalar(select(func.count()).select_from(Scorecard)) == 2


def test_it_does_not_let_a_csm_change_scorecards(
    web_client: Browse, bob: Person, session: Session, card: Scorecard
) -> None:
    client = web_client(bob)
    token = form_token(client.get("/health/scorecards").text)
    edited = _yaml(session, card).replace("weight: 3", "weight: 5")
    for url in (f"/health/scorecards/{card.key}", "/health/scorecards"):
        answer = client.post(url, data={"yaml": edited, "csrf_token": token})
        assert answer.status_code == 403
    assert get_scorecard(session, card.key).current_version == 1
