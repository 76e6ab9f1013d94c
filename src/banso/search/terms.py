"""Text → search terms: normalised characters, indexed as overlapping bigrams.

Japanese has no spaces between words, so words cannot be told apart without a dictionary;
overlapping pairs of characters can. A query of n characters becomes the phrase of its n-1
pairs, which matches exactly the texts that contain it (after normalisation). Each field ends
with a pair (last character, end) so that a one-character query, a prefix search on the
pairs starting with it, also finds a character at the end of a field, and so that no phrase
runs from one field into the next.

Every character is spelled as five lower-case letters (its code point in base 26), so a term
is a plain ASCII word that both SQLite FTS5 and PostgreSQL's ``simple`` parser keep intact:
nothing a user types can reach either query syntax.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from banso.accounts.identity import normalize_company_name
from banso.errors import InvalidInput

MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 10
_END = "\x00"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _spell(char: str) -> str:
    code = ord(char)
    letters = []
    for _ in range(5):  # 26**5 > 0x10FFFF, the largest code point
        code, digit = divmod(code, 26)
        letters.append(_LETTERS[digit])
    return "".join(reversed(letters))


def normalise(text: str) -> str:
    """Width, case, kana, legal forms, spaces and punctuation folded, as for company names."""
    return normalize_company_name(text.replace(_END, ""))


def field_terms(text: str) -> list[str]:
    """The terms of one field's text, in order."""
    chars = normalise(text) if text.strip() else ""
    if not chars:
        return []
    pairs = zip(chars, chars[1:] + _END, strict=True)
    return [_spell(a) + _spell(b) for a, b in pairs]


def document_terms(values: Iterable[str | None]) -> str:
    """The terms of all a record's searchable values, space-separated, in field order."""
    terms: list[str] = []
    for value in values:
        if value:
            terms.extend(field_terms(value))
    return " ".join(terms)


@dataclass(frozen=True)
class Needle:
    """One word of a query: a phrase of terms, or a prefix (a one-character word)."""

    terms: tuple[str, ...]
    prefix: bool


def parse_query(q: str) -> list[Needle]:
    """A query's words (separated by spaces), each normalised; all of them must match.

    Raises InvalidInput for a query too long to be a search (it would only burden the index).
    """
    if len(q) > MAX_QUERY_LENGTH:
        raise InvalidInput.one(
            "q", f"is {len(q)} characters long; search with at most {MAX_QUERY_LENGTH}"
        )
    words = q.replace(_END, " ").split()
    if len(words) > MAX_QUERY_WORDS:
        raise InvalidInput.one(
            "q", f"has {len(words)} words; search with at most {MAX_QUERY_WORDS}"
        )
    needles: list[Needle] = []
    for word in words:
        chars = normalise(word)
        if len(chars) == 1:
            needles.append(Needle((_spell(chars),), prefix=True))
        elif chars:
            pairs = itertools.pairwise(chars)
            needles.append(Needle(tuple(_spell(a) + _spell(b) for a, b in pairs), prefix=False))
    return list(dict.fromkeys(needles))
