"""The versioned JSON wire format that the kiosk, the tablet and the sync server speak.

Every domain record (``shared.domain``) goes on the wire as a JSON object with one member
per dataclass field, and comes off it through ``from_wire``, which checks it strictly
before building the record. Devices send them as the fields of changes
(``shared.sync_protocol``).

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
  become its default. Any change to the shape of a record therefore bumps the protocol's
  ``SCHEMA_VERSION`` (``shared.sync_protocol``), and the server refuses versions it does
  not know instead of guessing. Optional fields that are absent take their defaults.
* **What is checked here** is how values are *represented* (UUIDs in lowercase canonical
  form, SHA-256 as 64 lowercase hex digits, phone numbers in E.164, positions within
  0..1, grades and fuel within their scales, integer ids of users and devices positive).
  Whether a VIN's check digit or a plate is plausible is business validation, not the
  wire's business.
* **Split by job**: the value readers are in ``shared.wire_reading``, the field and
  record rules (with the column bounds ``MAX_LENGTHS``) in ``shared.wire_rules``.
* **Canonical JSON** (``canonical_json``) is what gets hashed and signed: keys sorted,
  no spaces, UTF-8 without escapes, the value rules above. The same record always gives
  the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Any, TypeVar, overload

from shared.domain import (
    Appointment,
    Approval,
    Belongings,
    Consent,
    Customer,
    DamageMark,
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
from shared.i18n import Text
from shared.validation import FieldIssue
from shared.wire_reading import INVALID, read_record
from shared.wire_rules import MAX_LENGTHS, MAX_TEXT_CHARS, MAX_WHOLE_NUMBER, _shown

__all__ = [
    "KINDS",
    "KIND_NAMES",
    "MAX_LENGTHS",
    "MAX_TEXT_CHARS",
    "MAX_WHOLE_NUMBER",
    "Issue",
    "WireError",
    "canonical_json",
    "canonical_sha256",
    "from_wire",
    "problems",
    "sha256_hex",
    "to_wire",
]

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


# --- reading --------------------------------------------------------------------------


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
    issues: list[Issue] = []
    record = read_record(record_type, data, "", issues)
    if issues or record is INVALID:
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
