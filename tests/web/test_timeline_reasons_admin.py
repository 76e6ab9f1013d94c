"""The admin's cancellation reasons page: add, rename, reorder, retire, delete unused."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.timeline.models import CancellationReason
from tests.conftest import Person
from tests.factories import make_account
from tests.timeline.helpers import make_entry
from tests.web.conftest import form_token

Browse = Callable[..., TestClient]
PAGE = "/admin/cancellation-reasons"


def test_it_shows_the_default_reasons_to_an_admin_only(
    web_client: Browse, alice: Person, bob: Person, charlie: Person
) -> None:
    page = web_client(alice).get(PAGE)
    assert page.status_code == 200
    assert "担当者の異動・退職" in page.text and "Switched to a competitor" in page.text
    assert web_client(bob).get(PAGE).status_code == 403
    assert web_client(charlie).get(PAGE).status_code == 403


def test_it_adds_renames_moves_retires_and_deletes(
    session: Session, web_client: Browse, alice: Person
) -> None:
    client = web_client(alice, follow_redirects=False)
    token = form_token(client.get(PAGE).text)
    added = client.post(
        PAGE, data={"csrf_token": token, "key": "merger", "label_ja": "合併", "label_en": "Merger"}
    )
    assert added.status_code == 303
    client.post(
        f"{PAGE}/merger", data={"csrf_token": token, "label_ja": "合併・買収", "label_en": "M&A"}
    )
    client.post(f"{PAGE}/merger/move", data={"csrf_token": token, "direction": "up"})
    client.post(f"{PAGE}/price/active", data={"csrf_token": token, "active": "0"})
    reason = session.get(CancellationReason, "merger")
    assert reason is not None and (reason.label_ja, reason.label_en) == ("合併・買収", "M&A")
    other = session.get(CancellationReason, "other")
    assert other is not None and reason.position < other.position
    price = session.get(CancellationReason, "price")
    assert price is not None and not price.is_active
    client.post(f"{PAGE}/merger/delete", data={"csrf_token": token})
    session.expire_all()
    assert session.get(CancellationReason, "merger") is None


def test_it_refuses_bad_reasons_and_keeps_used_ones(
    session: Session, web_client: Browse, alice: Person
) -> None:
    make_entry(
        session,
        alice.actor,
        make_account(session),
        kind="cancellation_interview",
        reason_keys=["competitor"],
    )
    client = web_client(alice)
    token = form_token(client.get(PAGE).text)
    bad_key = client.post(
        PAGE, data={"csrf_token": token, "key": "Bad Key", "label_ja": "x", "label_en": "x"}
    )
    assert bad_key.status_code == 422 and "Use lower-case letters" in bad_key.text
    taken = client.post(
        PAGE, data={"csrf_token": token, "key": "price", "label_ja": "x", "label_en": "x"}
    )
    assert taken.status_code == 422 and "already exists" in taken.text
    empty = client.post(
        f"{PAGE}/price", data={"csrf_token": token, "label_ja": "", "label_en": "Price"}
    )
    assert empty.status_code == 422
    used = client.post(f"{PAGE}/competitor/delete", data={"csrf_token": token})
    assert used.status_code == 409 and "can only be retired" in used.text
    assert session.get(CancellationReason, "competitor") is not None
    assert client.post(f"{PAGE}/nope/delete", data={"csrf_token": token}).status_code == 404
    sideways = client.post(f"{PAGE}/price/move", data={"csrf_token": token, "direction": "x"})
    assert sideways.status_code == 422
    assert client.post(f"{PAGE}/price/active", data={"csrf_token": token}).status_code == 422
