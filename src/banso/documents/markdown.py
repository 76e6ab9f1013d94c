"""Markdown written by users, rendered to HTML that cannot run anything.

Two walls: markdown-it renders with raw HTML switched off (a ``<script>`` typed into a note is
shown as text), and nh3 then keeps only an allow-list of tags, attributes and URL schemes
(http, https, mailto and site-relative links), so neither an ``<iframe>``, an ``onerror=`` nor
a ``javascript:`` link survives whatever the renderer produced.

Mentions are written ``@[表示名](user:12)`` or ``@[表示名](contact:34)``: the name is what the
writer saw when they picked the person; the id is what is stored and linked.
"""

from __future__ import annotations

import re
from functools import cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

MENTION = re.compile(r"@\[([^\[\]\n]{1,200})\]\((user|contact):(\d{1,12})\)")
_ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "s", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a", "span",
    "table", "thead", "tbody", "tr", "th", "td", "input",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "span": {"class", "data-mention"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
    "input": {"type", "checked", "disabled"},
    "code": {"class"},
}
_SCHEMES = {"http", "https", "mailto"}


@cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})
    parser.enable(["table", "strikethrough"])
    return parser


def _mention_html(match: re.Match[str]) -> str:
    name, kind, ident = match.group(1), match.group(2), match.group(3)
    # A placeholder markdown-it leaves alone; turned into a span after rendering.
    return f"\x02{kind}:{ident}\x03{name}\x04"


_PLACEHOLDER = re.compile(r"\x02(user|contact):(\d+)\x03([^\x04]*)\x04")


def render(text: str | None) -> Markup:
    """Sanitised HTML for a user's Markdown (empty for None)."""
    if not text:
        return Markup("")
    source = MENTION.sub(_mention_html, text.replace("\x00", ""))
    html = _parser().render(source)
    html = _PLACEHOLDER.sub(
        lambda m: (
            f'<span class="mention" data-mention="{m.group(1)}:{m.group(2)}">@{m.group(3)}</span>'
        ),
        html,
    )
    html = _task_boxes(html)
    cleaned = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(cleaned)


_TASK_ITEM = re.compile(r"<li>\[( |x|X)\] ")


def _task_boxes(html: str) -> str:
    """``- [ ] todo`` and ``- [x] done`` as (read-only) check boxes."""

    def box(match: re.Match[str]) -> str:
        checked = " checked" if match.group(1) in "xX" else ""
        return f'<li><input type="checkbox" disabled{checked}> '

    return _TASK_ITEM.sub(box, html)


def mentions(text: str | None) -> list[tuple[str, int]]:
    """The people mentioned, in order of first mention: ``[("user", 12), ("contact", 34)]``."""
    found: dict[tuple[str, int], None] = {}
    for match in MENTION.finditer(text or ""):
        found[(match.group(2), int(match.group(3)))] = None
    return list(found)


_BLOCK_MARKS = re.compile(r"^\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+(\[[ xX]\]\s+)?|\d+[.)]\s+)", re.M)
_INLINE_MARKS = re.compile(r"(\*\*|__|~~|`+)")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def plain_text(text: str | None) -> str:
    """The words of a Markdown text without its markup, for search and snippets."""
    if not text:
        return ""
    out = MENTION.sub(lambda m: "@" + m.group(1), text.replace("\x00", ""))
    out = _LINK.sub(r"\1", out)
    out = _BLOCK_MARKS.sub("", out)
    out = _INLINE_MARKS.sub("", out)
    out = re.sub(r"^\s*\|?[-:| ]+\|?\s*$", "", out, flags=re.M)  # table rules
    out = out.replace("|", " ")
    return re.sub(r"[ \t]+", " ", out).strip()


def excerpt(text: str | None, length: int = 160) -> str:
    """The start of a Markdown text as one line of plain text."""
    words = " ".join(plain_text(text).split())
    return words if len(words) <= length else words[: length - 1] + "…"


def escape_text(text: str) -> Markup:
    return escape(text)
