"""Tests for shared.validation: VINs, phones, mileage, e-mail, names, years and results.

Plates are in ``test_validation_plates.py``; every message in both languages in
``test_validation_messages.py``.
"""

from __future__ import annotations

from datetime import date

import pytest
from validation_fixtures import codes, fresh_catalogs  # noqa: F401  (fresh_catalogs: autouse)

from shared.i18n import Text
from shared.validation import (
    Checked,
    FieldIssue,
    ValidationError,
    check_email,
    check_mileage,
    check_name,
    check_phone,
    check_plate,
    check_vin,
    check_year,
    validate_all,
    vin_check_digit,
)

# --------------------------------------------------------------------------- VIN


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1M8GDM9AXKP042788", "1M8GDM9AXKP042788"),  # the classic example, check digit X
        ("11111111111111111", "11111111111111111"),
        ("1HGCM82633A004352", "1HGCM82633A004352"),  # Honda Accord
        ("LSVAU218XN2183294", "LSVAU218XN2183294"),  # Chinese WMI, check digit X
        ("  1m8-gdm9ax kp042788 ", "1M8GDM9AXKP042788"),  # case, spaces, dashes
        ("１ＨＧＣＭ８２６３３Ａ００４３５２", "1HGCM82633A004352"),  # full-width from an IME
    ],
)
def test_valid_vins_are_normalised_without_issues(raw: str, expected: str) -> None:
    result = check_vin(raw)
    assert result.ok
    assert result.issues == ()
    assert result.value == expected


@pytest.mark.parametrize(
    ("vin", "digit"),
    [
        ("1M8GDM9AXKP042788", "X"),
        ("1HGCM82633A004352", "3"),
        ("11111111111111111", "1"),
        ("LSVAU2180N2183294", "X"),
        ("WVWZZZ1JZXW000001", "0"),
    ],
)
def test_vin_check_digit(vin: str, digit: str) -> None:
    assert vin_check_digit(vin) == digit


def test_vin_check_digit_refuses_an_invalid_vin() -> None:
    with pytest.raises(ValueError):
        vin_check_digit("1M8GDM9AXKP04278")


@pytest.mark.parametrize(
    ("vin", "expected", "actual"),
    [
        ("LSVAU2180N2183294", "X", "0"),  # Chinese VIN with a wrong 9th character
        ("LSVAU218XN2183295", "1", "X"),  # the valid one with its last digit changed
        ("1HGCM82633A004353", "5", "3"),  # Honda with one digit mistyped
        ("WVWZZZ1JZXW000001", "0", "Z"),  # European: no check digit, Z as filler
    ],
)
def test_wrong_check_digit_is_only_a_warning(vin: str, expected: str, actual: str) -> None:
    result = check_vin(vin)
    assert result.ok
    assert result.value == vin
    assert result.errors == ()
    (warning,) = result.warnings
    assert warning.code == "vin_check_digit"
    assert warning.severity == "warning"
    assert warning.message.params == {"expected": expected, "actual": actual}
    english = warning.message.render("en")
    assert "9th character" in english
    assert f"should be {expected}, not {actual}" in english
    assert "registration document" in english


@pytest.mark.parametrize(
    ("raw", "expected_codes"),
    [
        ("", ["vin_missing"]),
        (None, ["vin_missing"]),
        ("1M8GDM9AXKP04278", ["vin_length"]),
        ("1M8GDM9AXKP0427888", ["vin_length"]),
        ("1M8GDM9AXKPO42788", ["vin_letters_ioq"]),  # O instead of 0
        ("1M8GDM9AXKPQ42788", ["vin_letters_ioq"]),
        ("IM8GDM9AXKP042788", ["vin_letters_ioq"]),
        ("1M8GDM9AXKP04278*", ["vin_characters"]),
        ("1M8GDM9AXKP0427Ä8", ["vin_characters"]),
        ("1M8GDM9AXKPO4278", ["vin_length", "vin_letters_ioq"]),
    ],
)
def test_invalid_vins_are_errors(raw: str | None, expected_codes: list[str]) -> None:
    result = check_vin(raw)
    assert not result.ok
    assert result.value is None
    assert codes(result) == expected_codes
    assert all(issue.severity == "error" for issue in result.issues)


def test_vin_messages_are_specific() -> None:
    assert check_vin("1M8GDM9AXKP04278").issues[0].message.render("en") == (
        "A VIN has exactly 17 characters — this one has 16."
    )
    assert check_vin("1M8GDM9AXKPO42788").issues[0].message.render("en") == (
        "A VIN never contains the letters I, O or Q — did you mean 1 or 0?"
    )
    assert "“*”" in check_vin("1M8GDM9AXKP04278*").issues[0].message.render("en")


def test_vin_issue_uses_the_given_field_name() -> None:
    assert check_vin("", field="vehicle.vin").issues[0].field == "vehicle.vin"


