from __future__ import annotations

from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.tasks.service import get_task
from tests.conftest import Person
from tests.factories import make_account
from tests.tasks.factories import make_meeting, make_task
from tests.web.conftest import Browse, form_token


def test_the_edit_form_merges_a_concurrent_change(
    session: Session, actor: Actor, bob: Person, web_client: Browse
) -> None:
    task = make_task(session, actor, title="準備", description="一行目\n二行目\n")
    client = web_client(bob)
    token = form_token(client.get(f"/tasks/{task.id}").text)
    form = {
        "csrf_token": token,
        "version": "1",
        "title": "準備",
        "owner_type": "us",
        "status": "open",
    }
    first = client.post(
        f"/tasks/{task.id}",
        data={**form, "description": "一行目(改)\n二行目\n"},
        follow_redirects=False,
    )
    assert first.status_code == 303
    second = client.post(
        f"/tasks/{task.id}", data={**form, "description": "一行目\n二行目(追記)\n"}
    )
    assert second.status_code == 409
    assert "Someone else saved this after you opened it." in second.text
    assert "一行目(改)\n二行目(追記)" in second.text
    assert 'name="version" value="2"' in second.text
    session.expire_all()
    assert get_task(session, task.id).description == "一行目(改)\n二行目\n"


def test_the_detail_links_the_account_and_meeting_and_deletes_after_confirming(
    session: Session, actor: Actor, bob: Person, web_client: Browse
) -> None:
    account = make_account(session, name="株式会社リンク")
    meeting = make_meeting(session, account, title="キックオフ")
    task = make_task(session, actor, meeting_id=meeting.id, source="meeting")
    client = web_client(bob)
    page = client.get(f"/tasks/{task.id}")
    assert f'href="/meetings/{meeting.id}"' in page.text and "キックオフ" in page.text
    assert f'href="/customers/{account.id}"' in page.text
    token = form_token(page.text)
    refused = client.post(f"/tasks/{task.id}/delete", data={"csrf_token": token})
    assert refused.status_code == 409 and "Tick the box" in refused.text
    done = client.post(
        f"/tasks/{task.id}/delete",
        data={"csrf_token": token, "confirm": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert client.get(f"/tasks/{task.id}").status_code == 404
