"""The versioned JSON wire format that the kiosk, the tablet and the sync server speak.

Every domain record (``shared.domain``) goes on the wire as a JSON object with one member
per dataclass field, and comes off it through ``from_wire``, which checks it strictly
before building the record. Records travel wrapped in an envelope that names the schema
version and the kind of record::

    {"schema": 1, "kind": "walkaround", "id": "<uuid>", "data": {...}}

Choices, and why:

* **Values.** ``Decimal`` travels as text written out in full ("12.50", never "1.25E+1"
  nor a JSON number, which a reader may turn into a binary float); datetimes as UTC ISO
  8601 with milliseconds and ``Z``; dates as ``YYYY-MM-DD``; enums as their value;
  a signature's pen points compactly as ``[x, y, t_ms]``. Finite floats are allowed (pen
  and mark positions, tread depth); NaN and infinities are refused everywhere.
* **Strict reading.** A wrong type, a missing required field, an unknown enum value, a
  malformed UUID or SHA-256, a number out of range and an *unknown field* all fail with
  field-level ``Issue`` values (``{"field", "code", "message"}``; ``field`` is a path such
  as ``marks[0].pins[1].x``, relative to the record). Unknown fields are refused rather
  than ignored: a device that dropped fields it does not know would silently erase them
  when it sends an edited record back, and a misspelt optional field would silently
  become its default. Any change to the shape of a record therefore bumps
  ``SCHEMA_VERSION``, and a reader refuses schema versions it does not know
  (``schema_unsupported``) instead of guessing. Optional fields that are absent take their
  defaults.
* **What is checked here** is how values are *represented* (UUIDs in lowercase canonical
  form, SHA-256 as 64 lowercase hex digits, phone numbers in E.164, positions within
  0..1, grades and fuel within their scales, integer ids of users and devices positive).
  Whether a VIN's check digit or a plate is plausible is business validation, not the
  wire's business.
* **Canonical JSON** (``canonical_json``) is what gets hashed and signed: keys sorted,
  no spaces, UTF-8 without escapes, the value rules above. The same record always gives
  the same bytes.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import MISSING, fields, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from types import MappingProxyType
from typing import Any, TypeVar, get_args, get_origin, get_type_hints, overload

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
    StrokePoint,
    Vehicle,
    Visit,
    VisitNote,
    VisitPhoto,
    Walkaround,
)
from shared.i18n import LANGUAGES, Text
from shared.validation import MAX_MILEAGE_KM, FieldIssue

SCHEMA_VERSION = 1
SUPPORTED_SCHEMAS: frozenset[int] = frozenset({1})

KINDS: Mapping[str, type] = MappingProxyType(
    {
        "customer": Customer,
        "vehicle": Vehicle,
        "appointment": Appointment,
        "visit": Visit,
        "consent": Consent,
        "signature": Signature,
        "walkaround": Walkaround,
        "damage_mark": DamageMark,
        "quote": Quote,
        "quote_line": QuoteLine,
        "approval": Approval,
        "photo_ref": PhotoRef,
        "photo": VisitPhoto,
        "note": VisitNote,
    }
)
KIND_NAMES: Mapping[type, str] = MappingProxyType({cls: name for name, cls in KINDS.items()})

# Parts of records that can be read on their own too, though they never travel alone.
_PARTS: frozenset[type] = frozenset({Belongings, PhotoPin})

T = TypeVar("T")


# --- issues --------------------------------------------------------------------------


# One issue type across ``shared``: the same ``{"field", "code", "message"}`` shape (plus
# ``severity`` and ``message_zh`` in problem documents) that typed-in validation reports.
Issue = FieldIssue


class WireError(ValueError):
    """A record or envelope that cannot be read; ``issues`` says what and where."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues: list[Issue] = list(issues)
        super().__init__(
            "; ".join(
                f"{issue.field or '(record)'}: {issue.code}: {issue.message.render('en')}"
                for issue in self.issues
            )
        )

    @property
    def codes(self) -> dict[str, str]:
        """``{field: code}`` of the issues, handy for tests and logs."""
        return {issue.field: issue.code for issue in self.issues}

    def as_dicts(self, lang: str = "en") -> list[dict[str, str]]:
        """``{"field", "code", "message"}`` per issue, with the message in ``lang``."""
        return [
            {"field": issue.field, "code": issue.code, "message": issue.message.render(lang)}
            for issue in self.issues
        ]

    def to_dicts(self) -> list[dict[str, str]]:
        """The ``errors`` entries of a problem document, both languages in each."""
        return [issue.to_dict() for issue in self.issues]


