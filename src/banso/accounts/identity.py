"""Normalisation used for identity resolution (名寄せ): company names, e-mails and domains.

A normalised company name is a key under which the spellings one company gets in different
systems coincide: legal forms in any position and notation (株式会社, (株), ㈱, ｶ), "Co., Ltd."),
full and half width, upper and lower case, katakana and hiragana, spaces and punctuation.
Anything that can tell two companies apart (a different word, a voiced mark, a long vowel
after kana, a variant kanji in a registered name) is kept.
"""

from __future__ import annotations

import re
import unicodedata

# Japanese legal forms, compared after NFKC, casefolding and katakana → hiragana
# (NFKC turns ㈱ into (株) and ㍿ into 株式会社; the readings cover names typed in kana).
_LEGAL_FORMS = (
    "特定非営利活動法人",
    "一般社団法人",
    "一般財団法人",
    "公益社団法人",
    "公益財団法人",
    "医療法人社団",
    "医療法人財団",
    "社会福祉法人",
    "独立行政法人",
    "株式会社",
    "株式會社",
    "有限会社",
    "有限會社",
    "合同会社",
    "合資会社",
    "合名会社",
    "社団法人",
    "財団法人",
    "医療法人",
    "学校法人",
    "宗教法人",
    "npo法人",
    "(株)",
    "(有)",
    "(同)",
    "(資)",
    "(名)",
    "(社)",
    "(財)",
    "(医)",
    "(学)",
    "(福)",
    "(独)",
    "かぶしきがいしゃ",
    "かぶしきかいしゃ",
    "ゆうげんがいしゃ",
    "ゆうげんかいしゃ",
    "ごうどうがいしゃ",
    "ごうどうかいしゃ",
    "ごうしがいしゃ",
    "ごうめいがいしゃ",
)
# English legal forms, only at the end of the name ("ABC Co., Ltd.", "ABC K.K.").
_LATIN_FORM = (
    r"co\.?\s*,?\s*ltd\.?|company\s*,?\s*limited|kabushiki[\s-]*kaisha|corporation|corp\.?|"
    r"incorporated|inc\.?|limited|ltd\.?|l\.?l\.?c\.?|k\.\s*k\.?|kk|g\.\s*k\.?|gmbh|plc|"
    r"pte\.?\s*ltd\.?|co\.?"
)
_LATIN_FORM_AT_END = re.compile(rf"\b(?:{_LATIN_FORM})$")
_LATIN_FORM_REACH = 40  # longer than any form: only the end of a name is searched
# Bank-transfer (全銀) abbreviations of legal forms in kana readings: ｶ)ABC, ABC(ｶ, ﾕ)..., ﾄﾞ)...
_TRANSFER_FORMS = re.compile(r"^\(?(?:か|ゆ|ど|めい|し|ざい|い|がく|ふく)\)|\((?:か|ゆ|ど)\)?$")
# A long-vowel mark after kana is part of the word (ビール is not ビル); anywhere else it is
# a dash typed with the Japanese keyboard (ABCーDEF) and goes with the other punctuation.
_STRAY_LONG_VOWEL = re.compile(r"(?<![\u3041-\u309f\u30fc])\u30fc")
_PUNCTUATION = re.compile(
    r"[\s\-‐‑‒–—―−~〜～・･.,、。'\"`’‘“”()\[\]{}「」『』【】〈〉《》/\\&+!?:;*#@_|=]+"
)
_TRAILING = " \t\n\r\u3000,.、。"
_KATAKANA_START, _KATAKANA_END = 0x30A1, 0x30F6


_TO_HIRAGANA = {code: code - 0x60 for code in range(_KATAKANA_START, _KATAKANA_END + 1)}
# One pass over the text for all forms, longest first (医療法人社団 before 医療法人).
_LEGAL_FORMS_RE = re.compile("|".join(re.escape(f) for f in sorted(_LEGAL_FORMS, key=len)[::-1]))


def katakana_to_hiragana(text: str) -> str:
    return text.translate(_TO_HIRAGANA)


def _fold(text: str) -> str:
    """Width, case and kana folded: the form every comparison starts from."""
    return katakana_to_hiragana(unicodedata.normalize("NFKC", text).casefold())


