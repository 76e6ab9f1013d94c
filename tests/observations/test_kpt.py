from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from banso.documents.service import EditConflict, history
from banso.observations.schemas import KptEdit
from banso.observations.service import save_kpt, search_documents
from banso.search.documents import search
from tests.conftest import Person
from tests.factories import make_account
from tests.observations.factories import make_moment, make_session


def test_it_saves_the_kpt_with_a_revision(session: Session, alice: Person) -> None:
    observation = make_session(session, alice.actor, make_account(session))

    kpt = KptEdit(keep="説明が丁寧", problem="CSVの文字コード", try_next="UTF-8の案内", version=1)
    assert save_kpt(session, alice.actor, observation, kpt)

    assert observation.version == 2
    assert [r.version for r in history(session, "observation_session", observation.id)] == [2, 1]
    assert [h.ref_id for h in search(session, "文字コード", kinds=("observation",)).hits] == [
        observation.id
    ]


def test_it_offers_a_merge_to_the_second_writer(
    session: Session, alice: Person, bob: Person
) -> None:
    observation = make_session(session, alice.actor, make_account(session))
    save_kpt(session, alice.actor, observation, KptEdit(keep="アリス", version=1))

    with pytest.raises(EditConflict) as caught:
        save_kpt(session, bob.actor, observation, KptEdit(keep="", try_next="ボブ", version=1))

    merged = {f.name: f.merged for f in caught.value.fields}
    assert merged["keep"] == "アリス" and merged["try_next"] == "ボブ"
    assert caught.value.current_version == 2 and observation.try_next == ""


def test_it_refuses_an_oversized_kpt() -> None:
    with pytest.raises(ValidationError):
        KptEdit(keep="x" * 100_001, version=1)
    with pytest.raises(ValidationError):
        KptEdit(keep="", version=0)


def test_it_yields_every_session_for_reindexing(session: Session, alice: Person) -> None:
    account = make_account(session)
    observation = make_session(session, alice.actor, account, observer_id=alice.user.id)
    make_moment(session, alice.actor, observation, note="ボタンが見つからない")

    (doc,) = search_documents(session)

    assert (doc.kind, doc.ref_id, doc.account_id, doc.author_id) == (
        "observation",
        observation.id,
        account.id,
        alice.user.id,
    )
    assert "ボタンが見つからない" in doc.body and doc.url == f"/observations/{observation.id}"
