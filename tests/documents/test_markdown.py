"""Users' Markdown is rendered to HTML that can run nothing, and mentions are found."""

from __future__ import annotations

import re

import pytest

from banso.documents.markdown import excerpt, mentions, plain_text, render

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<iframe src="https://evil.example"></iframe>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert`1`)",
    "[click](&#106;avascript:alert(1))",
    "[click](java&#x09;script:alert(1))",
    "[click](&#x6A;&#x61;vascript&colon;alert(1))",
    "[click]( javascript:alert(1) )",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<img src=x onerror="alert(1)">',
    '<a href="#" onclick="alert(1)">x</a>',
    '<div onmouseover="alert(1)">hover</div>',
    "<svg onload=alert(1)>",
    '<object data="x.swf"></object><embed src="x.swf">',
    '<style>body{background:url("javascript:alert(1)")}</style>',
    "<form action=//evil.example><input name=p></form>",
    "[ref]: javascript:alert(1)\n\n[click][ref]",
    "<javascript:alert(1)>",
    '<a href="vbscript:msgbox(1)">x</a>',
]


def _executable(html: str) -> list[str]:
    """What in ``html`` a browser could run or load from elsewhere."""
    found = []
    for tag in ("script", "iframe", "object", "embed", "style", "svg", "form", "img", "div"):
        if re.search(rf"<\s*{tag}\b", html, re.I):
            found.append(tag)
    if re.search(r"<[a-zA-Z][^<>]*\son\w+\s*=", html):
        found.append("event handler")
    tags = " ".join(re.findall(r"<[a-zA-Z][^<>]*>", html))  # real tags, not escaped text
    for href in re.findall(r'(?:href|src)\s*=\s*"([^"]*)"', tags, re.I):
        # Browsers drop tabs and newlines from a URL; a scheme is letters, digits, + - . only
        # (anything else before the colon, such as %09, makes it a harmless relative path).
        scheme = re.match(r"([a-z][a-z0-9+.-]*):", re.sub(r"[\s\x00-\x1f]", "", href), re.I)
        if scheme and scheme.group(1).lower() not in ("http", "https", "mailto"):
            found.append(f"scheme {scheme.group(1)}")
    return found


@pytest.mark.parametrize("text", HOSTILE)
def test_it_renders_nothing_executable(text: str) -> None:
    html = str(render(text))
    assert _executable(html) == [], html


def test_it_shows_raw_html_as_text() -> None:
    html = str(render("見出し <b>太字</b> <script>x()</script>"))
    assert "&lt;b&gt;" in html and "&lt;script&gt;" in html
    assert "<b>" not in html


def test_it_keeps_safe_markdown() -> None:
    html = str(
        render(
            "# 議事録\n\n- [x] 見積送付\n- [ ] 日程調整\n\n**重要** [資料](https://example.com/a)"
        )
    )
    assert "<h1>議事録</h1>" in html and "<strong>重要</strong>" in html
    assert '<a href="https://example.com/a" rel="noopener noreferrer nofollow">資料</a>' in html
    assert html.count('type="checkbox"') == 2 and "checked" in html


def test_it_drops_nul_characters() -> None:
    assert "\x00" not in str(render("a\x00b"))
    assert "\x00" not in plain_text("a\x00b")


def test_it_renders_and_finds_mentions() -> None:
    text = "@[佐藤 花子](contact:34) と @[山田](user:12) に共有。再度 @[佐藤](contact:34)"
    assert mentions(text) == [("contact", 34), ("user", 12)]
    html = str(render(text))
    assert '<span class="mention" data-mention="contact:34">@佐藤 花子</span>' in html
    assert '<span class="mention" data-mention="user:12">@山田</span>' in html


def test_it_escapes_a_hostile_mention_name() -> None:
    html = str(render('@[<img src=x onerror=alert(1)>](user:1) @["><script>](contact:2)'))
    assert _executable(html) == [], html
    assert mentions(None) == [] and mentions("@[x](team:1) @[y](user:abc)") == []


def test_it_gives_plain_text_and_excerpts() -> None:
    text = "## 背景\n\n**解約**の[理由](https://x.example)は @[田中](contact:1) 経由で確認"
    assert plain_text(text) == "背景\n\n解約の理由は @田中 経由で確認"
    assert excerpt("あ" * 300, 10) == "あ" * 9 + "…"
    assert render(None) == "" and plain_text(None) == ""


def test_the_checker_itself_sees_what_could_run() -> None:
    assert _executable('<p><a href="javascript:alert(1)">x</a></p>') == ["scheme javascript"]
    assert _executable("<script>x</script>") == ["script"]
    assert _executable('<span onclick="x()">y</span>') == ["event handler"]
    assert _executable('<p>&lt;a href="javascript:x"&gt;</p>') == []
