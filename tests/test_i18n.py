"""Every string a customer or a colleague can see has a Simplified Chinese translation."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from shared.i18n import LANGUAGES, Text, normalize_language, translate, translations

ROOT = Path(__file__).resolve().parent.parent
COMPONENTS = {"shared": "shared", "sync_server": "server", "kiosk": "kiosk"}
METHOD_MAP = [("**/locale/**", "ignore"), ("**.py", "python"), ("**.kv", "python")]
KEYWORDS = {
    "_": None,
    "tr": None,
    "N_": None,
    "Text": (1,),
    "translate": (1,),
    "ntr": (1, 2),
    "ngettext": (1, 2),
    "plural_text": (1, 2),
    "translate_plural": (1, 2),
}


Message = str | tuple[str, str]  # a message, or the singular and plural of one with a count


def marked_strings(folder: str) -> list[tuple[str, int, Message]]:
    found: list[tuple[str, int, Message]] = []
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT / folder, METHOD_MAP, keywords=KEYWORDS
    ):
        if isinstance(message, tuple) and len(message) == 2 and all(message):
            found.append((filename, lineno, (message[0], message[1])))
        elif isinstance(message, str) and message.strip():
            found.append((filename, lineno, message))
    return found


def untranslated(message: Message, domain: str) -> bool:
    """A message (each form of a plural) that reads the same in Chinese as in English."""
    if isinstance(message, tuple):
        singular, plural = message
        catalog = translations("zh_CN", domain)
        return (
            catalog.ngettext(singular, plural, 1) == singular
            or catalog.ngettext(singular, plural, 2) == plural
        )
    return translate(message, "zh_CN", domain) == message


@pytest.mark.parametrize(("folder", "domain"), COMPONENTS.items())
def test_every_marked_string_is_translated(folder: str, domain: str) -> None:
    translations.cache_clear()
    missing = [
        f"{folder}/{filename}:{lineno}: {message!r}"
        for filename, lineno, message in marked_strings(folder)
        if untranslated(message, domain) and any(ch.isalpha() for ch in str(message))
    ]
    assert not missing, "untranslated:\n" + "\n".join(missing)


@pytest.mark.parametrize(("folder", "domain"), COMPONENTS.items())
def test_text_calls_name_their_components_domain(folder: str, domain: str) -> None:
    wrong = []
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Text"):
                continue
            if not (node.args and isinstance(node.args[0], ast.Constant)):
                continue
            given = (
                node.args[1]
                if len(node.args) > 1
                else next((k.value for k in node.keywords if k.arg == "domain"), None)
            )
            named = given.value if isinstance(given, ast.Constant) else "shared"
            if named != domain:
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} uses domain {named!r}")
    assert not wrong, "\n".join(wrong)


def test_language_tags_are_normalised() -> None:
    assert normalize_language("zh-CN") == "zh_CN"
    assert normalize_language("zh_Hans") == "zh_CN"
    assert normalize_language("en-GB") == "en"
    assert normalize_language(None) == "en"


def test_text_renders_with_parameters_in_both_languages() -> None:
    message = Text("At most {n} characters, please.", "server", {"n": 12})
    rendered = message.bilingual()
    assert set(rendered) == set(LANGUAGES)
    assert rendered["en"] == "At most 12 characters, please."
    assert "12" in rendered["zh_CN"] and rendered["zh_CN"] != rendered["en"]


def test_every_catalog_reads_without_a_syntax_error() -> None:
    """A merge conflict or a broken entry would make Babel skip part of a catalog (with
    only a warning); read strictly, every catalog must parse whole."""
    from babel.messages.pofile import read_po

    from shared.i18n import LOCALE_DIR

    for po_path in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as po_file:
            read_po(po_file, abort_invalid=True)
        assert "<<<<<<<" not in po_path.read_text(encoding="utf-8"), po_path
