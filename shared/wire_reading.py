"""Reading values off the wire for ``shared.wire.from_wire``: one reader per type.

A reader takes a JSON value, the path of the field and the list of issues found so far;
it returns the value in its domain type, or ``INVALID`` after recording why not. The
reading of each record type is worked out once (``_record_plan``) and used for every
record.
"""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Callable
from dataclasses import MISSING, fields, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, get_args, get_origin, get_type_hints

from shared.domain import StrokePoint
from shared.i18n import Text
from shared.wire_rules import (
    _RECORD_RULES,
    _UNIT,
    MAX_LENGTHS,
    MAX_TEXT_CHARS,
    MAX_WHOLE_NUMBER,
    Issue,
    _allowed,
    _at_least,
    _join,
    _record_findings,
    _Rule,
    _rules_for,
    _shown,
)

_REQUIRED = Text("This field is required.")
_UNKNOWN_FIELD = Text("This field is not part of the record; check its spelling.")
_BAD_DATETIME = Text("Expected a date and time in UTC, such as 2024-05-01T08:30:00.000Z.")
_NAIVE_DATETIME = Text("The time must say its time zone; end it with Z for UTC.")
_BAD_DATE = Text("Expected a date, such as 2024-05-01.")
_BAD_DECIMAL = Text('Expected an amount written as text, such as "12.50".')
_BAD_POINT = Text("Expected a pen point written as [x, y, milliseconds].")

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


_DECIMAL_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?"
)


class _Invalid:
    """What a value that could not be read decodes to; its issues are already recorded."""


_INVALID = _Invalid()

_Issues = list[Issue]


def _wrong_type(hint: Any, path: str, issues: _Issues) -> _Invalid:
    issues.append(Issue(path, "wrong_type", _expected(hint)))
    return _INVALID


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

        def read_nested(value: Any, path: str, issues: _Issues) -> Any:
            return read_record(record_type, value, path, issues)

        return read_nested
    raise TypeError(f"no wire reading for {hint!r}")  # a field type this module lacks


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


def read_record(record_type: type[Any], data: Any, path: str, issues: _Issues) -> Any:
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


INVALID = _INVALID
