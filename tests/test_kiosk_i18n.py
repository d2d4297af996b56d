"""Every text the kiosk shows is extractable (kv files included) and translated to Chinese."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parents[1]
KIOSK_PO = REPO / "shared" / "locale" / "zh_CN" / "LC_MESSAGES" / "kiosk.po"
METHOD_MAP = [("**.py", "python"), ("**.kv", "python")]
KEYWORDS = {"_": None, "tr": None, "N_": None, "Text": None, "ntr": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def kiosk_messages() -> dict[str | tuple[str, str], set[str]]:
    """Extracted message (a (singular, plural) pair for counts) -> the files it is in."""
    found: dict[str | tuple[str, str], set[str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        REPO / "kiosk", method_map=METHOD_MAP, keywords=KEYWORDS
    ):
        found.setdefault(message, set()).add(filename)
    return found


@lru_cache(maxsize=1)
def catalog() -> dict[str | tuple[str, str], str]:
    """msgid (or the (singular, plural) pair) -> the Chinese (Chinese has one form)."""
    with KIOSK_PO.open("rb") as po_file:
        return {
            m.id: m.string[0] if isinstance(m.string, tuple) else m.string
            for m in read_po(po_file, locale="zh_CN")
            if m.id
        }


def test_kv_strings_are_extracted() -> None:
    found = kiosk_messages()
    assert "ui/screens/pairing.kv" in found["Pair this kiosk"]
    assert "ui/screens/welcome.kv" in found["Scan appointment QR code"]
    assert "ui/screens/advisor_sign_in.kv" in found["Advisor sign-in"]
    kv_files = {name for files in found.values() for name in files if name.endswith(".kv")}
    assert {
        "ui/screens/pairing.kv",
        "ui/screens/welcome.kv",
        "ui/screens/advisor_sign_in.kv",
        "ui/screens/queue.kv",
        "ui/screens/confirm.kv",
        "ui/screens/walk_in.kv",
        "ui/keypads.kv",
        "ui/overlays.kv",
    } <= kv_files


@pytest.mark.parametrize("message", sorted(kiosk_messages(), key=str))
def test_every_message_has_a_chinese_translation(message: str | tuple[str, str]) -> None:
    translated = catalog().get(message)
    assert translated, f"no zh_CN translation in kiosk.po for {message!r}"
    for source in (message,) if isinstance(message, str) else message:
        assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(source))
    assert re.search(r"[\u4e00-\u9fff]", translated), "the translation has no Chinese"


def test_catalog_has_no_stale_entries() -> None:
    stale = set(catalog()) - set(kiosk_messages())
    assert not stale, f"kiosk.po has entries nothing uses: {sorted(stale, key=str)}"


def test_counts_use_the_plural_form_of_the_language() -> None:
    """ "1 minutes" never shows: English has a form for one, Chinese one form for all."""
    from shared.i18n import translate_plural

    one, many = "Expected wait: about {minutes} minute.", "Expected wait: about {minutes} minutes."
    assert translate_plural(one, many, 1, "en", "kiosk", minutes=1) == (
        "Expected wait: about 1 minute."
    )
    assert translate_plural(one, many, 15, "en", "kiosk", minutes=15).endswith("15 minutes.")
    assert translate_plural(one, many, 1, "zh_CN", "kiosk", minutes=1) == "预计等候：约 1 分钟。"
    assert (
        "This screen closes in {seconds} second.",
        "This screen closes in {seconds} seconds.",
    ) in (kiosk_messages())
