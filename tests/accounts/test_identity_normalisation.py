from __future__ import annotations

import pytest

from banso.accounts.identity import email_domain, normalize_company_name, normalize_domain

SAME_COMPANY = [
    "株式会社ＡＢＣ",
    "(株)ABC",
    "（株）ＡＢＣ",
    "㈱ａｂｃ",
    "ABC株式会社",
    "ABC Co., Ltd.",
    "abc inc.",
    "株式会社　Ａ Ｂ Ｃ",
    "ABC Corporation",
]


@pytest.mark.parametrize("variant", SAME_COMPANY)
def test_legal_forms_width_spaces_and_case_coincide(variant: str) -> None:
    assert normalize_company_name(variant) == normalize_company_name("ABC")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ｴｰﾋﾞｰｼｰ", "エービーシー"),
        ("さくらフーズ", "サクラフーズ"),
        ("有限会社みどり商店", "ミドリ商店"),
        ("医療法人社団 青葉クリニック", "青葉クリニック"),
        ("合同会社ひかり・システムズ", "ひかりシステムズ"),
        ("株式会社 髙橋工業", "髙橋工業㈱"),
    ],
)
def test_kana_variants_coincide(a: str, b: str) -> None:
    assert normalize_company_name(a) == normalize_company_name(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("さくらフーズ", "さくらダイニング"),
        ("ABC", "ABD"),
        ("東京システムズ", "京都システムズ"),
        ("高橋工業", "髙橋工業"),  # different characters in a registered name stay different
    ],
)
def test_different_companies_stay_apart(a: str, b: str) -> None:
    assert normalize_company_name(a) != normalize_company_name(b)


def test_a_name_made_only_of_a_legal_form_keeps_a_key() -> None:
    assert normalize_company_name("株式会社") != ""


def test_free_mail_has_no_company_domain() -> None:
    assert email_domain("taro@gmail.com") is None
    assert email_domain("hanako@docomo.ne.jp") is None
    assert email_domain("Taro.Yamada@Sakura-Foods.co.jp") == "sakura-foods.co.jp"


def test_domains_are_cleaned_or_refused() -> None:
    assert normalize_domain("https://www.Example.co.jp/about?x=1") == "example.co.jp"
    assert normalize_domain("ＥＸＡＭＰＬＥ．ＣＯＭ") == "example.com"
    with pytest.raises(ValueError, match="not a domain"):
        normalize_domain("not a domain")
