"""Bilingual text (English and Simplified Chinese) from gettext catalogs.

Source strings are English. Each component keeps its own catalog domain so that their
catalogs can be edited independently: ``shared`` (validation, domain words), ``kiosk``
(screens) and ``server`` (API messages, web pages). Catalogs live as ``.po`` files in
``shared/locale/<lang>/LC_MESSAGES/<domain>.po`` and are compiled in memory with Babel
on first use, so a compiled ``.mo`` can never go stale.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES: tuple[str, ...] = ("en", "zh_CN")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES: Mapping[str, str] = {"en": "English", "zh_CN": "简体中文"}
DOMAINS: tuple[str, ...] = ("shared", "kiosk", "server")


def normalize_language(lang: str | None) -> str:
    """Map what a browser or a setting says ("zh", "zh-CN", "zh_Hans", "en-GB") to ours."""
    if not lang:
        return DEFAULT_LANGUAGE
    tag = lang.replace("-", "_").lower()
    if tag.startswith("zh"):
        return "zh_CN"
    return "en"


@cache
def translations(lang: str, domain: str = "shared") -> gettext.NullTranslations:
    """The compiled catalog for one language and domain (English: the identity)."""
    lang = normalize_language(lang)
    po_path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
    if lang == "en" or not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=lang, domain=domain)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translate(message: str, lang: str, domain: str = "shared", **params: Any) -> str:
    """Translate ``message`` and fill ``{name}`` placeholders from ``params``."""
    text = translations(lang, domain).gettext(message)
    return text.format(**params) if params else text


def translate_plural(
    singular: str, plural: str, count: int, lang: str, domain: str = "shared", /, **params: Any
) -> str:
    """``singular`` or ``plural`` as the language's plural rule picks for ``count``
    ("1 minute", "2 minutes"; Chinese has one form), placeholders filled from
    ``params`` (which name the count too, e.g. ``minutes=count``)."""
    text = translations(lang, domain).ngettext(singular, plural, count)
    return text.format(**params) if params else text


def plural_text(
    singular: str, plural: str, count: int, domain: str = "shared", /, **params: Any
) -> Text:
    """A :class:`Text` whose form follows ``count`` (``params`` name the count too)."""
    return Text(singular, domain, params, plural=plural, count=count)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


STORED_PLURAL = "__plural__"
STORED_COUNT = "__count__"


@dataclass(frozen=True)
class Text:
    """A message to be shown later in whichever language the reader has chosen.

    A message with a count names its ``plural`` too and the ``count`` that picks the
    form ("1 booking" / "2 bookings"; Chinese has one form): see :func:`plural_text`.
    """

    message: str
    domain: str = "shared"
    params: Mapping[str, Any] = field(default_factory=dict)
    plural: str | None = None
    count: int = 1

    def render(self, lang: str) -> str:
        if self.plural is not None:
            return translate_plural(
                self.message, self.plural, self.count, lang, self.domain, **dict(self.params)
            )
        return translate(self.message, lang, self.domain, **dict(self.params))

    def stored_params(self) -> dict[str, Any]:
        """The params to keep beside :attr:`message` in a table, with the plural form and
        its count when there is one, so :meth:`stored` gives this text back whole."""
        if self.plural is None:
            return dict(self.params)
        return {**self.params, STORED_PLURAL: self.plural, STORED_COUNT: self.count}

    @classmethod
    def stored(cls, message: str, domain: str, params: Mapping[str, Any] | None) -> Text:
        """A text kept in a table as ``message`` and :meth:`stored_params`."""
        params = dict(params or {})
        plural = params.pop(STORED_PLURAL, None)
        count = params.pop(STORED_COUNT, 1)
        return cls(message, domain, params, plural=plural, count=int(count))

    def bilingual(self) -> dict[str, str]:
        return {language: self.render(language) for language in LANGUAGES}
