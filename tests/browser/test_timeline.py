"""The customer timeline in a real browser: a CSM reads a demo customer's timeline, profile and
tasks on the customer page and filters the stream; writes a hearing whose Markdown carries a
mention and hostile HTML that must not run; fills the customer understanding profile; and two
users edit the same entry at once: a clean merge first, then a clash the second user settles."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

HOSTILE = (
    "<script>window.__pwned=1</script>\n\n"
    '<img src=x onerror="window.__pwned=1">\n\n'
    "[ここをクリック](javascript:window.__pwned=1)\n\n"
    '<iframe src="javascript:window.__pwned=1"></iframe>\n\n'
    "<svg onload=alert(1)>"
)
LINES = [
    "導入の背景を確認した",
    "現場の利用は週3回",
    "課題は承認フローの複雑さ",
    "次回は部長も同席",
    "資料を事前に送る",
]


def _stamp() -> str:
    return str(time.time_ns())[-7:]


def _open_customer(page: Any, live_server: Any) -> str:
    """The customer of the latest resolved trouble (a history with troubles and movements)."""
    page.goto(f"{live_server.url}/troubles?state=resolved")
    page.locator(".tl-table tbody td a[href^='/customers/']").first.click()
    page.wait_for_url(re.compile(r"/customers/\d+$"))
    return re.search(r"/customers/(\d+)", page.url).group(1)  # type: ignore[union-attr]


def _moments(slot: Any) -> list[datetime]:
    found = slot.locator(".tl-stream > li.tl-item > .tl-head time").evaluate_all(
        "els => els.map(e => e.getAttribute('datetime'))"
    )
    moments = [datetime.fromisoformat(s) for s in found]
    return [m if m.tzinfo else m.replace(tzinfo=UTC) for m in moments]


def _add_entry(slot: Any, title: str, body: str) -> tuple[str, str]:
    """Write a hearing through the slot's form; its URL and the contact snippet offered."""
    slot.locator("details.tl-new > summary").click()
    form = slot.locator("details.tl-new form")
    form.locator("select[name=kind]").select_option("hearing")
    form.locator("input[name=title]").fill(title)
    form.locator("details.tl-mentions > summary").click()
    snippet = form.locator("details.tl-mentions code", has_text="(contact:").first.inner_text()
    form.locator("textarea[name=body]").fill(body.replace("{mention}", snippet))
    form.locator("button[type=submit]").last.click()
    link = slot.locator("a.tl-title", has_text=title)
    link.wait_for()
    return str(link.get_attribute("href")), snippet


def _edit_form(page: Any, url: str) -> Any:
    page.goto(url)
    page.locator("article > details > summary").click()
    form = page.locator("article > details > form.tl-form")
    form.locator("textarea[name=body]").wait_for()
    return form


