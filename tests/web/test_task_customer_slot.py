from __future__ import annotations

from sqlalchemy.orm import Session

from banso.audit.service import Actor
from tests.conftest import Person
from tests.factories import make_account, make_contact
from tests.tasks.factories import make_task
from tests.web.conftest import Browse, form_token


def test_the_customer_slot_groups_open_tasks_and_quick_adds(
    session: Session, actor: Actor, bob: Person, web_client: Browse
) -> None:
    account = make_account(session, name="株式会社スロット")
    other = make_account(session, name="別会社")
    stranger = make_contact(session, other, name="他社 花子")
    make_task(session, actor, title="お客様の宿題", owner_type="customer", account_id=account.id)
    make_task(session, actor, title="共同の宿題", owner_type="joint", account_id=account.id)
    make_task(session, actor, title="完了済み", account_id=account.id, status="done")
    client = web_client(bob)
    slot = client.get(f"/customers/{account.id}/tasks", headers={"HX-Request": "true"})
    assert slot.status_code == 200 and "<html" not in slot.text
    assert "お客様の宿題" in slot.text and "共同の宿題" in slot.text and "完了済み" not in slot.text
    assert (
        slot.text.index('id="tasks-customer"')
        < slot.text.index("お客様の宿題")
        < slot.text.index('id="tasks-us"')
    )
    page = client.get(f"/customers/{account.id}/tasks")
    assert "<html" in page.text
    token = form_token(page.text)
    added = client.post(
        f"/customers/{account.id}/tasks",
        headers={"HX-Request": "true"},
        data={"csrf_token": token, "title": "導入計画を送る", "owner_type": "us"},
    )
    assert added.status_code == 200 and "導入計画を送る" in added.text
    wrong = client.post(
        f"/customers/{account.id}/tasks",
        headers={"HX-Request": "true"},
        data={"csrf_token": token, "title": "x", "contact_id": str(stranger.id)},
    )
    assert wrong.status_code == 422 and "Choose a contact of this customer" in wrong.text
