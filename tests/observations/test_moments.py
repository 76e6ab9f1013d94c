from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.errors import NotFound
from banso.observations.schemas import MomentIn
from banso.observations.service import delete_moment, moment_link, moments_of
from banso.search.documents import search
from tests.factories import make_account
from tests.observations.factories import make_moment, make_session


def test_it_keeps_moments_in_recording_order(session: Session, actor: Actor) -> None:
    observation = make_session(session, actor, make_account(session))
    late = make_moment(session, actor, observation, at_seconds="2:05")
    untimed = make_moment(session, actor, observation, kind="idea", note="一括取込があれば")
    early = make_moment(session, actor, observation, kind="confusion", at_seconds=30)

    assert [m.id for m in moments_of(session, observation.id)] == [early.id, late.id, untimed.id]
    assert late.at_seconds == 125


def test_it_links_a_moment_to_its_time_in_the_recording(session: Session, actor: Actor) -> None:
    observation = make_session(session, actor, make_account(session),
                               recording_url="https://video.example.com/rec/1#old")  # fmt: skip
    timed = make_moment(session, actor, observation, at_seconds=95)
    untimed = make_moment(session, actor, observation)
    own = make_moment(session, actor, observation, recording_url="https://clips.example.com/9")

    assert moment_link(timed, observation.recording_url) == "https://video.example.com/rec/1#t=95"
    assert moment_link(untimed, observation.recording_url) == "https://video.example.com/rec/1#old"
    assert moment_link(own, observation.recording_url) == "https://clips.example.com/9"
    assert moment_link(timed, None) is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "anger"}, "kind"),
        ({"severity": 0}, "severity"),
        ({"severity": 4}, "severity"),
        ({"severity": "high"}, "severity"),
        ({"step": ""}, "step"),
        ({"step": "x" * 201}, "step"),
        ({"screen": "x" * 201}, "screen"),
        ({"note": "x" * 10_001}, "note"),
        ({"at_seconds": "1:75"}, "at_seconds"),
        ({"at_seconds": "-5"}, "at_seconds"),
        ({"at_seconds": "999999"}, "at_seconds"),
        ({"recording_url": "javascript:alert(document.cookie)"}, "recording_url"),
        ({"recording_url": "data:text/html,<script>"}, "recording_url"),
    ],
)
def test_it_refuses_bad_input(fields: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        MomentIn(**{"kind": "irritation", "step": "初期設定", **fields})  # type: ignore[arg-type]
    assert caught.value.errors()[0]["loc"][0] == field


def test_it_deletes_a_moment_and_forgets_it_in_search(session: Session, actor: Actor) -> None:
    account = make_account(session)
    observation = make_session(session, actor, account)
    moment = make_moment(session, actor, observation, note="請求書の宛名が変更できない")
    assert [h.ref_id for h in search(session, "宛名", kinds=("observation",)).hits] == [
        observation.id
    ]

    delete_moment(session, actor, observation, moment.id)

    assert moments_of(session, observation.id) == []
    assert search(session, "宛名", kinds=("observation",)).hits == []


def test_it_refuses_to_delete_another_sessions_moment(session: Session, actor: Actor) -> None:
    account = make_account(session)
    first, second = make_session(session, actor, account), make_session(session, actor, account)
    moment = make_moment(session, actor, first)

    with pytest.raises(NotFound):
        delete_moment(session, actor, second, moment.id)
    with pytest.raises(NotFound):
        delete_moment(session, actor, first, 999_999)
    assert [m.id for m in moments_of(session, first.id)] == [moment.id]