_REQUIRED = Text("This field is required.")
_UNKNOWN_FIELD = Text("This field is not part of the record; check its spelling.")
_BAD_UUID = Text("Expected an id in UUID form, such as 123e4567-e89b-42d3-a456-426614174000.")
_BAD_SHA256 = Text("Expected a SHA-256 fingerprint: 64 lowercase hexadecimal characters.")
_BAD_PHONE = Text("Expected a phone number in international form, such as +8613812345678.")
_BAD_DATETIME = Text("Expected a date and time in UTC, such as 2024-05-01T08:30:00.000Z.")
_NAIVE_DATETIME = Text("The time must say its time zone; end it with Z for UTC.")
_BAD_DATE = Text("Expected a date, such as 2024-05-01.")
_BAD_DECIMAL = Text('Expected an amount written as text, such as "12.50".')
_BAD_POINT = Text("Expected a pen point written as [x, y, milliseconds].")
_BLANK = Text("This cannot be left empty.")
_BAD_CURRENCY = Text("Expected a three-letter currency code, such as CNY.")
_BAD_IP = Text("Expected an IP address.")

_EXPECTED: dict[Any, Text] = {
    str: Text("Expected text."),
    int: Text("Expected a whole number."),
    float: Text("Expected a number."),
    bool: Text("Expected true or false."),
    Decimal: _BAD_DECIMAL,
    datetime: _BAD_DATETIME,
    date: _BAD_DATE,
    list: Text("Expected a list."),
    dict: Text("Expected an object."),
    StrokePoint: _BAD_POINT,
}


def _expected(hint: Any) -> Text:
    if isinstance(hint, type) and issubclass(hint, Enum):
        return Text("Expected one of: {allowed}.", params={"allowed": _allowed(hint)})
    if hint in _EXPECTED:
        return _EXPECTED[hint]
    if get_origin(hint) is list:
        return _EXPECTED[list]
    return _EXPECTED[dict]  # a dict or a nested record


def _allowed(values: Iterable[Any]) -> str:
    return ", ".join(str(value.value if isinstance(value, Enum) else value) for value in values)


def _shown(value: Any) -> str:
    """A value quoted in a message, short enough for a phone screen."""
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 40 else text[:39] + "…"


# --- writing -------------------------------------------------------------------------


def to_wire(record: Any) -> dict[str, Any]:
    """The record as JSON-ready values: one member per dataclass field, nothing left out."""
    if not is_dataclass(record) or isinstance(record, type):
        raise TypeError(f"to_wire expects a domain record, not {type(record).__name__}")
    return {spec.name: _plain(getattr(record, spec.name)) for spec in fields(record)}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return _plain(value.value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot go on the wire")
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value!r} cannot go on the wire")
        return format(value, "f")
    if isinstance(value, datetime):
        return _format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, StrokePoint):
        return [_plain(value.x), _plain(value.y), _plain(value.t_ms)]
    if is_dataclass(value) and not isinstance(value, type):
        return to_wire(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        plain: dict[str, Any] = {}
        for key, item in value.items():
            name = key.value if isinstance(key, Enum) else key
            if not isinstance(name, str):
                raise TypeError(f"object keys on the wire are text, not {type(key).__name__}")
            plain[name] = _plain(item)
        return plain
    raise TypeError(f"{type(value).__name__} cannot go on the wire")


def _format_datetime(moment: datetime) -> str:
    if moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} cannot go on the wire")
    in_utc = moment.astimezone(UTC).replace(tzinfo=None)
    return in_utc.isoformat(timespec="milliseconds") + "Z"