def _strip_latin_forms(text: str) -> str:
    """Drop English legal forms from the end, one at a time ("ABC Japan Co., Ltd.")."""
    text = text.rstrip(_TRAILING)
    if not "a" <= text[-1:] <= "z":  # every English form ends in a letter: most names stop here
        return text
    while match := _LATIN_FORM_AT_END.search(text, max(0, len(text) - _LATIN_FORM_REACH)):
        text = text[: match.start()].rstrip(_TRAILING)
    return text


def _strip_legal_forms(text: str) -> str:
    return _strip_latin_forms(_LEGAL_FORMS_RE.sub(" ", text))


def _squeeze(text: str) -> str:
    return _PUNCTUATION.sub("", _STRAY_LONG_VOWEL.sub("-", text))


def normalize_company_name(name: str) -> str:
    """A key under which '株式会社　ＡＢＣ', '(株)abc', 'ABC Co., Ltd.', 'ABC株式会社' coincide."""
    folded = _fold(name)
    key = _squeeze(_strip_legal_forms(folded))
    # A name made only of a legal form or punctuation ("株式会社") keeps a key of its own.
    return key or _squeeze(folded) or folded.strip()


def normalize_reading(kana: str) -> str:
    """A reading (フリガナ) as a key: 'ｶ)ｴｰﾋﾞｰｼｰ' and 'エービーシー カブシキガイシャ' coincide."""
    folded = _fold(kana).strip()
    return _squeeze(_strip_legal_forms(_TRANSFER_FORMS.sub(" ", folded)))


_KANA_KEY = re.compile(r"[\u3041-\u309f\u30fc]+")


def is_kana_key(key: str) -> bool:
    """Whether a normalised key is all kana (so that it can be compared with readings)."""
    return _KANA_KEY.fullmatch(key) is not None


def normalize_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().casefold().removeprefix("mailto:")


# Mail providers anyone can sign up with: an address there says nothing about the company.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.co.jp",
        "ymail.ne.jp",
        "yahoo.ne.jp",
        "yahoo.com",
        "hotmail.com",
        "hotmail.co.jp",
        "outlook.com",
        "outlook.jp",
        "live.jp",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "mail.com",
        "gmx.com",
        "zoho.com",
        "yandex.com",
        "qq.com",
        "163.com",
        "naver.com",
        "docomo.ne.jp",
        "ezweb.ne.jp",
        "au.com",
        "softbank.ne.jp",
        "i.softbank.jp",
        "ymobile.ne.jp",
        "y-mobile.ne.jp",
        "rakuten.jp",
        "nifty.com",
        "nifty.ne.jp",
        "biglobe.ne.jp",
        "ocn.ne.jp",
        "so-net.ne.jp",
        "plala.or.jp",
        "ybb.ne.jp",
        "excite.co.jp",
        "infoseek.jp",
        "jcom.home.ne.jp",
        "dion.ne.jp",
        "kcn.ne.jp",
        "eonet.ne.jp",
        "odn.ne.jp",
        "tiki.ne.jp",
    }
)


def is_free_mail(domain: str) -> bool:
    """A free-mail or consumer ISP domain, or a subdomain of one (mbh.nifty.com)."""
    parts = domain.casefold().split(".")
    return any(".".join(parts[i:]) in FREE_MAIL_DOMAINS for i in range(len(parts) - 1))


def email_domain(email: str) -> str | None:
    """The company domain of an address, or None for free-mail providers."""
    _, _, domain = normalize_email(email).rpartition("@")
    domain = domain.strip().rstrip(".")
    if not domain or "." not in domain or is_free_mail(domain):
        return None
    return domain


_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9\u00a1-\uffff-]{1,63}\.)+[a-z\u00a1-\uffff]{2,63}$")


def normalize_domain(value: str) -> str:
    """'https://www.Example.co.jp/path' → 'example.co.jp'; raises ValueError when not a domain."""
    text = unicodedata.normalize("NFKC", value).strip().casefold()
    text = re.sub(r"^[a-z]+://", "", text).split("/", 1)[0].split(":", 1)[0]
    text = text.removeprefix("www.").rstrip(".")
    if not _DOMAIN_RE.match(text):
        raise ValueError(f"{value!r} is not a domain name (like example.co.jp)")
    return text
