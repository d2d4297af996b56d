"""Tests for shared.validation's plates (``shared.validation_plates``): Chinese plates by
province, generic plates, how they are written and compared.
"""

from __future__ import annotations

import pytest
from validation_fixtures import codes, fresh_catalogs  # noqa: F401  (fresh_catalogs: autouse)

from shared.validation import (
    PROVINCE_ABBREVIATIONS,
    check_plate,
    format_plate,
    plate_key,
    plate_kind,
)

# --------------------------------------------------------------------------- plates


def test_province_abbreviations() -> None:
    assert len(PROVINCE_ABBREVIATIONS) == 31
    assert len(set(PROVINCE_ABBREVIATIONS)) == 31
    assert PROVINCE_ABBREVIATIONS[:4] == ("京", "津", "沪", "渝")
    assert PROVINCE_ABBREVIATIONS[-1] == "琼"
    assert {"粤", "川", "藏", "新", "蒙"} <= set(PROVINCE_ABBREVIATIONS)


@pytest.mark.parametrize(
    ("raw", "normalised", "kind"),
    [
        ("京A12345", "京A12345", "standard"),
        ("京a·12345", "京A12345", "standard"),
        (" 沪 B-A1234 ", "沪BA1234", "standard"),
        ("粤B.12D45", "粤B12D45", "standard"),
        ("琼AZ9999", "琼AZ9999", "standard"),
        ("京AD12345", "京AD12345", "new_energy_small"),  # D: pure electric
        ("粤BF12345", "粤BF12345", "new_energy_small"),  # F: other new energy
        ("苏EA12345", "苏EA12345", "new_energy_small"),  # GA 36-2018 extension letters
        ("浙AKC1234", "浙AKC1234", "new_energy_small"),  # second serial char a letter
        ("京A12345D", "京A12345D", "new_energy_large"),
        ("沪C54321F", "沪C54321F", "new_energy_large"),
        ("京A1234学", "京A1234学", "coach"),
        ("川A123X警", "川A123X警", "police"),
        ("鲁B1234挂", "鲁B1234挂", "trailer"),
        ("粤Z1234港", "粤Z1234港", "hong_kong_macau"),
        ("粤ZA123澳", "粤ZA123澳", "hong_kong_macau"),
    ],
)
def test_valid_chinese_plates(raw: str, normalised: str, kind: str) -> None:
    result = check_plate(raw)
    assert result.ok, codes(result)
    assert result.issues == ()
    assert result.value == normalised
    assert plate_kind(raw) == kind
    assert format_plate(raw) == f"{normalised[:2]}·{normalised[2:]}"


@pytest.mark.parametrize(
    ("raw", "expected_codes"),
    [
        ("", ["plate_missing"]),
        ("台A12345", ["plate_province"]),
        ("滬A12345", ["plate_province"]),  # traditional character
        ("A12345", ["plate_province_missing", "plate_too_short"]),
        ("AB12345", ["plate_province_missing"]),
        ("京A1234", ["plate_too_short"]),
        ("京", ["plate_too_short"]),
        ("京A1234567", ["plate_too_long"]),
        ("京AI2345", ["plate_letters_io"]),
        ("京O12345", ["plate_letters_io"]),
        ("京A1234$", ["plate_characters"]),
        ("京1A2345", ["plate_authority"]),
        ("京A1234港", ["plate_hong_kong_macau"]),
        ("京AM12345", ["plate_new_energy"]),  # M is not a new-energy letter
        ("京AD1234X", ["plate_new_energy"]),  # small NEV ends in four digits
        ("京A1234DF", ["plate_new_energy"]),  # large NEV: five digits then D/F
        ("京A1234E5", ["plate_new_energy"]),
        ("京A12345学", ["plate_format"]),  # suffix plates have 7 characters
        ("京A12学45", ["plate_format"]),  # suffix only at the end
    ],
)
def test_invalid_chinese_plates(raw: str, expected_codes: list[str]) -> None:
    result = check_plate(raw)
    assert not result.ok
    assert result.value is None
    assert codes(result) == expected_codes
    assert plate_kind(raw) is None


def test_unknown_province_message_names_the_character() -> None:
    (issue,) = check_plate("台A12345").issues
    assert issue.message.render("en").startswith("“台” is not a province")
    assert issue.message.render("zh_CN").startswith("“台”不是")


def test_plate_length_message_counts_characters() -> None:
    (issue,) = check_plate("京A1234").issues
    assert "You entered 6." in issue.message.render("en")


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("AB12 CDE", "AB12 CDE"),
        ("b-mw 1234", "B-MW 1234"),
        ("  ab   12  ", "AB 12"),
        ("12", "12"),
        ("ABCDE12345", "ABCDE12345"),
        ("ABCDE 12345", "ABCDE 12345"),  # separators do not count
    ],
)
def test_valid_generic_plates(raw: str, normalised: str) -> None:
    result = check_plate(raw, region="generic")
    assert result.ok
    assert result.value == normalised
    assert plate_kind(raw, region="generic") == "generic"


@pytest.mark.parametrize(
    "raw", ["A", "ABCDEFGHJKL", "AB--12", "AB- 12", "-AB12", "AB_12", "京A12345", "AB12Ä"]
)
def test_invalid_generic_plates(raw: str) -> None:
    result = check_plate(raw, region="generic")
    assert not result.ok
    assert codes(result) == ["plate_generic_format"]
    assert plate_kind(raw, region="generic") is None


def test_generic_plate_missing() -> None:
    assert codes(check_plate("  ", region="generic")) == ["plate_missing"]


def test_format_plate_leaves_other_plates_alone() -> None:
    assert format_plate("ab12 cde") == "AB12 CDE"
    assert format_plate("京A·12345") == "京A·12345"


def test_plate_key_ignores_separators() -> None:
    assert plate_key("京A·12345") == plate_key("京a 12345") == "京A12345"
    assert plate_key("ab12 cde") == plate_key("AB12-CDE") == "AB12CDE"
