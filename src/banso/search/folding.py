"""Written text folded character by character for the document search, with the way back.

The account search folds a whole company name at once (and drops legal forms such as 株式会社);
a document is folded one character at a time, so that each folded character remembers which
characters of the original text it came from, and a snippet can highlight the original
text where a query matched its folded form. Folding: NFKC (full/half width), case, katakana
as hiragana; spaces, punctuation and control characters dropped.

A half-width katakana and its following voiced mark (ｶﾞ), or a letter and its combining
marks, are folded together as one cluster, as NFKC composes them into one character.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_KATAKANA_START, _KATAKANA_END = 0x30A1, 0x30F6
_TO_HIRAGANA = {code: code - 0x60 for code in range(_KATAKANA_START, _KATAKANA_END + 1)}
# Marks that NFKC joins onto the character before them.
_JOINING_MARKS = frozenset("\uff9e\uff9f\u3099\u309a\u309b\u309c")
_DROPPED_CATEGORIES = ("P", "Z", "C")


@dataclass(frozen=True)
class Folded:
    """Folded text, and for each of its characters the span ``[start, end)`` it came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]


@lru_cache(maxsize=8192)
def fold_cluster(cluster: str) -> str:
    """One character (with its joining marks) folded; empty when it is dropped."""
    folded = unicodedata.normalize("NFKC", cluster).casefold().translate(_TO_HIRAGANA)
    return "".join(c for c in folded if unicodedata.category(c)[0] not in _DROPPED_CATEGORIES)


def _is_joining(char: str) -> bool:
    return char in _JOINING_MARKS or unicodedata.category(char)[0] == "M"


@lru_cache(maxsize=1)
def _all_joining() -> frozenset[str]:
    """Every character that joins onto the one before it (computed once, about 2,500)."""
    return frozenset(c for c in map(chr, range(0x110000)) if _is_joining(c))


class _FoldCache(dict[str, str]):
    """Each single character's folded form, computed on first sight."""

    def __missing__(self, char: str) -> str:
        folded = self[char] = fold_cluster(char)
        return folded


_SINGLE = _FoldCache()


def fold(text: str) -> str:
    """The folded form of a text (no positions): for queries and terms.

    Most text has no joining marks, and is then folded one character at a time from a cache;
    the same result as ``fold_with_positions(text).text``, much faster.
    """
    if _all_joining().isdisjoint(text):
        return "".join(map(_SINGLE.__getitem__, text))
    return fold_with_positions(text).text


def fold_with_positions(text: str) -> Folded:
    """The folded form of a text, with each folded character's span in the original."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and _is_joining(text[j]):
            j += 1
        for c in fold_cluster(text[i:j]):
            chars.append(c)
            starts.append(i)
            ends.append(j)
        i = j
    return Folded("".join(chars), tuple(starts), tuple(ends))
