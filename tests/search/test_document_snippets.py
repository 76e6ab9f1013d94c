"""Snippets and titles: escaped original text, with only the matches in <mark>."""

from __future__ import annotations

from sqlalchemy.orm import Session

from banso.search.documents import put_many, search
from banso.search.snippets import highlight, snippet
from tests.search._docs import doc


def test_it_escapes_hostile_text_and_marks_only_the_match(session: Session) -> None:
    body = '<script>alert("解約")</script> <img src=x onerror=alert(1)> 解約の話'
    put_many(session, [doc(1, "<b>解約</b>", body)])
    (hit,) = search(session, "解約").hits
    assert "<script>" not in hit.snippet and "<img" not in hit.snippet
    assert "&lt;script&gt;alert(&#34;<mark>解約</mark>&#34;)&lt;/script&gt;" in hit.snippet
    assert "<mark>解約</mark>の話" in hit.snippet
    assert str(hit.title) == "&lt;b&gt;<mark>解約</mark>&lt;/b&gt;"


def test_it_marks_the_text_as_written_when_folded_forms_match() -> None:
    assert (
        str(highlight("ｶｲﾔｸとカイヤク", ["かいやく"])) == "<mark>ｶｲﾔｸ</mark>と<mark>カイヤク</mark>"
    )
    assert str(highlight("ｶﾞｲﾄﾞを読む", ["がいど"])) == "<mark>ｶﾞｲﾄﾞ</mark>を読む"
    assert str(highlight("ＣＳＶ取込", ["csv"])) == "<mark>ＣＳＶ</mark>取込"
    assert str(highlight("Customer Success", ["customersuccess"])) == (
        "<mark>Customer Success</mark>"
    )


def test_it_shows_the_text_around_the_first_match() -> None:
    text = "前置き。" * 100 + "ここで解約の話が出た。" + "後書き。" * 100
    cut = str(snippet(text, ["解約"]))
    assert cut.startswith("…") and cut.endswith("…")
    assert "<mark>解約</mark>" in cut
    assert 150 <= len(cut.replace("<mark>", "").replace("</mark>", "")) <= 170


def test_it_finds_a_match_far_into_a_long_text() -> None:
    text = "あ" * 20_000 + "解約"
    assert str(snippet(text, ["解約"])).endswith("<mark>解約</mark>")


def test_it_shows_the_start_when_only_the_title_matched() -> None:
    assert str(snippet("本文です。<b>", ["解約"])) == "本文です。&lt;b&gt;"