def canonical_json(value: Any) -> bytes:
    """The one byte string for ``value``: sorted keys, no spaces, UTF-8, wire value rules.

    Accepts records (as ``to_wire`` writes them) and plain JSON values with Decimal,
    datetime, date and enums inside. Raises ``ValueError`` for NaN, infinities and naive
    datetimes, ``TypeError`` for anything else that has no wire form.
    """
    return json.dumps(
        _plain(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_sha256(value: Any) -> str:
    """SHA-256 (lowercase hex) of ``canonical_json(value)``: what signatures bind to."""
    return sha256_hex(canonical_json(value))


# --- reading: values -----------------------------------------------------------------

_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_E164_RE = re.compile(r"\+[1-9][0-9]{1,14}")
_DECIMAL_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?"
)
_CURRENCY_RE = re.compile(r"[A-Z]{3}")


class _Invalid:
    """What a value that could not be read decodes to; its issues are already recorded."""


_INVALID = _Invalid()

_Issues = list[Issue]


def _join(path: str, name: str) -> str:
    if not path or name.startswith(("[", ".")):
        return path + name
    return f"{path}.{name}" if name else path


def _wrong_type(hint: Any, path: str, issues: _Issues) -> _Invalid:
    issues.append(Issue(path, "wrong_type", _expected(hint)))
    return _INVALID


# Bounds every value on the wire keeps, so that any of them fits the server's columns
# (docs/sync.md "What the server trusts"): text of at most MAX_TEXT_CHARS characters
# (shorter where its column is, see MAX_LENGTHS) without NUL characters or unpaired
# surrogates, and whole numbers that fit 32 bits.
MAX_TEXT_CHARS = 10_000
MAX_WHOLE_NUMBER = 2**31 - 1
_UNPAIRED_SURROGATE = re.compile("[\ud800-\udfff]")
_BAD_TEXT = Text("This text holds characters that cannot be kept (NUL or broken ones).")
_TEXT_TOO_LONG = Text("At most {n} characters.", params={"n": MAX_TEXT_CHARS})
_NUMBER_TOO_LARGE = Text(
    "Must be between {minimum} and {maximum}.",
    params={"minimum": str(-MAX_WHOLE_NUMBER - 1), "maximum": str(MAX_WHOLE_NUMBER)},
)


def _read_str(value: Any, path: str, issues: _Issues) -> Any:
    if not isinstance(value, str):
        return _wrong_type(str, path, issues)
    if len(value) > MAX_TEXT_CHARS:
        issues.append(Issue(path, "too_long", _TEXT_TOO_LONG))
        return _INVALID
    if "\x00" in value or (not value.isascii() and _UNPAIRED_SURROGATE.search(value)):
        issues.append(Issue(path, "bad_text", _BAD_TEXT))
        return _INVALID
    return value


def _read_bool(value: Any, path: str, issues: _Issues) -> Any:
    return value if isinstance(value, bool) else _wrong_type(bool, path, issues)


def _read_int(value: Any, path: str, issues: _Issues) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        if -MAX_WHOLE_NUMBER - 1 <= value <= MAX_WHOLE_NUMBER:
            return value
        issues.append(Issue(path, "out_of_range", _NUMBER_TOO_LARGE))
        return _INVALID
    return _wrong_type(int, path, issues)


def _read_float(value: Any, path: str, issues: _Issues) -> Any:
    # Some encoders write 1.0 as 1, so a whole number is fine where a float goes.
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            return number
    return _wrong_type(float, path, issues)


def _read_decimal(value: Any, path: str, issues: _Issues) -> Any:
    if isinstance(value, str) and _DECIMAL_RE.fullmatch(value):
        return Decimal(value)
    return _wrong_type(Decimal, path, issues)


def _read_datetime(value: Any, path: str, issues: _Issues) -> Any:
    match = _DATETIME_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return _wrong_type(datetime, path, issues)
    if match.group(2) is None:
        issues.append(Issue(path, "naive_datetime", _NAIVE_DATETIME))
        return _INVALID
    try:
        moment = datetime.fromisoformat(value).astimezone(UTC)
    except (ValueError, OverflowError):
        issues.append(Issue(path, "bad_datetime", _BAD_DATETIME))
        return _INVALID
    # Cut to the millisecond the wire carries, so a record reads back equal to itself.
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _read_date(value: Any, path: str, issues: _Issues) -> Any:
    if not (isinstance(value, str) and _DATE_RE.fullmatch(value)):
        return _wrong_type(date, path, issues)
    try:
        return date.fromisoformat(value)
    except ValueError:
        issues.append(Issue(path, "bad_date", _BAD_DATE))
        return _INVALID


def _read_enum(enum: type[Enum], value: Any, path: str, issues: _Issues) -> Any:
    if not isinstance(value, str):
        return _wrong_type(enum, path, issues)
    try:
        return enum(value)
    except ValueError:
        issues.append(
            Issue(
                path,
                "unknown_value",
                Text(
                    "Unknown value {value}; expected one of: {allowed}.",
                    params={"value": _shown(value), "allowed": _allowed(enum)},
                ),
            )
        )
        return _INVALID


def _read_point(value: Any, path: str, issues: _Issues) -> Any:
    if not (isinstance(value, list) and len(value) == 3):
        return _wrong_type(StrokePoint, path, issues)
    before = len(issues)
    x = _read_float(value[0], f"{path}[0]", issues)
    y = _read_float(value[1], f"{path}[1]", issues)
    t_ms = _read_int(value[2], f"{path}[2]", issues)
    _record_findings(_UNIT(x) if x is not _INVALID else (), f"{path}[0]", issues)
    _record_findings(_UNIT(y) if y is not _INVALID else (), f"{path}[1]", issues)
    _record_findings(_at_least(0)(t_ms) if t_ms is not _INVALID else (), f"{path}[2]", issues)
    return StrokePoint(x, y, t_ms) if len(issues) == before else _INVALID


_SCALAR_READERS: dict[Any, Callable[[Any, str, _Issues], Any]] = {
    str: _read_str,
    bool: _read_bool,
    int: _read_int,
    float: _read_float,
    Decimal: _read_decimal,
    datetime: _read_datetime,
    date: _read_date,
    StrokePoint: _read_point,
}


def _read(value: Any, hint: Any, path: str, issues: _Issues) -> Any:
    """Read ``value`` as the type ``hint``; on failure record issues, return ``_INVALID``."""
    return _reader(hint)(value, path, issues)


_Reader = Callable[[Any, str, _Issues], Any]


@cache
def _reader(hint: Any) -> _Reader:
    """The reading of ``hint``, worked out once per type (records are read a lot)."""
    origin = get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        (inner,) = [arg for arg in get_args(hint) if arg is not type(None)]
        read_inner = _reader(inner)

        def read_optional(value: Any, path: str, issues: _Issues) -> Any:
            return None if value is None else read_inner(value, path, issues)

        return read_optional
    if origin is list:
        (item_hint,) = get_args(hint)
        read_item = _reader(item_hint)

        def read_list(value: Any, path: str, issues: _Issues) -> Any:
            if not isinstance(value, list):
                return _wrong_type(hint, path, issues)
            items = [
                read_item(item, f"{path}[{index}]", issues) for index, item in enumerate(value)
            ]
            return _INVALID if any(item is _INVALID for item in items) else items

        return read_list
    if origin is dict:
        _, item_hint = get_args(hint)
        read_entry = _reader(item_hint)

        def read_dict(value: Any, path: str, issues: _Issues) -> Any:
            if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
                return _wrong_type(hint, path, issues)
            entries = {
                key: read_entry(item, f"{path}.{key}", issues) for key, item in value.items()
            }
            return _INVALID if any(item is _INVALID for item in entries.values()) else entries

        return read_dict
    # Each of these refuses None as the wrong type, as an absent value of a required
    # type should be.
    if hint in _SCALAR_READERS:
        return _SCALAR_READERS[hint]
    if isinstance(hint, type) and issubclass(hint, Enum):
        enum: type[Enum] = hint

        def read_enum(value: Any, path: str, issues: _Issues) -> Any:
            return _read_enum(enum, value, path, issues)

        return read_enum
    if isinstance(hint, type) and is_dataclass(hint):
        record_type: type[Any] = hint

        def read_record(value: Any, path: str, issues: _Issues) -> Any:
            return _read_record(record_type, value, path, issues)

        return read_record
    raise TypeError(f"no wire reading for {hint!r}")  # a field type this module lacks


# --- reading: field rules ------------------------------------------------------------

# A finding is (path below the field, code, message); a rule yields findings for a value
# that has already been read with the right type.
_Finding = tuple[str, str, Text]
_Rule = Callable[[Any], Iterable[_Finding]]


def _record_findings(findings: Iterable[_Finding], path: str, issues: _Issues) -> None:
    issues.extend(Issue(_join(path, below), code, message) for below, code, message in findings)


def _uuid(value: str) -> Iterator[_Finding]:
    if not _UUID_RE.fullmatch(value):
        yield "", "bad_uuid", _BAD_UUID


def _sha256(value: str) -> Iterator[_Finding]:
    if not _SHA256_RE.fullmatch(value):
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


@cache
def _field_types(record_type: type) -> dict[str, Any]:
    return get_type_hints(record_type)


# name, required, reader, rules, the most characters (per field; checked inline, being
# the commonest rule) with its message, and the names of all fields.
_FieldPlan = tuple[str, bool, _Reader, tuple[_Rule, ...], int | None, Text | None]
_RecordPlan = tuple[tuple[_FieldPlan, ...], frozenset[str]]


def _too_long(limit: int | None) -> Text | None:
    return None if limit is None else Text("At most {n} characters.", params={"n": str(limit)})


@cache
def _record_plan(record_type: type) -> _RecordPlan:
    """How to read each field of ``record_type``: worked out once, used for every record."""
    hints = _field_types(record_type)
    plan = tuple(
        (
            spec.name,
            spec.default is MISSING and spec.default_factory is MISSING,
            _reader(hints[spec.name]),
            _rules_for(record_type, spec.name, hints[spec.name]),
            MAX_LENGTHS.get((record_type, spec.name)),
            _too_long(MAX_LENGTHS.get((record_type, spec.name))),
        )
        for spec in fields(record_type)
    )
    return plan, frozenset(spec.name for spec in fields(record_type))


def _read_record(record_type: type[Any], data: Any, path: str, issues: _Issues) -> Any:
    if not isinstance(data, dict):
        return _wrong_type(dict, path, issues)
    before = len(issues)
    plan, known = _record_plan(record_type)
    values: dict[str, Any] = {}
    for name, required, read, rules, max_chars, too_long in plan:
        where = f"{path}.{name}" if path else name
        if name not in data:
            if required:
                issues.append(Issue(where, "required", _REQUIRED))
            continue
        value = read(data[name], where, issues)
        if value is _INVALID:
            continue
        if max_chars is not None and value is not None and len(value) > max_chars:
            issues.append(Issue(where, "too_long", too_long))  # type: ignore[arg-type]
            continue
        if value is not None:
            for rule in rules:
                _record_findings(rule(value), where, issues)
        values[name] = value
    for name in data:
        if name not in known:
            issues.append(Issue(_join(path, str(name)), "unknown_field", _UNKNOWN_FIELD))
    if len(issues) > before:
        return _INVALID
    record = record_type(**values)
    record_rule = _RECORD_RULES.get(record_type)
    if record_rule is not None:
        _record_findings(record_rule(record), path, issues)
    return record if len(issues) == before else _INVALID


def _record_type(kind: type[T] | str) -> type[T]:
    if isinstance(kind, str):
        if kind not in KINDS:
            raise WireError([_unknown_kind(kind)])
        return KINDS[kind]
    if kind in KIND_NAMES or kind in _PARTS:
        return kind
    raise TypeError(f"{kind!r} has no wire form")


def _unknown_kind(kind: Any) -> Issue:
    return Issue(
        "kind",
        "unknown_kind",
        Text("Unknown kind of record: {kind}.", params={"kind": _shown(kind)}),
    )


@overload
def from_wire(kind: type[T], data: Any) -> T: ...
@overload
def from_wire(kind: str, data: Any) -> Any: ...
def from_wire(kind: type[Any] | str, data: Any) -> Any:
    """Read a record of ``kind`` (a domain class or its kind name) from JSON values.

    Raises ``WireError`` listing every issue found, each at its field path.
    """
    record_type = _record_type(kind)
    issues: _Issues = []
    record = _read_record(record_type, data, "", issues)
    if issues or isinstance(record, _Invalid):
        raise WireError(issues)
    return record


def problems(record: Any) -> list[Issue]:
    """What ``from_wire`` would refuse in a record made on this device (empty when fine).

    Values with no wire form at all (NaN, naive datetimes) raise as in ``to_wire``.
    """
    try:
        from_wire(type(record), to_wire(record))
    except WireError as error:
        return error.issues
    return []


# --- envelopes -----------------------------------------------------------------------

_ENVELOPE_KEYS = frozenset({"schema", "kind", "id", "data"})


def _identity(record: Any) -> str:
    # A photo is known by its content; everything else by its id.
    return record.sha256 if isinstance(record, PhotoRef) else record.id


def envelope(record: Any) -> dict[str, Any]:
    """``{"schema": 1, "kind": ..., "id": ..., "data": {...}}`` for a domain record."""
    kind = KIND_NAMES.get(type(record))
    if kind is None:
        raise TypeError(f"{type(record).__name__} does not travel in an envelope")
    return {
        "schema": SCHEMA_VERSION,
        "kind": kind,
        "id": _identity(record),
        "data": to_wire(record),
    }


def open_envelope(message: Any) -> Any:
    """The record inside an envelope; ``WireError`` when the envelope or record is wrong.

    The schema is checked first and alone: a version this software does not know may
    have changed anything else, so nothing more is read (``schema_unsupported``).
    _Issues inside the record carry paths relative to ``data``.
    """
    if not isinstance(message, dict):
        raise WireError([Issue("", "wrong_type", _EXPECTED[dict])])
    if "schema" not in message:
        raise WireError([Issue("schema", "required", _REQUIRED)])
    schema = message["schema"]
    if not isinstance(schema, int) or isinstance(schema, bool) or schema not in SUPPORTED_SCHEMAS:
        raise WireError(
            [
                Issue(
                    "schema",
                    "schema_unsupported",
                    Text(
                        "This app cannot read wire format version {schema}; please update it.",
                        params={"schema": _shown(schema)},
                    ),
                )
            ]
        )
    issues: _Issues = [
        Issue(str(name), "unknown_field", _UNKNOWN_FIELD)
        for name in message
        if name not in _ENVELOPE_KEYS
    ]
    for name in ("kind", "id", "data"):
        if name not in message:
            issues.append(Issue(name, "required", _REQUIRED))
    kind = message.get("kind")
    if "kind" in message and (not isinstance(kind, str) or kind not in KINDS):
        issues.append(_unknown_kind(kind))
    if issues:
        raise WireError(issues)
    record = from_wire(KINDS[kind], message["data"])
    if message["id"] != _identity(record):
        raise WireError(
            [
                Issue(
                    "id",
                    "mismatch",
                    Text("The envelope's id does not match the id of the record inside."),
                )
            ]
        )
    return record