# --------------------------------------------------------------------------- phones


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+8613812345678",
        "+86 138 1234 5678",
        "0086 138 1234 5678",
        "8613812345678",
        "(+86) 138.1234.5678",
        "１３８１２３４５６７８",
    ],
)
def test_chinese_mobile_forms(raw: str) -> None:
    result = check_phone(raw)
    assert result.ok
    assert result.value == "+8613812345678"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+4915123456789", "CN", "+4915123456789"),
        ("004915123456789", "CN", "+4915123456789"),
        ("+1 202-555-0123", "generic", "+12025550123"),
        ("+44 20 7946 0958", "generic", "+442079460958"),
        ("0044 20 7946 0958", "generic", "+442079460958"),
        ("+8613912345678", "generic", "+8613912345678"),
        ("+12345678", "generic", "+12345678"),  # 8 digits: the shortest
        ("+123456789012345", "generic", "+123456789012345"),  # 15 digits: the longest
    ],
)
def test_e164_numbers(raw: str, region: str, expected: str) -> None:
    result = check_phone(raw, region=region)  # type: ignore[arg-type]
    assert result.ok
    assert result.value == expected


@pytest.mark.parametrize(
    ("raw", "region", "code"),
    [
        ("", "CN", "phone_missing"),
        (None, "generic", "phone_missing"),
        ("1381234567", "CN", "phone_cn_mobile"),  # 10 digits
        ("138123456789", "CN", "phone_cn_mobile"),  # 12 digits
        ("12812345678", "CN", "phone_cn_mobile"),  # 12x is not a mobile prefix
        ("01012345678", "CN", "phone_cn_mobile"),  # a Beijing landline
        ("+8601012345678", "CN", "phone_cn_mobile"),
        ("138abc45678", "CN", "phone_characters"),
        ("138+12345678", "CN", "phone_characters"),
        ("13812345678", "generic", "phone_e164"),  # no country code
        ("+0123456789", "generic", "phone_e164"),
        ("+1234567", "generic", "phone_e164"),  # too short
        ("+1234567890123456", "generic", "phone_e164"),  # too long
        ("+4412", "CN", "phone_e164"),
    ],
)
def test_malformed_phones(raw: str | None, region: str, code: str) -> None:
    result = check_phone(raw, region=region)  # type: ignore[arg-type]
    assert not result.ok
    assert result.value is None
    assert codes(result) == [code]


def test_chinese_mobile_message() -> None:
    (issue,) = check_phone("1381234567", field="contact_phone").issues
    assert issue.field == "contact_phone"
    assert issue.message.render("en").startswith(
        "A mobile number in China has 11 digits and starts with 1"
    )


# --------------------------------------------------------------------------- mileage


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0, 0),
        (123456, 123456),
        ("123456", 123456),
        ("123,456", 123456),
        ("123 456", 123456),
        ("1,234,567", 1234567),
        ("12\u00a0345 km", 12345),
        (" 98765公里 ", 98765),
        ("１２３４５", 12345),
        (2_000_000, 2_000_000),
        ("2,000,000", 2_000_000),
    ],
)
def test_valid_mileage(raw: int | str, expected: int) -> None:
    result = check_mileage(raw)
    assert result.ok
    assert result.issues == ()
    assert result.value == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (None, "mileage_missing"),
        ("", "mileage_missing"),
        ("   ", "mileage_missing"),
        ("abc", "mileage_not_number"),
        ("12.5", "mileage_not_number"),
        ("12,34", "mileage_not_number"),  # not a thousands grouping
        ("1,2345", "mileage_not_number"),
        (True, "mileage_not_number"),
        ("-5", "mileage_negative"),
        (-1, "mileage_negative"),
        (2_000_001, "mileage_too_high"),
        ("9,999,999", "mileage_too_high"),
    ],
)
def test_invalid_mileage(raw: object, code: str) -> None:
    result = check_mileage(raw)  # type: ignore[arg-type]
    assert not result.ok
    assert result.value is None
    assert codes(result) == [code]


def test_too_high_mileage_message() -> None:
    (issue,) = check_mileage(3_000_000).issues
    assert issue.message.render("en").startswith(
        "That is more than any car drives — please check the odometer"
    )
    assert "2,000,000" in issue.message.render("en")


@pytest.mark.parametrize(
    ("raw", "previous", "warning_code"),
    [
        (50_000, 60_000, "mileage_below_previous"),
        (59_999, 60_000, "mileage_below_previous"),
        (160_001, 60_000, "mileage_jump"),
        (60_000, 60_000, None),
        (160_000, 60_000, None),  # exactly 100,000 more is still plausible
        (75_000, 60_000, None),
        (75_000, None, None),
    ],
)
def test_mileage_compared_with_previous_reading(
    raw: int, previous: int | None, warning_code: str | None
) -> None:
    result = check_mileage(raw, previous_km=previous)
    assert result.ok
    assert result.value == raw
    assert [w.code for w in result.warnings] == ([warning_code] if warning_code else [])


