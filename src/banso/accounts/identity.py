"""Normalisation used for identity resolution (名寄せ): company names, e-mails and domains."""

from __future__ import annotations

import re
import unicodedata

# Legal-form words and their abbreviations, compared after NFKC and casefolding
# (NFKC already turns ㈱ into (株) and full-width letters into ASCII).
_LEGAL_FORMS = (
    "株式会社",
    "有限会社",
    "合同会社",
    "合資会社",
    "合名会社",
    "一般社団法人",
    "一般財団法人",
    "公益社団法人",
    "公益財団法人",
    "社団法人",
    "財団法人",
    "医療法人社団",
    "医療法人",
    "学校法人",
    "社会福祉法人",
    "特定非営利活動法人",
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
    "かぶしきがいしゃ",
    "かぶしきかいしゃ",
    "ゆうげんがいしゃ",
    "ごうどうがいしゃ",
)
_LATIN_FORMS = re.compile(
    r"\b(co\.?,?\s*ltd\.?|company\s+limited|corporation|corp\.?|inc\.?|incorporated|"
    r"limited|ltd\.?|llc|l\.l\.c\.|k\.k\.|kk|gmbh|plc|g\.k\.)(?=\s|$|[,.)])"
)
_PUNCTUATION = re.compile(r"[\s\-‐‑–—―ー－・･.,、。'\"`’“”()\[\]{}「」『』【】/\\&＆+!?:;]+")
_KATAKANA_START, _KATAKANA_END = 0x30A1, 0x30F6


def katakana_to_hiragana(text: str) -> str:
    return "".join(
        chr(ord(ch) - 0x60) if _KATAKANA_START <= ord(ch) <= _KATAKANA_END else ch for ch in text
    )


def normalize_company_name(name: str) -> str:
    """A key under which '株式会社　ＡＢＣ', '(株)abc' and 'ABC Co., Ltd.' coincide."""
    text = unicodedata.normalize("NFKC", name).casefold()
    for form in _LEGAL_FORMS:
        text = text.replace(form, " ")
    text = _LATIN_FORMS.sub(" ", text)
    text = katakana_to_hiragana(text)
    key = _PUNCTUATION.sub("", text)
    # A name made only of a legal form ("株式会社") keeps its own normalised text.
    return key or unicodedata.normalize("NFKC", name).casefold().strip()


def normalize_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().casefold()


_FREE_MAIL = frozenset(
    {
        "gmail.com",
        "yahoo.co.jp",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "outlook.jp",
        "icloud.com",
        "me.com",
        "docomo.ne.jp",
        "ezweb.ne.jp",
        "au.com",
        "softbank.ne.jp",
        "i.softbank.jp",
        "nifty.com",
        "live.jp",
        "hotmail.co.jp",
    }
)


def email_domain(email: str) -> str | None:
    """The company domain of an address, or None for free-mail providers."""
    _, _, domain = normalize_email(email).rpartition("@")
    if not domain or domain in _FREE_MAIL:
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
