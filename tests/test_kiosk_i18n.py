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
KEYWORDS = {"_": None, "tr": None, "N_": None, "Text": None}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def kiosk_messages() -> dict[str, set[str]]:
    """Extracted message -> the files it appears in."""
    found: dict[str, set[str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        REPO / "kiosk", method_map=METHOD_MAP, keywords=KEYWORDS
    ):
        found.setdefault(message, set()).add(filename)
    return found


@lru_cache(maxsize=1)
def catalog() -> dict[str, str]:
    with KIOSK_PO.open("rb") as po_file:
        return {m.id: m.string for m in read_po(po_file, locale="zh_CN") if m.id}


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
        "ui/screens/consent.kv",
        "ui/screens/walk_in.kv",
        "ui/keypads.kv",
        "ui/overlays.kv",
    } <= kv_files


@pytest.mark.parametrize("message", sorted(kiosk_messages()))
def test_every_message_has_a_chinese_translation(message: str) -> None:
    translated = catalog().get(message)
    assert translated, f"no zh_CN translation in kiosk.po for {message!r}"
    assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(message))
    assert re.search(r"[\u4e00-\u9fff]", translated), "the translation has no Chinese"


def test_catalog_has_no_stale_entries() -> None:
    stale = set(catalog()) - set(kiosk_messages())
    assert not stale, f"kiosk.po has entries nothing uses: {sorted(stale)}"
