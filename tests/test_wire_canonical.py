"""The wire format's canonical JSON: exact bytes, times in UTC to the millisecond, decimals
in full, no dependence on key order, and a refusal for what has no single meaning.
"""

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from shared.domain import (
    ConcernCode,
    ImageType,
    PhotoRef,
)
from shared.wire import (
    canonical_json,
    canonical_sha256,
    sha256_hex,
)

# --- canonical JSON --------------------------------------------------------------------


def test_canonical_json_bytes_are_exact() -> None:
    value = {
        "total": Decimal("12.50"),
        "at": datetime(2024, 5, 1, 8, 30, tzinfo=UTC),
        "name": "张三",
        "list": [1, 2.5, None, True],
        "concern": ConcernCode.brakes,
        "day": date(2024, 5, 1),
    }
    assert (
        canonical_json(value)
        == (
            '{"at":"2024-05-01T08:30:00.000Z","concern":"brakes","day":"2024-05-01",'
            '"list":[1,2.5,null,true],"name":"张三","total":"12.50"}'
        ).encode()
    )


def test_canonical_json_of_a_record_is_its_wire_form() -> None:
    photo = PhotoRef(sha256="ab" * 32, size_bytes=1, content_type=ImageType.png, width=2, height=3)
    assert canonical_json(photo) == (
        b'{"content_type":"image/png","height":3,"sha256":"' + b"ab" * 32 + b'","size_bytes":1,'
        b'"width":2}'
    )
    assert canonical_sha256(photo) == hashlib.sha256(canonical_json(photo)).hexdigest()
    assert sha256_hex(b"") == hashlib.sha256(b"").hexdigest()


def test_canonical_json_writes_times_in_utc_with_milliseconds() -> None:
    beijing = timezone(timedelta(hours=8))
    moment = datetime(2024, 5, 1, 16, 30, 5, 123_456, tzinfo=beijing)
    assert canonical_json(moment) == b'"2024-05-01T08:30:05.123Z"'


def test_canonical_json_writes_decimals_in_full() -> None:
    assert (
        canonical_json([Decimal("1E+2"), Decimal("0.10"), Decimal("-3")]) == b'["100","0.10","-3"]'
    )


def test_canonical_json_does_not_depend_on_key_order() -> None:
    assert canonical_json({"b": 1, "a": {"d": 2, "c": 3}}) == canonical_json(
        {"a": {"c": 3, "d": 2}, "b": 1}
    )


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), Decimal("NaN"), Decimal("Infinity"), datetime(2024, 5, 1)],
    ids=["nan", "inf", "decimal-nan", "decimal-inf", "naive-datetime"],
)
def test_canonical_json_refuses_values_with_no_single_meaning(value: Any) -> None:
    with pytest.raises(ValueError):
        canonical_json({"value": value})


def test_canonical_json_refuses_what_has_no_wire_form() -> None:
    with pytest.raises(TypeError):
        canonical_json({1, 2})
    with pytest.raises(TypeError):
        canonical_json({1: "one"})
