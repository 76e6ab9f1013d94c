"""Document search in Japanese: two-character and longer queries, kana and width folding."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from banso.search.documents import put_many, search
from tests.search._docs import doc, refs


@pytest.fixture
def documents(session: Session) -> None:
    put_many(
        session,
        [
            doc(1, "解約ヒアリング", "価格が高いという理由で**解約**を検討しているとのこと。"),
            doc(2, "定例ミーティング", "オンボーディングの進捗を確認した。"),
            doc(3, "トラブル対応", "ﾛｸﾞｲﾝできない問題。カイヤクの話は出なかった。"),
            doc(4, "電話", "かいやく の相談あり"),
            doc(5, "契約更新", "ＣＳＶの取込でエラー"),
        ],
    )


def test_it_finds_a_two_character_japanese_query(session: Session, documents: None) -> None:
    assert refs(session, "解約") == {1}
    assert refs(session, "進捗") == {2}


def test_it_finds_longer_japanese_queries_as_phrases(session: Session, documents: None) -> None:
    assert refs(session, "解約を検討") == {1}
    assert refs(session, "価格が高い") == {1}
    assert refs(session, "解約検討") == set()  # the characters must be next to each other


def test_it_folds_katakana_hiragana_and_width(session: Session, documents: None) -> None:
    assert refs(session, "かいやく") == {3, 4}
    assert refs(session, "カイヤク") == {3, 4}
    assert refs(session, "ｶｲﾔｸ") == {3, 4}
    assert refs(session, "ログイン") == {3}
    assert refs(session, "csv") == {5}
    assert refs(session, "ＣＳＶ") == {5}


def test_it_treats_a_one_character_word_as_a_prefix(session: Session, documents: None) -> None:
    assert refs(session, "約") == {1, 5}  # 解約 and 契約
    assert refs(session, "討") == {1}  # 検討, at the end of a pair
    assert refs(session, "新") == {5}  # 更新, the last character of a title


def test_it_finds_nothing_for_an_absent_word(session: Session, documents: None) -> None:
    assert refs(session, "請求書") == set()
    assert search(session, "   ").hits == []
