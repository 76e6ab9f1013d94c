"""A meeting in a real browser: alice (a CSM) writes the agenda with a hypothesis and asks bob (a
manager) to review it; bob finds it among the reviews due to him, comments and approves; alice
notes the customer's view and the decision, turns a TODO into a task, finds the task on /tasks
and finds both by a two-character Japanese search."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_it_prepares_reviews_runs_and_finds_a_meeting(
    live_server: Any,
    signed_in_page: Callable[[str], Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    stamp = str(int(time.time()))[-5:]
    title = f"鴨鍋プロジェクト定例 {stamp}"
    todo = f"鴨鍋の導入資料を送付 {stamp}"
    alice = signed_in_page("csm")
    alice.goto(f"{live_server.url}/customers?sort=-mrr")
    alice.locator("table.customer-table td.col-name a").first.click()
    account_id = re.search(r"/customers/(\d+)", alice.url).group(1)  # type: ignore[union-attr]

    # Before the meeting: the agenda and our hypothesis.
    alice.goto(f"{live_server.url}/meetings/new?account_id={account_id}")
    alice.locator("#title").fill(title)
    alice.locator("#day").fill((date.today() + timedelta(days=3)).isoformat())
    alice.locator("input[name=at]").fill("14:00")
    alice.locator("#location").fill("先方本社 会議室A")
    alice.locator("#purpose").fill("契約更新に向けて、利用状況と課題を確認する")
    screenshot(alice, "meeting-new")
    alice.locator("form.stacked-form button[type=submit]").click()
    alice.wait_for_url(re.compile(r"/meetings/\d+$"))
    meeting_url = alice.url
    alice.locator("#new-topic").fill("管理画面の利用定着")
    alice.locator("#new-hypothesis").fill("担当者の異動で**設定が止まっている**と仮説を立てる")
    alice.locator("#new-item button[type=submit]").click()
    item = alice.locator("article[id^=item-]").first
    item.wait_for()
    assert "管理画面の利用定着" in item.inner_text()
    alice.locator("#reviewer").select_option(label="Manager テスト")
    alice.locator("#review-message").fill("仮説の筋が通っているか見てください")
    alice.locator("#review-due").fill((date.today() + timedelta(days=1)).isoformat())
    alice.locator("#review form[action$='/reviews'] button[type=submit]").click()
    alice.locator("#review .mt-pill-requested").first.wait_for()
    screenshot(alice, "meeting-agenda-review-requested")

    # bob reviews: the list of reviews due to him, a comment on the item, approval.
    bob = signed_in_page("manager")
    bob.goto(f"{live_server.url}/meetings/reviews")
    row = bob.locator("#due-to-me tr", has_text=title)
    assert row.locator(".mt-pill-requested").is_visible()
    screenshot(bob, "meeting-reviews-due")
    row.locator("a").first.click()
    bob.wait_for_url(re.compile(r"/meetings/\d+"))
    bob_item = bob.locator("article[id^=item-]").first
    bob_item.locator("details summary").click()
    bob_item.locator("textarea[name=body]").fill("数字(ログイン率)を添えると説得力が増します")
    bob_item.locator("details button[type=submit]").click()
    bob.locator("article[id^=item-] .mt-comments").first.wait_for()
    bob.locator("#decision-comment").fill("良いと思います")
    bob.locator("button[name=decision][value=approved]").click()
    bob.locator("#review .mt-pill-approved").first.wait_for()
    screenshot(bob, "meeting-reviewed")

    # During the meeting: the customer's view, the decision and a TODO, saved in place.
    alice.goto(meeting_url)
    assert alice.locator(".mt-head .mt-pill-approved").is_visible()
    item = alice.locator("article[id^=item-]").first
    item.locator("textarea[name=customer_view]").fill("異動は事実。新任者は操作に不慣れ")
    item.locator("textarea[name=decision]").fill("新任者向けに操作説明会を開く")
    item.locator("input[name=part][value=during] >> xpath=..").locator(
        "button[type=submit]"
    ).click()
    alice.locator("article[id^=item-] .mt-saved").wait_for()
    item = alice.locator("article[id^=item-]").first
    todo_form = item.locator("form[action$='/todos']")
    todo_form.locator("input[name=title]").fill(todo)
    todo_form.locator("select[name=owner_type]").select_option("joint")
    todo_form.locator("select[name=assignee_id]").select_option(label="Csm テスト")
    todo_form.locator("input[name=due_date]").fill((date.today() + timedelta(days=7)).isoformat())
    todo_form.locator("button[type=submit]").click()
    alice.locator("article[id^=item-] .mt-tasks a", has_text=todo).wait_for()
    saved = alice.locator("article[id^=item-]").first.locator("textarea[name=decision]")
    assert saved.input_value() == "新任者向けに操作説明会を開く"
    alice.wait_for_load_state("networkidle")
    screenshot(alice, "meeting-during")

    # The task is on alice's task list, and a two-character search finds meeting and task.
    alice.goto(f"{live_server.url}/tasks")
    alice.get_by_text(todo).first.wait_for()
    screenshot(alice, "meeting-task-in-tasks")
    alice.goto(f"{live_server.url}/search")
    alice.locator("#sr-q").fill("鴨鍋")
    alice.locator("#sr-q").press("Enter")
    alice.get_by_text(todo).first.wait_for()
    alice.get_by_text(title).first.wait_for()
    screenshot(alice, "meeting-search")

    alice.goto(f"{live_server.url}/customers/{account_id}/meetings")
    alice.get_by_text("新任者向けに操作説明会を開く").first.wait_for()
    screenshot(alice, "meeting-customer-document")
    assert alice.js_errors == [] and bob.js_errors == []