def test_it_shows_the_timeline_profile_and_tasks_on_the_customer_page(
    live_server: Any,
    signed_in_page: Callable[[str], Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = signed_in_page("csm")
    _open_customer(page, live_server)
    slot = page.locator("#slot-timeline")
    slot.locator(".tl-stream > li.tl-item").first.wait_for()
    page.locator("#slot-profile .pf-layer").first.wait_for()
    page.locator("#slot-tasks .tk-group").first.wait_for()

    everything = slot.locator(".tl-stream > li.tl-item")
    moments = _moments(slot)
    assert len(moments) == everything.count() > 5
    assert moments == sorted(moments, reverse=True), "newest first"
    assert slot.locator("li.tl-item-contract_movement").count() >= 1
    assert "契約" in slot.locator("li.tl-item-contract_movement .tl-kind").first.inner_text()
    kinds = set(everything.evaluate_all("els => els.map(e => e.className)"))
    assert len(kinds) > 1
    assert page.locator("#slot-profile h2").inner_text() == "顧客理解"
    assert page.locator("#slot-profile .pf-layer").count() == 4
    assert page.locator("#slot-tasks h2").inner_text() == "タスク"
    # The long texts take the wide column at 1280 px.
    assert slot.bounding_box()["width"] > 700
    assert page.locator("#slot-profile").bounding_box()["width"] > 700
    screenshot(page, "timeline-customer-page")
    slot.screenshot(path=str(SCREENSHOTS / "timeline-slot.png"))

    # Only the troubles.
    slot.locator(".tl-chips").get_by_role("link", name="トラブル", exact=True).click()
    slot.locator(".tl-chips a[aria-current=true]", has_text="トラブル").wait_for()
    troubles = slot.locator(".tl-stream > li.tl-item")
    assert troubles.count() >= 1
    assert troubles.count() == slot.locator("li.tl-item-trouble").count()
    assert slot.locator(".tl-stream .tl-pill").first.is_visible()  # severity, status
    trouble_moments = _moments(slot)
    assert trouble_moments == sorted(trouble_moments, reverse=True)
    slot.screenshot(path=str(SCREENSHOTS / "timeline-slot-troubles.png"))

    # Only the contract movements, then everything again.
    slot.locator(".tl-chips a[href$='kind=contract_movement']").click()
    slot.locator(".tl-chips a[aria-current=true][href$='kind=contract_movement']").wait_for()
    movements = slot.locator(".tl-stream > li.tl-item")
    assert movements.count() == slot.locator("li.tl-item-contract_movement").count() >= 1
    assert "¥" in slot.locator(".tl-stream").inner_text()
    slot.locator(".tl-chips").get_by_role("link", name="すべて", exact=True).click()
    slot.locator(".tl-chips li:first-child a[aria-current=true]").wait_for()
    assert page.js_errors == []


def test_it_renders_a_hearing_with_a_mention_and_runs_nothing_hostile(
    live_server: Any,
    signed_in_page: Callable[[str], Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = signed_in_page("csm")
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    _open_customer(page, live_server)
    slot = page.locator("#slot-timeline")
    slot.locator(".tl-stream").wait_for()
    title = f"ヒアリング: 承認フローの見直し {_stamp()}"
    body = (
        "{mention} さんから **承認フローが重い** と伺った。\n\n"
        "- 申請が3段階ある\n- 月末に集中する\n\n" + HOSTILE
    )
    url, snippet = _add_entry(slot, title, body)
    contact_name, contact_id = re.fullmatch(r"@\[(.+)\]\(contact:(\d+)\)", snippet).groups()  # type: ignore[union-attr]

    def check_rendered(container: Any) -> None:
        assert container.locator("strong", has_text="承認フローが重い").count() == 1
        assert container.locator("ul > li").count() == 2
        assert container.locator("li", has_text="月末に集中する").count() == 1
        mention = container.locator(f"span.mention[data-mention='contact:{contact_id}']")
        assert mention.inner_text() == f"@{contact_name}"
        assert container.locator("script, iframe, img, svg, [onerror], [onload]").count() == 0
        assert container.locator("a[href^='javascript']").count() == 0
        # The hostile parts are shown as the text they are.
        assert "<script>" in container.inner_text()

    item = slot.locator("li.tl-item", has=page.locator(f"a.tl-title[href='{url}']"))
    assert "ヒアリング" in item.locator(".tl-kind").inner_text()
    check_rendered(item.locator(".tl-body"))
    assert page.evaluate("typeof window.__pwned") == "undefined"

    page.goto(f"{live_server.url}{url}")
    article = page.locator("article")
    article.locator("h1", has_text=title).wait_for()
    rendered = page.locator("article > .tl-body").first
    check_rendered(rendered)
    mentioned = article.locator("h2", has_text="メンション").locator(
        "xpath=following-sibling::ul[1]"
    )
    assert contact_name in mentioned.inner_text()
    screenshot(page, "timeline-entry-hostile")
    before = page.url
    rendered.get_by_text("ここをクリック").click()
    page.wait_for_load_state("networkidle")
    assert page.url == before
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert dialogs == []
    assert page.js_errors == []


def test_it_keeps_the_customer_understanding(
    live_server: Any,
    signed_in_page: Callable[[str], Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = signed_in_page("csm")
    _open_customer(page, live_server)
    slot = page.locator("#slot-profile")
    slot.locator(".pf-layer").first.wait_for()
    stamp = _stamp()
    industry = f"製造業は設備投資の稟議が長く、年度末に予算が締まる {stamp}"
    goals = f"受注から出荷までの日数を3割短くしたい {stamp}"
    editor = slot.locator("details", has=page.locator("form.pf-form[action$='/profile']"))
    if editor.get_attribute("open") is None:
        editor.locator("> summary").click()
    form = editor.locator("form.pf-form")
    form.locator("textarea[name=industry_context]").fill(industry)
    form.locator("textarea[name=business_goals]").fill(goals)
    form.locator("button[type=submit]").click()
    slot.locator(".pf-text", has_text=goals).wait_for()

    page.reload()
    slot.locator(".pf-layer").first.wait_for()
    layer = slot.locator("section.pf-layer")
    layer.filter(has=page.locator("h3[id^=pf-industry]")).locator(
        ".pf-text", has_text=industry
    ).wait_for()
    layer.filter(has=page.locator("h3[id^=pf-business]")).locator(
        ".pf-text", has_text=goals
    ).wait_for()
    slot.scroll_into_view_if_needed()
    slot.screenshot(path=str(SCREENSHOTS / "timeline-profile-slot.png"))
    assert page.js_errors == []


def test_it_merges_concurrent_edits_of_an_entry(
    live_server: Any,
    signed_in_page: Callable[[str], Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    alice = signed_in_page("csm")
    _open_customer(alice, live_server)
    slot = alice.locator("#slot-timeline")
    slot.locator(".tl-stream").wait_for()
    title = f"定例前の電話メモ {_stamp()}"
    path, _ = _add_entry(slot, title, "\n".join(LINES))
    url = f"{live_server.url}{path}"
    bob = signed_in_page("manager")

    # A clean merge: alice changes the first line, bob the last.
    alice_form, bob_form = _edit_form(alice, url), _edit_form(bob, url)
    first, last = "導入の背景を部長にも確認した", "資料を3日前までに送る"
    alice_form.locator("textarea[name=body]").fill("\n".join([first, *LINES[1:]]))
    bob_form.locator("textarea[name=body]").fill("\n".join([*LINES[:-1], last]))
    alice_form.locator("> button[type=submit]").click()
    alice.locator("article > .tl-body", has_text=first).wait_for()
    bob_form.locator("> button[type=submit]").click()
    panel = bob.locator(".doc-conflict")
    panel.wait_for()
    assert "他のユーザーがこの内容を保存しました" in panel.inner_text()
    assert "自動で統合済み" in panel.inner_text()
    merged = panel.locator("textarea[data-merge-field=body]").input_value()
    assert first in merged and last in merged and "<<<<<<<" not in merged
    screenshot(bob, "timeline-merge-clean")
    bob_form.locator("> button[type=submit]").click()
    body = bob.locator("article > .tl-body").first
    body.filter(has_text=last).wait_for()
    assert bob.locator(".doc-conflict").count() == 0
    assert first in body.inner_text() and LINES[2] in body.inner_text()
    history = bob.locator(".doc-history li")
    assert history.count() >= 3
    assert "バージョン 3" in history.first.inner_text()

    # A clash: both change the third line; bob sees both sides marked and settles it.
    alice_form, bob_form = _edit_form(alice, url), _edit_form(bob, url)
    current = bob_form.locator("textarea[name=body]").input_value().splitlines()
    assert current == [first, *LINES[1:-1], last]
    theirs, mine = "課題は承認フロー(3段階)の複雑さ", "課題は承認フローと権限設定の複雑さ"
    alice_form.locator("textarea[name=body]").fill("\n".join([*current[:2], theirs, *current[3:]]))
    bob_form.locator("textarea[name=body]").fill("\n".join([*current[:2], mine, *current[3:]]))
    alice_form.locator("> button[type=submit]").click()
    alice.locator("article > .tl-body", has_text=theirs).wait_for()
    bob_form.locator("> button[type=submit]").click()
    panel = bob.locator(".doc-conflict")
    panel.wait_for()
    assert "要確認" in panel.inner_text()
    box = panel.locator("textarea[data-merge-field=body]")
    merged = box.input_value()
    assert "<<<<<<<" in merged and "=======" in merged and ">>>>>>>" in merged
    assert merged.index(theirs) < merged.index(mine)
    assert first in merged and last in merged
    screenshot(bob, "timeline-merge-clash")
    settled = "課題は承認フロー(3段階)と権限設定の複雑さ"
    box.fill("\n".join([*current[:2], settled, *current[3:]]))
    bob_form.locator("> button[type=submit]").click()
    body = bob.locator("article > .tl-body").first
    body.filter(has_text=settled).wait_for()
    text = body.inner_text()
    assert first in text and last in text and "<<<<<<<" not in text and mine not in text
    versions = bob.locator(".doc-history li").all_inner_texts()
    assert [v.split(" · ")[0] for v in versions] == [f"バージョン {n}" for n in (5, 4, 3, 2, 1)]
    assert "Manager テスト" in versions[0] and "Csm テスト" in versions[1]
    assert "本文（Markdown）" in versions[0]
    screenshot(bob, "timeline-entry-merged")
    assert alice.js_errors == [] and bob.js_errors == []
