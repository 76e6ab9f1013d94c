"""Pipeline stages and lost/archive reasons in the web interface."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.deals.models import LostReason, PipelineStage
from banso.deals.service import list_reasons, list_stages
from tests.conftest import Person
from tests.deals.factories import make_deal
from tests.web.admin_forms import post_form
from tests.web.conftest import SignIn

PAGE = "/admin/taxonomies"


def _hidden(html: str, action: str, name: str) -> str:
    """The value of a hidden field in the form posting to ``action``."""
    form = html.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    return form.split(f'name="{name}" value="', 1)[1].split('"', 1)[0]


def _stage_keys(session: Session) -> list[str]:
    return [s["key"] for s in list_stages(session)]


def test_it_lists_stages_and_reasons_with_their_deals(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    make_deal(session, stage_key="proposal")
    make_deal(session, stage_key="lost", lost_reason_key="price")
    page = signed_in(alice).get(PAGE).text
    for text in ["inquiry", "提案", "Won", "price", "価格が合わない", "Chose a competitor"]:
        assert text in page, text


def test_it_adds_a_stage_at_the_end(signed_in: SignIn, session: Session, alice: Person) -> None:
    admin = signed_in(alice)
    data = {"key": "trial", "label_ja": "トライアル", "label_en": "Trial", "choice": "open"}
    answer = post_form(admin, f"{PAGE}/stages", PAGE, data)
    assert answer.status_code == 303, answer.text[:300]
    assert _stage_keys(session)[-1] == "trial"
    assert "Stage “trial” added." in admin.get(PAGE).text
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "pipeline_stage")).one()
    assert entry.after is not None and entry.after["key"] == "trial"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"key": "Trial Stage"}, "key", "Use lower-case letters, digits and _"),
        ({"key": "proposal"}, "key", "A stage with this key already exists."),
        ({"key": ""}, "key", "Use lower-case letters, digits and _"),
        ({"label_ja": ""}, "label_ja", "Enter a label of 1 to 100 characters."),
        ({"label_en": "x" * 101}, "label_en", "Enter a label of 1 to 100 characters."),
        ({"choice": "maybe"}, "choice", "Choose an outcome."),
    ],
)
def test_it_refuses_a_bad_stage_and_stores_nothing(
    signed_in: SignIn,
    session: Session,
    alice: Person,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    before = _stage_keys(session)
    data = {
        "key": "trial",
        "label_ja": "トライアル",
        "label_en": "Trial",
        "choice": "open",
        **fields,
    }
    answer = post_form(signed_in(alice), f"{PAGE}/stages", PAGE, data)
    assert answer.status_code == 422
    assert message in answer.text
    assert f'id="stage-error-{field}"' in answer.text
    assert _stage_keys(session) == before


def test_it_edits_a_stage(signed_in: SignIn, session: Session, alice: Person) -> None:
    admin = signed_in(alice)
    url = f"{PAGE}/stages/proposal"
    page = admin.get(url).text
    data = {
        "label_ja": "ご提案",
        "label_en": "Proposal sent",
        "choice": "open",
        "stamp": _hidden(page, url, "stamp"),
    }
    answer = post_form(admin, url, url, data)
    assert answer.status_code == 303, answer.text[:300]
    stage = session.get(PipelineStage, "proposal")
    assert stage is not None and (stage.label_ja, stage.label_en) == ("ご提案", "Proposal sent")


def test_it_says_when_someone_else_changed_the_stage_first(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    admin = signed_in(alice)
    url = f"{PAGE}/stages/proposal"
    stamp = _hidden(admin.get(url).text, url, "stamp")
    stage = session.get(PipelineStage, "proposal")
    assert stage is not None
    stage.label_en = "Theirs"
    session.flush()
    data = {"label_ja": "提案", "label_en": "Mine", "choice": "open", "stamp": stamp}
    answer = post_form(admin, url, url, data)
    assert answer.status_code == 409
    assert "Someone else changed this stage while you were editing." in answer.text
    assert "Theirs" in answer.text and 'value="Mine"' in answer.text
    session.refresh(stage)
    assert stage.label_en == "Theirs"
    # Saving again (with the new stamp the page carries) replaces theirs.
    again = {**data, "stamp": _hidden(answer.text, url, "stamp")}
    assert post_form(admin, url, url, again).status_code == 303
    session.refresh(stage)
    assert stage.label_en == "Mine"


def test_it_refuses_an_outcome_change_while_deals_are_in_the_stage(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    make_deal(session, stage_key="proposal")
    admin = signed_in(alice)
    url = f"{PAGE}/stages/proposal"
    data = {
        "label_ja": "提案",
        "label_en": "Proposal",
        "choice": "won",
        "stamp": _hidden(admin.get(url).text, url, "stamp"),
    }
    answer = post_form(admin, url, url, data)
    assert answer.status_code == 422
    assert "Deals are in this stage; move them to another stage" in answer.text
    stage = session.get(PipelineStage, "proposal")
    assert stage is not None and stage.outcome == "open"


def test_it_refuses_a_bad_stage_edit(signed_in: SignIn, session: Session, alice: Person) -> None:
    admin = signed_in(alice)
    url = f"{PAGE}/stages/proposal"
    stamp = _hidden(admin.get(url).text, url, "stamp")
    answer = post_form(
        admin, url, url, {"label_ja": "", "label_en": "P", "choice": "open", "stamp": stamp}
    )
    assert answer.status_code == 422
    assert "Enter a label of 1 to 100 characters." in answer.text
    won = f"{PAGE}/stages/won"
    stamp = _hidden(admin.get(won).text, won, "stamp")
    answer = post_form(
        admin, won, won, {"label_ja": "受注", "label_en": "Won", "choice": "open", "stamp": stamp}
    )
    assert answer.status_code == 422
    assert "This is the only won stage" in answer.text


def test_it_moves_stages_up_and_down(signed_in: SignIn, session: Session, alice: Person) -> None:
    admin = signed_in(alice)
    before = _stage_keys(session)
    action = f"{PAGE}/stages/{before[1]}/move"
    order = _hidden(admin.get(PAGE).text, action, "order")
    answer = post_form(admin, action, PAGE, {"direction": "up", "order": order})
    assert answer.status_code == 303
    after = _stage_keys(session)
    assert after[:2] == [before[1], before[0]] and after[2:] == before[2:]
    # A page showing the old order no longer moves anything.
    stale = post_form(admin, action, PAGE, {"direction": "down", "order": order})
    assert stale.status_code == 303
    assert _stage_keys(session) == after
    assert "The pipeline was changed by someone else" in admin.get(stale.headers["location"]).text
    bad = post_form(admin, action, PAGE, {"direction": "sideways", "order": order})
    assert bad.status_code == 422
    assert _stage_keys(session) == after


def test_it_deletes_an_unused_stage_after_confirmation(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    admin = signed_in(alice)
    url = f"{PAGE}/stages/negotiation/delete"
    assert "No deal uses it." in admin.get(url).text
    unconfirmed = post_form(admin, url, url, {})
    assert unconfirmed.status_code == 409
    assert session.get(PipelineStage, "negotiation") is not None
    assert post_form(admin, url, url, {"confirm": "yes"}).status_code == 303
    assert "negotiation" not in _stage_keys(session)


def test_it_refuses_to_delete_a_stage_in_use_or_the_only_won_stage(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    make_deal(session, stage_key="proposal")
    admin = signed_in(alice)
    url = f"{PAGE}/stages/proposal/delete"
    page = admin.get(url).text
    assert "1 deal is in this stage. Move it to another stage" in page
    assert 'name="confirm"' not in page
    refused = post_form(admin, url, url, {"confirm": "yes"})
    assert refused.status_code == 409
    assert session.get(PipelineStage, "proposal") is not None
    won = f"{PAGE}/stages/won/delete"
    assert "This is the only won stage" in admin.get(won).text
    assert post_form(admin, won, won, {"confirm": "yes"}).status_code == 409
    assert session.get(PipelineStage, "won") is not None


def test_it_adds_edits_retires_and_deletes_a_reason(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    admin = signed_in(alice)
    data = {"key": "merger", "label_ja": "合併", "label_en": "Merger", "choice": "archived"}
    assert post_form(admin, f"{PAGE}/reasons", PAGE, data).status_code == 303
    assert [r["key"] for r in list_reasons(session)][-1] == "merger"
    url = f"{PAGE}/reasons/merger"
    stamp = _hidden(admin.get(url).text, url, "stamp")
    edit = {"label_ja": "企業合併", "label_en": "Merged away", "choice": "archived", "stamp": stamp}
    assert post_form(admin, url, url, edit).status_code == 303
    reason = session.get(LostReason, "merger")
    assert reason is not None and reason.label_ja == "企業合併"
    action = f"{url}/active"
    stamp = _hidden(admin.get(PAGE).text, action, "stamp")
    retired = post_form(admin, action, PAGE, {"active": "0", "stamp": stamp})
    assert retired.status_code == 303
    session.refresh(reason)
    assert reason.is_active is False
    assert "Reason “merger” retired." in admin.get(retired.headers["location"]).text
    stamp = _hidden(admin.get(PAGE).text, action, "stamp")
    assert post_form(admin, action, PAGE, {"active": "1", "stamp": stamp}).status_code == 303
    session.refresh(reason)
    assert reason.is_active is True
    delete = f"{url}/delete"
    assert post_form(admin, delete, delete, {"confirm": "yes"}).status_code == 303
    assert session.get(LostReason, "merger") is None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"key": "price"}, "key", "A reason with this key already exists."),
        ({"key": "9lives"}, "key", "Use lower-case letters, digits and _"),
        ({"choice": "open"}, "choice", "Choose a kind."),
        ({"label_en": ""}, "label_en", "Enter a label of 1 to 100 characters."),
    ],
)
def test_it_refuses_a_bad_reason_and_stores_nothing(
    signed_in: SignIn,
    session: Session,
    alice: Person,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    before = list_reasons(session)
    data = {"key": "merger", "label_ja": "合併", "label_en": "Merger", "choice": "lost", **fields}
    answer = post_form(signed_in(alice), f"{PAGE}/reasons", PAGE, data)
    assert answer.status_code == 422
    assert message in answer.text
    assert f'id="reason-error-{field}"' in answer.text
    assert list_reasons(session) == before


def test_it_keeps_a_reason_deals_give(signed_in: SignIn, session: Session, alice: Person) -> None:
    make_deal(session, stage_key="lost", lost_reason_key="price")
    admin = signed_in(alice)
    url = f"{PAGE}/reasons/price"
    stamp = _hidden(admin.get(url).text, url, "stamp")
    answer = post_form(
        admin,
        url,
        url,
        {"label_ja": "価格", "label_en": "Price", "choice": "archived", "stamp": stamp},
    )
    assert answer.status_code == 422
    assert "Deals give this reason, so its kind cannot change" in answer.text
    page = admin.get(f"{url}/delete").text
    assert "1 deal gives this reason, so it cannot be deleted. Retire it instead" in page
    assert post_form(admin, f"{url}/delete", url, {"confirm": "yes"}).status_code == 409
    reason = session.get(LostReason, "price")
    assert reason is not None and reason.kind == "lost"


def test_it_refuses_a_stale_retirement(signed_in: SignIn, session: Session, alice: Person) -> None:
    admin = signed_in(alice)
    action = f"{PAGE}/reasons/price/active"
    answer = post_form(admin, action, PAGE, {"active": "0", "stamp": "stale"})
    assert answer.status_code == 303
    assert "changed by someone else" in admin.get(answer.headers["location"]).text
    reason = session.get(LostReason, "price")
    assert reason is not None and reason.is_active is True
    bad = post_form(admin, action, PAGE, {"active": "maybe", "stamp": "x"})
    assert bad.status_code == 422


def test_it_shows_hostile_labels_escaped(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    admin = signed_in(alice)
    hostile = "<script>alert(1)</script>"
    data = {"key": "hostile", "label_ja": hostile, "label_en": hostile, "choice": "open"}
    assert post_form(admin, f"{PAGE}/stages", PAGE, data).status_code == 303
    for url in [PAGE, f"{PAGE}/stages/hostile", f"{PAGE}/stages/hostile/delete", "/admin/audit"]:
        page = admin.get(url).text
        assert hostile not in page, url
        assert "&lt;script&gt;" in page, url


def test_it_answers_404_for_an_unknown_stage_or_reason(signed_in: SignIn, alice: Person) -> None:
    admin = signed_in(alice)
    assert admin.get(f"{PAGE}/stages/nothing").status_code == 404
    assert admin.get(f"{PAGE}/reasons/nothing").status_code == 404
    assert admin.get(f"{PAGE}/stages/{'x' * 100}").status_code == 404