def test_mileage_warnings_mention_previous_reading() -> None:
    (low,) = check_mileage(50_000, previous_km=60_000).warnings
    assert "60,000 km" in low.message.render("en")
    assert "60,000 公里" in low.message.render("zh_CN")
    (jump,) = check_mileage(200_000, previous_km=60_000).warnings
    assert "140,000 km more than the 60,000 km" in jump.message.render("en")


# --------------------------------------------------------------------------- e-mail, name, year


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("zhang.wei@example.com", "zhang.wei@example.com"),
        (" Zhang.Wei@Example.COM ", "Zhang.Wei@example.com"),
        ("zhang＠qq.com", "zhang@qq.com"),  # full-width @ from a Chinese keyboard
        ("a+tag@mail.example.cn", "a+tag@mail.example.cn"),
    ],
)
def test_valid_emails(raw: str, expected: str) -> None:
    result = check_email(raw)
    assert result.ok
    assert result.value == expected


@pytest.mark.parametrize(
    "raw",
    ["zhang", "zhang@", "@example.com", "zhang@example", "zhang wei@example.com",
     "zhang..wei@example.com", "zhang@exa_mple.com", "zhang@@example.com", "a@b.c"],
)  # fmt: skip
def test_invalid_emails(raw: str) -> None:
    result = check_email(raw)
    assert not result.ok
    assert codes(result) == ["email_format"]


def test_empty_email_and_name_are_fine_unless_required() -> None:
    assert check_email("  ") == Checked(value=None, issues=())
    assert codes(check_email("", required=True)) == ["email_missing"]
    assert check_name(None) == Checked(value=None, issues=())
    assert codes(check_name(" ", required=True)) == ["name_missing"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("  Zhang   Wei ", "Zhang Wei"), ("欧阳娜娜", "欧阳娜娜"), ("A" * 80, "A" * 80)],
)
def test_valid_names(raw: str, expected: str) -> None:
    assert check_name(raw, required=True).value == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("A" * 81, "name_too_long"),
        ("Zhang\x00Wei", "name_characters"),
        ("Zhang\x1b[31mWei", "name_characters"),
        ("abc\u202edcba", "name_characters"),
    ],
)
def test_invalid_names(raw: str, code: str) -> None:
    assert codes(check_name(raw)) == [code]


@pytest.mark.parametrize(
    ("raw", "expected"), [(1950, 1950), ("2019", 2019), (" 2027 ", 2027), (2026, 2026)]
)
def test_valid_years(raw: int | str, expected: int) -> None:
    assert check_year(raw, today=date(2026, 3, 1)).value == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (None, "year_missing"),
        ("", "year_missing"),
        ("19x9", "year_not_number"),
        ("2019.5", "year_not_number"),
        (-2019, "year_not_number"),
        (1949, "year_range"),
        (2028, "year_range"),
    ],
)
def test_invalid_years(raw: int | str | None, code: str) -> None:
    result = check_year(raw, today=date(2026, 3, 1))
    assert codes(result) == [code]
    assert result.value is None


def test_year_range_message() -> None:
    (issue,) = check_year(1900, today=date(2026, 3, 1)).issues
    assert issue.message.render("en") == "Please enter a year between 1950 and 2027."
    assert issue.message.render("zh_CN") == "请输入 1950 年至 2027 年之间的年份。"


def test_year_defaults_to_this_year() -> None:
    assert check_year(date.today().year + 1).ok
    assert not check_year(date.today().year + 2).ok


# --------------------------------------------------------------------------- results


def test_field_issue_to_dict() -> None:
    (issue,) = check_vin("1M8GDM9AXKP04278").issues
    assert issue.to_dict() == {
        "field": "vin",
        "code": "vin_length",
        "severity": "error",
        "message": "A VIN has exactly 17 characters — this one has 16.",
        "message_zh": "车辆识别代号（VIN）共 17 位，您输入了 16 位。",
    }


def test_checked_splits_errors_and_warnings() -> None:
    error = FieldIssue("a", "x", Text("Please enter a name."))
    warning = FieldIssue("a", "y", Text("Please enter a name."), severity="warning")
    mixed = Checked(value=None, issues=(error, warning))
    assert not mixed.ok
    assert mixed.errors == (error,)
    assert mixed.warnings == (warning,)
    assert Checked(value=1, issues=(warning,)).ok


def test_validate_all_returns_values_or_raises_with_every_issue() -> None:
    values = validate_all(vin=check_vin("1m8gdm9axkp042788"), km=check_mileage("1,000"))
    assert values == {"vin": "1M8GDM9AXKP042788", "km": 1000}

    with pytest.raises(ValidationError) as caught:
        validate_all(vin=check_vin("WVWZZZ1JZXW000001"), plate=check_plate("台A12345"))
    assert [i.code for i in caught.value.issues] == ["vin_check_digit", "plate_province"]
    assert caught.value.to_dicts()[1]["field"] == "plate"
    assert "plate:" in str(caught.value)


def test_warnings_alone_do_not_raise() -> None:
    assert validate_all(vin=check_vin("WVWZZZ1JZXW000001")) == {"vin": "WVWZZZ1JZXW000001"}
