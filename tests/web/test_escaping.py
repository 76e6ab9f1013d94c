"""Hostile text in every text field is shown as text on every page, never run as markup."""

from __future__ import annotations

import html
import re

from sqlalchemy.orm import Session

from banso.accounts.customfields import CustomFieldIn, create_definition
from banso.deals.schemas import DealIn
from banso.deals.service import create_deal
from banso.segments.models import Segment
from tests.conftest import Person
from tests.factories import SYSTEM, make_account, make_contact, make_contract
from tests.web.conftest import SignIn

SCRIPT = "<script>alert(1)</script>"
SQL = "'; DROP TABLE accounts;--"
IMG = '"><img src=x onerror=alert(2)>'
HOSTILE = f"{SCRIPT}{SQL}{IMG}"


def assert_shown_as_text(page_html: str, where: str) -> None:
    # banso's own script tags load files; no other script and no injected attribute exists.
    scripts = re.findall(r"<script\b[^>]*>", page_html)
    assert all(' src="/static/' in tag for tag in scripts), (where, scripts)
    assert "<img src=x" not in page_html, where
    assert "alert(1)</script>" not in page_html, where
    assert html.escape(SCRIPT, quote=False) in page_html, where


def test_it_shows_hostile_text_as_text_on_every_page(
    signed_in: SignIn, bob: Person, session: Session
) -> None:
    create_definition(
        session,
        SYSTEM,
        CustomFieldIn(key="memo", type="text", label_ja=HOSTILE[:100], label_en=HOSTILE[:100]),
    )
    account = make_account(
        session,
        name=HOSTILE,
        name_kana=HOSTILE[:100],
        industry=HOSTILE[:100],
        segment=HOSTILE[:100],
        source=HOSTILE[:100],
        tags=[HOSTILE[:100]],
        custom={"memo": HOSTILE},
    )
    twin = make_account(session, name=HOSTILE)  # a duplicate candidate of the first
    make_contact(session, account, name=HOSTILE, title=HOSTILE, phone="03-0000-0000")
    make_contract(session, account, plan=HOSTILE[:100])
    create_deal(session, SYSTEM, DealIn(title=HOSTILE, account_id=account.id, story=HOSTILE))
    session.add(Segment(name=HOSTILE[:100], view={"q": HOSTILE}, created_by_id=bob.user.id))
    bob.user.name = HOSTILE
    session.flush()

    client = signed_in(bob)
    cols = "name,name_kana,stage,owner,segment,industry,company_size,source,mrr,tags,custom.memo"
    pages = {
        "list": client.get("/customers", params={"cols": cols}),
        "search": client.get("/customers", params={"q": HOSTILE, "cols": cols}),
        "chart": client.get("/customers/chart", params={"by": "segment"}),
        "customer": client.get(f"/customers/{account.id}"),
        "duplicates": client.get("/duplicates"),
        "merge preview": client.get(f"/duplicates/accounts/{twin.id}/{account.id}"),
        "segments": client.get("/segments"),
    }
    for where, page in pages.items():
        assert page.status_code == 200, (where, page.status_code)
        assert_shown_as_text(page.text, where)
