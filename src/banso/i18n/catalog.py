"""Keep the catalogs in step with the code: ``python -m banso.i18n.catalog update|check``.

``update`` extracts every message from the Python code (``gettext``, ``ngettext``, ``N_``)
and the templates (``_``, ``gettext``, ``ngettext``), adds new ones to each catalog, keeps
existing translations and drops messages the code no longer uses. ``check`` lists what a
catalog lacks (every message must be in both; Japanese ones must be translated) and exits
non-zero if anything is missing; the test suite runs the same check.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from banso.i18n import DOMAIN, LOCALES, catalog_path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
METHODS = [
    ("**/i18n/**", "ignore"),
    ("**/migrations/**", "ignore"),
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2.ext:babel_extract"),
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
# Messages a catalog must translate (English ones may keep the message as it is).
MUST_TRANSLATE = ("ja",)

Message = str | tuple[str, str]


def extract() -> dict[Message, list[tuple[str, int]]]:
    """Every message in the code, with where it is used."""
    found: dict[Message, list[tuple[str, int]]] = {}
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    for filename, line, message, _comments, _context in extract_from_dir(
        str(PACKAGE_DIR),
        method_map=METHODS,
        options_map=options,
        keywords=KEYWORDS,
        strip_comment_tags=True,
    ):
        if isinstance(message, tuple):
            if message[0] is None or message[1] is None:
                continue
            key: Message = (message[0], message[1])
        else:
            key = message
        if not key:
            continue
        found.setdefault(key, []).append((filename, line))
    return found


def load(locale: str) -> Catalog:
    path = catalog_path(locale)
    if not path.exists():
        return Catalog(locale=locale, domain=DOMAIN, project="banso")
    with path.open("rb") as po:
        return read_po(po, locale=locale, domain=DOMAIN)


def save(catalog: Catalog, locale: str) -> None:
    path = catalog_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as po:
        write_po(po, catalog, width=100, omit_header=False, sort_output=True, no_location=True)


def update(messages: dict[Message, list[tuple[str, int]]] | None = None) -> dict[str, int]:
    """Add new messages to every catalog and drop unused ones; returns how many were added."""
    messages = extract() if messages is None else messages
    added: dict[str, int] = {}
    for locale in LOCALES:
        old = load(locale)
        new = Catalog(locale=locale, domain=DOMAIN, project="banso", fuzzy=False, charset="utf-8")
        count = 0
        for key in messages:
            previous = old.get(key if isinstance(key, str) else key[0])
            if previous is not None and previous.string:
                new.add(key, previous.string)
            else:
                count += 1
                new.add(key, "" if isinstance(key, str) else ("", ""))
        save(new, locale)
        added[locale] = count
    return added


def missing(locale: str, messages: Iterable[Message] | None = None) -> list[Message]:
    """Messages the code uses that ``locale``'s catalog lacks (or leaves untranslated)."""
    keys = list(extract() if messages is None else messages)
    catalog = load(locale)
    lacking: list[Message] = []
    for key in keys:
        entry = catalog.get(key if isinstance(key, str) else key[0])
        if entry is None:
            lacking.append(key)
        elif locale in MUST_TRANSLATE:
            strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
            if not all(strings[: catalog.num_plurals]):
                lacking.append(key)
    return lacking


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        for locale, count in update().items():
            print(f"{catalog_path(locale)}: {count} new or untranslated")
        return 0
    if command == "check":
        messages = extract()
        failed = False
        for locale in LOCALES:
            for key in missing(locale, messages):
                failed = True
                where = ", ".join(f"{f}:{n}" for f, n in messages[key][:3])
                print(f"{locale}: missing {key!r} ({where})")
        return 1 if failed else 0
    print("usage: python -m banso.i18n.catalog update|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
