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
    found = []
    for filename, lineno, message, _comments, _context in extract_from_dir(
        TEMPLATES, METHOD_MAP, keywords={"_": None}
    ):
        if isinstance(message, str) and message.strip():
            found.append((filename, lineno, message))
    return found


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


@pytest.mark.parametrize("message", ["Waiting {minutes} min", "Version {version}"])
def test_placeholders_survive_translation(message: str) -> None:
    translated = translate(message, "zh_CN", "server")
    assert translated != message
    assert translated.count("{") == message.count("{")
