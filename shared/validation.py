"""Field-level validation of what customers and advisors type in.

Every ``check_*`` function takes the raw input (as typed on the kiosk or tablet, or as
received by the server), normalises it and returns a :class:`Checked` result: the
normalised value and a tuple of :class:`FieldIssue` items. An issue has a severity: an
*error* means the value cannot be used; a *warning* means it can, but somebody should
look at it again (a VIN whose check digit does not add up, an odometer reading lower
than last time). ``Checked.value`` is ``None`` whenever there is an error.

Messages are :class:`shared.i18n.Text` values in plain words, rendered later in English
or Simplified Chinese (catalog domain ``shared``). Nothing here imports Flask or Kivy.

Rules implemented:

* VIN: ISO 3779, with the North American (FMVSS 115 / 49 CFR 565) check digit at
  position 9. China's GB 16735 uses the same check digit, but European and many other
  VINs do not, so a wrong check digit is only a warning.
* Chinese plates (GA 36-2018): standard blue/yellow plates, small and large new-energy
  (green) plates, and the 学 / 警 / 挂 / 港 / 澳 suffix plates.
* Phones: mainland Chinese mobiles and E.164 international numbers, returned as E.164.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date

from shared.field_issues import (
    Checked,
    FieldIssue,
    PhoneRegion,
    PlateKind,
    PlateRegion,
    Severity,
    ValidationError,
    _issue,
    _nfkc,
    _quoted,
    _result,
    validate_all,
)
from shared.i18n import Text
from shared.validation_plates import (
    NEW_ENERGY_KINDS,
    PLATE_SUFFIXES,
    PROVINCE_ABBREVIATIONS,
    check_plate,
    format_plate,
    normalize_plate,
    plate_key,
    plate_kind,
)

# --------------------------------------------------------------------------- VIN

VIN_LENGTH = 17
_VIN_VALUES: Mapping[str, int] = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS: tuple[int, ...] = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_SEPARATORS = re.compile(r"[\s\-]+")


def normalize_vin(raw: str | None) -> str:
    """Strip, drop spaces and dashes, uppercase (full-width characters made ASCII)."""
    return _VIN_SEPARATORS.sub("", _nfkc(raw)).upper()


def vin_check_digit(vin: str) -> str:
    """The check character (``0``-``9`` or ``X``) a 17-character VIN should have at 9."""
    if len(vin) != VIN_LENGTH or any(c not in _VIN_VALUES for c in vin):
        raise ValueError("a VIN of 17 characters from A-Z (not I, O, Q) and 0-9 is needed")
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def check_vin(raw: str | None, field: str = "vin") -> Checked[str]:
    """Normalise and check a vehicle identification number.

    Errors: missing, not 17 characters, characters other than A-Z/0-9, the letters
    I, O or Q. Warning: the check digit (9th character) does not match.
    """
    vin = normalize_vin(raw)
    issues: list[FieldIssue] = []
    if not vin:
        issues.append(
            _issue(
                field, "vin_missing", Text("Please enter the VIN (vehicle identification number).")
            )
        )
        return _result(vin, issues)
    if len(vin) != VIN_LENGTH:
        issues.append(
            _issue(
                field,
                "vin_length",
                Text(
                    "A VIN has exactly 17 characters — this one has {count}.",
                    domain="shared",
                    params=dict(count=len(vin)),
                ),
            )
        )
    if any(c in "IOQ" for c in vin):
        issues.append(
            _issue(
                field,
                "vin_letters_ioq",
                Text("A VIN never contains the letters I, O or Q — did you mean 1 or 0?"),
            )
        )
    strange = [c for c in vin if not ("A" <= c <= "Z" or "0" <= c <= "9")]
    if strange:
        issues.append(
            _issue(
                field,
                "vin_characters",
                Text(
                    "A VIN has only the letters A to Z and the digits 0 to 9. "
                    "Please remove: {characters}",
                    domain="shared",
                    params=dict(characters=_quoted(strange)),
                ),
            )
        )
    if not issues:
        expected = vin_check_digit(vin)
        if vin[8] != expected:
            issues.append(
                _issue(
                    field,
                    "vin_check_digit",
                    Text(
                        "The 9th character of a VIN is a check character worked out from "
                        "the others. For this VIN it should be {expected}, not {actual}. "
                        "Please compare the VIN with the vehicle registration document, "
                        "character by character. (Some cars made outside North America "
                        "and China do not use this check.)",
                        domain="shared",
                        params=dict(expected=expected, actual=vin[8]),
                    ),
                    severity="warning",
                )
            )
    return _result(vin, issues)


# --------------------------------------------------------------------------- phones

_PHONE_SEPARATORS = re.compile(r"[\s\-.()/]+")
_CN_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")


def check_phone(raw: str | None, region: PhoneRegion = "CN", field: str = "phone") -> Checked[str]:
    """Normalise a phone number to E.164 (``+8613812345678``).

    CN: a mainland mobile (11 digits, 13x-19x), optionally with +86, 0086 or 86 in
    front; a number starting with + (or 00 for abroad) is taken as international E.164.
    Generic: E.164 only — + (or 00), then 8 to 15 digits, the first not 0.
    """
    typed = _nfkc(raw)
    if not typed:
        return _result(
            typed, [_issue(field, "phone_missing", Text("Please enter a mobile number."))]
        )
    compact = _PHONE_SEPARATORS.sub("", typed)
    if not re.fullmatch(r"\+?[0-9]+", compact):
        text = Text("A phone number has only digits, spaces, dashes and perhaps a + at the start.")
        return _result(compact, [_issue(field, "phone_characters", text)])

    if region == "CN":
        national: str | None = None
        if compact.startswith("+86"):
            national = compact[3:]
        elif compact.startswith("0086"):
            national = compact[4:]
        elif compact.startswith("86") and len(compact) == 13:
            national = compact[2:]
        elif not compact.startswith(("+", "00")):
            national = compact
        if national is not None:
            if _CN_MOBILE.fullmatch(national):
                return _result(f"+86{national}", [])
            text = Text(
                "A mobile number in China has 11 digits and starts with 1, "
                "for example 138 1234 5678."
            )
            return _result(compact, [_issue(field, "phone_cn_mobile", text)])

    e164 = "+" + compact[2:] if compact.startswith("00") else compact
    if _E164.fullmatch(e164):
        return _result(e164, [])
    text = Text(
        "Please enter the number with its country code: a + and then 8 to 15 digits, "
        "for example +44 20 7946 0958."
    )
    return _result(compact, [_issue(field, "phone_e164", text)])


# --------------------------------------------------------------------------- mileage

MAX_MILEAGE_KM = 2_000_000
MILEAGE_JUMP_KM = 100_000
_MILEAGE_GROUPED = re.compile(r"[0-9]{1,3}(?:[,' \u00a0\u202f][0-9]{3})+")
_MILEAGE_UNIT = re.compile(r"\s*(?:km|公里)$", re.IGNORECASE)


def _km(value: int) -> str:
    return f"{value:,}"


def check_mileage(
    raw: int | str | None, previous_km: int | None = None, field: str = "mileage_km"
) -> Checked[int]:
    """Whole kilometres from the odometer, 0 to 2,000,000.

    Accepts an int or digits with thousands separators (``"123,456"``, ``"123 456"``)
    and an optional ``km``. Warnings when lower than ``previous_km`` (odometer replaced?)
    or more than 100,000 km above it.
    """
    text = "" if raw is None or isinstance(raw, int) else _MILEAGE_UNIT.sub("", _nfkc(raw))
    if raw is None or (isinstance(raw, str) and not text):
        missing = Text("Please enter the odometer reading in kilometres.")
        return _result(0, [_issue(field, "mileage_missing", missing)])
    value: int | None = None
    if isinstance(raw, int):
        value = None if isinstance(raw, bool) else raw
    else:
        negative = text.startswith("-")
        digits = text[1:].strip() if negative else text
        if digits.isascii() and digits.isdigit():
            value = int(digits)
        elif _MILEAGE_GROUPED.fullmatch(digits):
            value = int(re.sub(r"[^0-9]", "", digits))
        if value is not None and negative:
            value = -value
    if value is None:
        text_nan = Text(
            "Please enter the odometer reading as a whole number of kilometres, in digits."
        )
        return _result(0, [_issue(field, "mileage_not_number", text_nan)])
    if value < 0:
        text_neg = Text("The odometer reading cannot be negative.")
        return _result(0, [_issue(field, "mileage_negative", text_neg)])
    if value > MAX_MILEAGE_KM:
        text_high = Text(
            "That is more than any car drives — please check the odometer. "
            "The highest reading we accept is {maximum} km.",
            domain="shared",
            params=dict(maximum=_km(MAX_MILEAGE_KM)),
        )
        return _result(0, [_issue(field, "mileage_too_high", text_high)])
    issues: list[FieldIssue] = []
    if previous_km is not None:
        if value < previous_km:
            text_low = Text(
                "This is lower than the {previous_km} km recorded at the last visit. "
                "Has the odometer been replaced or reset? Please check the reading.",
                domain="shared",
                params=dict(previous_km=_km(previous_km)),
            )
            issues.append(_issue(field, "mileage_below_previous", text_low, "warning"))
        elif value - previous_km > MILEAGE_JUMP_KM:
            text_jump = Text(
                "This is {difference} km more than the {previous_km} km recorded at the "
                "last visit. Please check the reading.",
                domain="shared",
                params=dict(difference=_km(value - previous_km), previous_km=_km(previous_km)),
            )
            issues.append(_issue(field, "mileage_jump", text_jump, "warning"))
    return _result(value, issues)


# --------------------------------------------------------------------------- e-mail, name, year

_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_EMAIL_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_EMAIL_TLD = re.compile(r"[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59}")


def _email_is_valid(email: str) -> bool:
    local, at, domain = email.rpartition("@")
    if not at or len(email) > 254 or len(local) > 64:
        return False
    labels = domain.split(".")
    return (
        _EMAIL_LOCAL.fullmatch(local) is not None
        and len(labels) >= 2
        and all(_EMAIL_LABEL.fullmatch(label) for label in labels)
        and _EMAIL_TLD.fullmatch(labels[-1]) is not None
    )


def check_email(raw: str | None, field: str = "email", required: bool = False) -> Checked[str]:
    """A plain ``name@example.com`` address (ASCII); the domain is lowercased.

    Empty is fine unless ``required`` (value ``None``, no issue).
    """
    typed = _nfkc(raw)
    if not typed:
        if required:
            text = Text("Please enter an email address.")
            return _result(typed, [_issue(field, "email_missing", text)])
        return Checked(value=None)
    local, _, domain = typed.rpartition("@")
    email = f"{local}@{domain.lower()}" if local else typed
    if _email_is_valid(email):
        return _result(email, [])
    text = Text("This does not look like an email address. It should look like name@example.com.")
    return _result(email, [_issue(field, "email_format", text)])


MAX_NAME_LENGTH = 80
# Invisible direction overrides: used to disguise text, never part of a real name.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_name(raw: str | None, field: str = "name", required: bool = False) -> Checked[str]:
    """A person's name: trimmed, inner whitespace collapsed, at most 80 characters, no
    control characters. Empty is fine unless ``required`` (value ``None``, no issue)."""
    name = " ".join(unicodedata.normalize("NFC", raw or "").split())
    if not name:
        if required:
            return _result(name, [_issue(field, "name_missing", Text("Please enter a name."))])
        return Checked(value=None)
    issues: list[FieldIssue] = []
    if any(unicodedata.category(c) in ("Cc", "Cs") or c in _BIDI_CONTROLS for c in name):
        text = Text("The name has characters that cannot be shown. Please type it again.")
        issues.append(_issue(field, "name_characters", text))
    if len(name) > MAX_NAME_LENGTH:
        text = Text(
            "A name can have at most {maximum} characters — this one has {count}.",
            domain="shared",
            params=dict(maximum=MAX_NAME_LENGTH, count=len(name)),
        )
        issues.append(_issue(field, "name_too_long", text))
    return _result(name, issues)


FIRST_YEAR = 1950


def check_year(
    raw: int | str | None, field: str = "year", today: date | None = None
) -> Checked[int]:
    """A model or purchase year, 1950 to next year (``today`` for tests)."""
    last = (today or date.today()).year + 1
    text_value = "" if raw is None else _nfkc(raw)
    if not text_value:
        return _result(0, [_issue(field, "year_missing", Text("Please enter the year."))])
    if isinstance(raw, bool) or not (text_value.isascii() and text_value.isdigit()):
        text = Text("Please enter the year as four digits, for example 2019.")
        return _result(0, [_issue(field, "year_not_number", text)])
    year = int(text_value)
    if not FIRST_YEAR <= year <= last:
        text = Text(
            "Please enter a year between {first} and {last}.",
            domain="shared",
            params=dict(first=FIRST_YEAR, last=last),
        )
        return _result(0, [_issue(field, "year_range", text)])
    return _result(year, [])


__all__ = [
    "FIRST_YEAR",
    "MAX_MILEAGE_KM",
    "MAX_NAME_LENGTH",
    "MILEAGE_JUMP_KM",
    "NEW_ENERGY_KINDS",
    "PLATE_SUFFIXES",
    "PROVINCE_ABBREVIATIONS",
    "VIN_LENGTH",
    "Checked",
    "FieldIssue",
    "PhoneRegion",
    "PlateKind",
    "PlateRegion",
    "Severity",
    "ValidationError",
    "check_email",
    "check_mileage",
    "check_name",
    "check_phone",
    "check_plate",
    "check_vin",
    "check_year",
    "format_plate",
    "normalize_plate",
    "normalize_vin",
    "plate_key",
    "plate_kind",
    "validate_all",
    "vin_check_digit",
]
