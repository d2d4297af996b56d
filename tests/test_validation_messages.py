"""Every issue ``shared.validation`` can give is exercised, and its message renders in
English and Simplified Chinese with the same placeholders.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from validation_fixtures import fresh_catalogs  # noqa: F401

import shared.validation as validation
from shared.i18n import translations
from shared.validation import (
    Checked,
    FieldIssue,
    check_email,
    check_mileage,
    check_name,
    check_phone,
    check_plate,
    check_vin,
    check_year,
)

# --------------------------------------------------------------------------- translations

# One input per issue code, so that every message is rendered at least once.
BAD_INPUTS: list[Checked[object]] = [
    check_vin(""),
    check_vin("1M8GDM9AXKP04278"),
    check_vin("1M8GDM9AXKPO42788"),
    check_vin("1M8GDM9AXKP04278*"),
    check_vin("LSVAU2180N2183294"),
    check_plate(""),
    check_plate("x", region="generic"),
    check_plate("A123456"),
    check_plate("台A12345"),
    check_plate("京A1234"),
    check_plate("京A1234567"),
    check_plate("京AI2345"),
    check_plate("京A1234$"),
    check_plate("京1A2345"),
    check_plate("京A1234港"),
    check_plate("京AM12345"),
    check_plate("京A12学45"),
    check_phone(""),
    check_phone("138abc45678"),
    check_phone("1381234567"),
    check_phone("1381234567", region="generic"),
    check_mileage(""),
    check_mileage("abc"),
    check_mileage(-1),
    check_mileage(2_000_001),
    check_mileage(1, previous_km=2),
    check_mileage(200_000, previous_km=2),
    check_email("", required=True),
    check_email("nope"),
    check_name("", required=True),
    check_name("a\x00"),
    check_name("a" * 81),
    check_year(""),
    check_year("abc"),
    check_year(1900),
]


def _module_messages() -> list[str]:
    from shared import field_issues, validation_plates

    return [
        msg
        for module in (validation, validation_plates, field_issues)
        for _, msg, _, _ in extract_from_file(
            "python", Path(module.__file__), keywords={"Text": None}
        )
    ]


def test_every_issue_code_is_exercised() -> None:
    produced = {issue.code for result in BAD_INPUTS for issue in result.issues}
    assert len(produced) == len(_module_messages())


@pytest.mark.parametrize(
    "issue", [issue for result in BAD_INPUTS for issue in result.issues], ids=lambda i: i.code
)
def test_every_message_renders_in_both_languages(issue: FieldIssue) -> None:
    english = issue.message.render("en")
    chinese = issue.message.render("zh_CN")
    assert english == issue.message.message.format(**issue.message.params)
    assert chinese != english
    assert any("\u4e00" <= c <= "\u9fff" for c in chinese)
    assert "{" not in chinese and "}" not in chinese
    for value in issue.message.params.values():
        assert str(value) in chinese


@pytest.mark.parametrize("message", _module_messages())
def test_every_message_has_a_translation_with_the_same_placeholders(message: str) -> None:
    chinese = translations("zh_CN", "shared").gettext(message)
    assert chinese != message

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    assert fields(chinese) == fields(message)
