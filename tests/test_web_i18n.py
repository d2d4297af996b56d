"""Every string the web pages show has a Simplified Chinese translation (domain "server").

Templates are read with Jinja's own Babel extractor, so what is checked is exactly what
``_()`` in a template will look up.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from shared.i18n import translate, translations

TEMPLATES = Path(__file__).resolve().parent.parent / "sync_server" / "web" / "templates"
METHOD_MAP = [("**.html", "jinja2.ext:babel_extract")]


def template_strings() -> list[tuple[str, int, str]]:
    """Every ``_()`` string, and the singular and plural of every ``ngettext()``."""
    found = []
    for filename, lineno, message, _comments, _context in extract_from_dir(
        TEMPLATES, METHOD_MAP, keywords={"_": None, "ngettext": (1, 2)}
    ):
        if isinstance(message, str) and message.strip():
            found.append((filename, lineno, message))
    return found


def template_plurals() -> list[tuple[str, int, tuple[str, str]]]:
    return [
        (filename, lineno, (message[0], message[1]))
        for filename, lineno, message, _comments, _context in extract_from_dir(
            TEMPLATES, METHOD_MAP, keywords={"ngettext": (1, 2)}
        )
        if isinstance(message, tuple)
    ]


def test_templates_have_strings_to_check() -> None:
    messages = {message for _file, _line, message in template_strings()}
    assert "Visit board" in messages and "Confirm and sign" in messages


def test_every_template_string_is_translated() -> None:
    translations.cache_clear()
    missing = [
        f"{filename}:{lineno}: {message!r}"
        for filename, lineno, message in template_strings()
        if translate(message, "zh_CN", "server") == message and any(c.isalpha() for c in message)
    ]
    assert not missing, "untranslated:\n" + "\n".join(missing)


def test_every_template_plural_is_translated_in_both_forms() -> None:
    translations.cache_clear()
    catalog = translations("zh_CN", "server")
    plurals = template_plurals()
    assert len(plurals) >= 8
    missing = [
        f"{filename}:{lineno}: {singular!r}"
        for filename, lineno, (singular, plural) in plurals
        if catalog.ngettext(singular, plural, 1) == singular
        or catalog.ngettext(singular, plural, 5) == plural
    ]
    assert not missing, "untranslated:\n" + "\n".join(missing)


@pytest.mark.parametrize("message", ["Waiting {minutes} min", "Version {version}"])
def test_placeholders_survive_translation(message: str) -> None:
    translated = translate(message, "zh_CN", "server")
    assert translated != message
    assert translated.count("{") == message.count("{")
