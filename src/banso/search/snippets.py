"""Snippets: the original text around a match, escaped, with the matched parts in ``<mark>``.

Matching happens on the folded text (banso.search.folding); each folded character knows the
span of the original it came from, so the highlight covers exactly what the user wrote
(ｶｲﾔｸ, カイヤク and かいやく are all found by かいやく and each is marked as written).
"""

from __future__ import annotations

from markupsafe import Markup, escape

from banso.search.folding import fold_with_positions

SNIPPET_LENGTH = 160
_LEAD = 40  # characters shown before the first match
_CHUNK = 4000  # a long body is folded a piece at a time until a match is found
_OVERLAP = 400  # longer than any query word, so a match across two pieces is still found


def match_spans(text: str, words: list[str]) -> list[tuple[int, int]]:
    """The spans ``[start, end)`` of the original text where any folded word occurs, merged."""
    folded = fold_with_positions(text)
    spans: list[tuple[int, int]] = []
    for word in words:
        at = folded.text.find(word)
        while at >= 0:
            spans.append((folded.starts[at], folded.ends[at + len(word) - 1]))
            at = folded.text.find(word, at + 1)
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _marked(text: str, spans: list[tuple[int, int]]) -> Markup:
    out: list[str] = []
    at = 0
    for start, end in spans:
        out.append(str(escape(text[at:start])))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        at = end
    out.append(str(escape(text[at:])))
    return Markup("".join(out))


def highlight(text: str, words: list[str]) -> Markup:
    """The whole text, escaped, with every match marked (for titles)."""
    return _marked(text, match_spans(text, words))


def _first_match(text: str, words: list[str]) -> int | None:
    """Where the first match starts in the original text, looking a piece at a time."""
    start = 0
    while start < len(text):
        piece = text[start : start + _CHUNK + _OVERLAP]
        spans = match_spans(piece, words)
        if spans:
            return start + spans[0][0]
        start += _CHUNK
    return None


def snippet(text: str, words: list[str], length: int = SNIPPET_LENGTH) -> Markup:
    """About ``length`` characters around the first match (the start when nothing matches),
    escaped, with the matches marked and "…" where text was cut."""
    text = " ".join(text.split())
    first = _first_match(text, words)
    begin = 0 if first is None else max(0, first - _LEAD)
    if begin and len(text) - begin < length:
        begin = max(0, len(text) - length)
    end = min(len(text), begin + length)
    window = text[begin:end]
    marked = _marked(window, match_spans(window, words)) if first is not None else escape(window)
    return Markup("{}{}{}").format("…" if begin else "", marked, "…" if end < len(text) else "")
