"""The rules a record on the wire keeps beyond its types (``shared.wire``).

Field rules (ids are UUIDs, positions within 0..1, grades within their scales, text
within its column's length: ``MAX_LENGTHS``) and record rules (a walk-around's marks
belong to it). Each rule yields findings: (path below the field, code, message).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from enum import Enum
from typing import Any

from shared.domain import (
    TYRE_POSITIONS,
    Appointment,
    Approval,
    Belongings,
    Consent,
    Customer,
    DamageMark,
    ImageType,
    PhotoPin,
    PhotoRef,
    Quote,
    QuoteLine,
    Signature,
    Vehicle,
    Visit,
    VisitNote,
    Walkaround,
)
from shared.i18n import LANGUAGES, Text
from shared.sync_protocol import is_sha256, is_uuid
from shared.validation import MAX_MILEAGE_KM, FieldIssue

Issue = FieldIssue
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_E164_RE = re.compile(r"\+[1-9][0-9]{1,14}")
_Issues = list[Issue]
_BAD_UUID = Text("Expected an id in UUID form, such as 123e4567-e89b-42d3-a456-426614174000.")
_BAD_SHA256 = Text("Expected a SHA-256 fingerprint: 64 lowercase hexadecimal characters.")
_BAD_PHONE = Text("Expected a phone number in international form, such as +8613812345678.")
_BLANK = Text("This cannot be left empty.")
_BAD_CURRENCY = Text("Expected a three-letter currency code, such as CNY.")
_BAD_IP = Text("Expected an IP address.")


def _allowed(values: Iterable[Any]) -> str:
    return ", ".join(str(value.value if isinstance(value, Enum) else value) for value in values)


def _shown(value: Any) -> str:
    """A value quoted in a message, short enough for a phone screen."""
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 40 else text[:39] + "…"


# Bounds every value on the wire keeps, so that any of them fits the server's columns
# (docs/sync.md "What the server trusts"): text of at most MAX_TEXT_CHARS characters
# (shorter where its column is, see MAX_LENGTHS) and whole numbers that fit 32 bits.
MAX_TEXT_CHARS = 10_000
MAX_WHOLE_NUMBER = 2**31 - 1


def _join(path: str, name: str) -> str:
    if not path or name.startswith(("[", ".")):
        return path + name
    return f"{path}.{name}" if name else path


# --- reading: field rules ------------------------------------------------------------

# A finding is (path below the field, code, message); a rule yields findings for a value
# that has already been read with the right type.
_Finding = tuple[str, str, Text]
_Rule = Callable[[Any], Iterable[_Finding]]


def _record_findings(findings: Iterable[_Finding], path: str, issues: _Issues) -> None:
    issues.extend(Issue(_join(path, below), code, message) for below, code, message in findings)


def _uuid(value: str) -> Iterator[_Finding]:
    if not is_uuid(value):
        yield "", "bad_uuid", _BAD_UUID


def _sha256(value: str) -> Iterator[_Finding]:
    if not is_sha256(value):
        yield "", "bad_sha256", _BAD_SHA256


def _phone(value: str) -> Iterator[_Finding]:
    if value and not _E164_RE.fullmatch(value):
        yield "", "bad_phone", _BAD_PHONE


def _not_blank(value: str) -> Iterator[_Finding]:
    if not value.strip():
        yield "", "blank", _BLANK


def _currency(value: str) -> Iterator[_Finding]:
    if not _CURRENCY_RE.fullmatch(value):
        yield "", "bad_currency", _BAD_CURRENCY


def _ip_address(value: str) -> Iterator[_Finding]:
    if value:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            yield "", "bad_ip_address", _BAD_IP


def _between(low: int | float | Decimal, high: int | float | Decimal) -> _Rule:
    message = Text(
        "Must be between {minimum} and {maximum}.",
        params={"minimum": str(low), "maximum": str(high)},
    )

    def rule(value: Any) -> Iterator[_Finding]:
        if not low <= value <= high:
            yield "", "out_of_range", message

    return rule


def _at_least(low: int) -> _Rule:
    message = Text("Must be at least {minimum}.", params={"minimum": str(low)})

    def rule(value: Any) -> Iterator[_Finding]:
        if value < low:
            yield "", "out_of_range", message

    return rule


def _one_of(allowed: Iterable[str]) -> _Rule:
    choices = tuple(allowed)

    def rule(value: str) -> Iterator[_Finding]:
        if value not in choices:
            yield (
                "",
                "unknown_value",
                Text(
                    "Unknown value {value}; expected one of: {allowed}.",
                    params={"value": _shown(value), "allowed": _allowed(choices)},
                ),
            )

    return rule


def _each(rule: _Rule) -> _Rule:
    def each(values: list[Any]) -> Iterator[_Finding]:
        for index, value in enumerate(values):
            for below, code, message in rule(value):
                yield f"[{index}]{below}", code, message

    return each


def _each_key(rule: _Rule) -> _Rule:
    def each(entries: dict[str, Any]) -> Iterator[_Finding]:
        for key in entries:
            for below, code, message in rule(key):
                yield f".{key}{below}", code, message

    return each


def _each_value(rule: _Rule) -> _Rule:
    def each(entries: dict[str, Any]) -> Iterator[_Finding]:
        for key, value in entries.items():
            for below, code, message in rule(value):
                yield f".{key}{below}", code, message

    return each


_UNIT = _between(0, 1)  # positions on a drawing, a photo or the signature pad
_NOT_NEGATIVE = _at_least(0)
_COUNTS_FROM_ONE = _at_least(1)

_MILEAGE = _between(0, MAX_MILEAGE_KM)

# The length of the server's column for text fields that have one (a test checks them
# against sync_server.models): what fits here fits there.
MAX_LENGTHS: dict[tuple[type, str], int] = {
    (Customer, "name"): 120,
    (Customer, "phone"): 20,
    (Customer, "email"): 254,
    (Vehicle, "plate"): 16,
    (Vehicle, "plate_region"): 10,
    (Vehicle, "vin"): 17,
    (Vehicle, "make"): 60,
    (Vehicle, "model"): 60,
    (Appointment, "code"): 12,
    (Visit, "ticket_number"): 16,
    (Visit, "status_token"): 43,
    (Quote, "option_label"): 120,
    (Quote, "currency"): 3,
    (Approval, "ip_address"): 45,
    (Approval, "user_agent"): 400,
}

# Besides these, every text field named ``id`` or ``*_id`` must be a UUID.
_FIELD_RULES: dict[tuple[type, str], tuple[_Rule, ...]] = {
    (Customer, "phone"): (_phone,),
    (Vehicle, "plate"): (_not_blank,),
    (Vehicle, "year"): (_between(1886, 2100),),
    (Vehicle, "last_mileage_km"): (_MILEAGE,),
    (Appointment, "code"): (_not_blank,),
    (Appointment, "expected_duration_minutes"): (_COUNTS_FROM_ONE,),
    (Consent, "text_version"): (_not_blank,),
    (Consent, "text_sha256"): (_sha256,),
    (Consent, "language"): (_one_of(LANGUAGES),),
    (PhotoRef, "sha256"): (_sha256,),
    (PhotoRef, "size_bytes"): (_COUNTS_FROM_ONE,),
    (PhotoRef, "width"): (_COUNTS_FROM_ONE,),
    (PhotoRef, "height"): (_COUNTS_FROM_ONE,),
    (Signature, "signed_sha256"): (_sha256,),
    (PhotoPin, "photo_sha256"): (_sha256,),
    (PhotoPin, "x"): (_UNIT,),
    (PhotoPin, "y"): (_UNIT,),
    (DamageMark, "x"): (_UNIT,),
    (DamageMark, "y"): (_UNIT,),
    (DamageMark, "severity"): (_between(1, 3),),
    (Belongings, "keys_count"): (_NOT_NEGATIVE,),
    (Walkaround, "version"): (_COUNTS_FROM_ONE,),
    (Walkaround, "odometer_km"): (_MILEAGE,),
    (Walkaround, "fuel_eighths"): (_between(0, 8),),
    (Walkaround, "tyre_tread_mm"): (
        _each_key(_one_of(TYRE_POSITIONS)),
        _each_value(_between(0, 30)),
    ),
    (VisitNote, "text"): (_not_blank,),
    (Visit, "ticket_number"): (_not_blank,),
    (Visit, "mileage_in_km"): (_MILEAGE,),
    (Visit, "advisor_user_id"): (_COUNTS_FROM_ONE,),
    (QuoteLine, "description"): (_not_blank,),
    (QuoteLine, "hours"): (_NOT_NEGATIVE,),
    (QuoteLine, "labour_rate"): (_NOT_NEGATIVE,),
    (QuoteLine, "quantity"): (_NOT_NEGATIVE,),
    (QuoteLine, "unit_price"): (_NOT_NEGATIVE,),
    (QuoteLine, "photo_sha256s"): (_each(_sha256),),
    (Quote, "version"): (_COUNTS_FROM_ONE,),
    (Quote, "tax_rate"): (_between(0, 1),),
    (Quote, "currency"): (_currency,),
    (Approval, "quote_version"): (_COUNTS_FROM_ONE,),
    (Approval, "decisions"): (_each_key(_uuid),),
    (Approval, "ip_address"): (_ip_address,),
    (Approval, "safety_acknowledged"): (_each(_uuid),),
}


def _rules_for(record_type: type, name: str, hint: Any) -> tuple[_Rule, ...]:
    rules = _FIELD_RULES.get((record_type, name), ())
    is_text = hint is str or hint == str | None
    if is_text and (name == "id" or name.endswith("_id")):
        rules = (_uuid, *rules)
    return rules


# --- reading: whole records ----------------------------------------------------------


def _walkaround_agrees(walkaround: Walkaround) -> Iterator[_Finding]:
    photo_hashes = {photo.sha256 for photo in walkaround.photos}
    for index, mark in enumerate(walkaround.marks):
        if mark.walkaround_id != walkaround.id:
            yield (
                f"marks[{index}].walkaround_id",
                "mismatch",
                Text("This damage mark belongs to another walk-around."),
            )
        for pin_index, pin in enumerate(mark.pins):
            if pin.photo_sha256 not in photo_hashes:
                yield (
                    f"marks[{index}].pins[{pin_index}].photo_sha256",
                    "unknown_photo",
                    Text("This pin points at a photo that is not part of the walk-around."),
                )


def _signature_agrees(signature: Signature) -> Iterator[_Finding]:
    if signature.image is not None and signature.image.content_type != ImageType.png:
        yield "image.content_type", "not_png", Text("The signature picture must be a PNG image.")


def _quote_agrees(quote: Quote) -> Iterator[_Finding]:
    seen: set[str] = set()
    for index, line in enumerate(quote.lines):
        if line.id in seen:
            yield (
                f"lines[{index}].id",
                "duplicate",
                Text("Two lines of this quote have the same id."),
            )
        seen.add(line.id)


_RECORD_RULES: dict[type, Callable[[Any], Iterable[_Finding]]] = {
    Walkaround: _walkaround_agrees,
    Signature: _signature_agrees,
    Quote: _quote_agrees,
}
