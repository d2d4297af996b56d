"""Values at and beyond every column's bounds, generated (issue 10, item 3): on SQLite
and PostgreSQL a push never answers 500, every valid change in it is applied, each bad
one is refused alone, and the device's queue keeps moving."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from server_fixtures import Shop
from sqlalchemy import Integer, String, func, select
from sync_changes import change, fields_of, push, walk_in

from shared import domain
from shared.hlc import wall_clock_ms
from sync_server import db
from sync_server.sync import projection_hook
from sync_server.sync.tables import SyncRecord

DEVICE_KINDS_WITH_TABLES = ("customer", "vehicle", "visit")


def _text_around(length: int) -> st.SearchStrategy[str]:
    sizes = st.sampled_from([length, length + 1, 2 * length + 7])
    letters = st.sampled_from(["a", "张", "\x00", "é", " "])
    repeated = st.tuples(sizes, letters).map(lambda pair: pair[1] * pair[0])
    return repeated | st.text(max_size=length + 2)


NUMBERS = (
    st.sampled_from(
        [0, -1, 1, 2**31 - 1, 2**31, -(2**31) - 1, 2**63, 10**20, 2_000_000, 2_000_001, 99_999]
    )
    | st.integers()
)


def _values_for(kind: str, name: str) -> st.SearchStrategy[Any]:
    column = projection_hook.PROJECTIONS[kind].__table__.columns[name]
    if column.foreign_keys:
        if isinstance(column.type, Integer):
            return st.integers(min_value=-5, max_value=10**12)
        return st.uuids().map(str) | _text_around(36)
    if isinstance(column.type, String) and column.type.length:
        return _text_around(column.type.length)
    if isinstance(column.type, Integer):
        return NUMBERS
    return _text_around(64) | NUMBERS | st.none()


POISON = st.sampled_from(
    [
        (kind, name)
        for kind in DEVICE_KINDS_WITH_TABLES
        for name in projection_hook.projected_columns(kind)
    ]
).flatmap(lambda key: st.tuples(st.just(key[0]), st.just(key[1]), _values_for(*key)))


def _poisoned(kind: str, name: str, value: Any, customer_id: str, vehicle_id: str, at: int):  # type: ignore[no-untyped-def]
    record: Any
    if kind == "customer":
        record = domain.Customer(name="Li", phone="+8613812345678")
    elif kind == "vehicle":
        record = domain.Vehicle(customer_id=customer_id, plate="沪B12345")
    else:
        record = domain.Visit(ticket_number="P-1", customer_id=customer_id, vehicle_id=vehicle_id)
    return change(kind, record.id, {**fields_of(record), name: value}, at)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(poison=st.lists(POISON, min_size=1, max_size=4))
def test_values_beyond_any_bound_never_fail_a_push(
    app: Flask, client: FlaskClient, shop: Shop, poison: list[tuple[str, str, Any]]
) -> None:
    tablet = getattr(app, "_bounds_tablet", None) or shop.device_token("tablet")
    app._bounds_tablet = tablet  # type: ignore[attr-defined]
    now = wall_clock_ms()
    first, _ = walk_in(at=now)
    customer_id, vehicle_id = first[0]["id"], first[1]["id"]
    bad = [
        _poisoned(kind, name, value, customer_id, vehicle_id, now + 10 + index)
        for index, (kind, name, value) in enumerate(poison)
    ]
    last, _ = walk_in(at=now + 100)
    answer = push(client, tablet, [*first, *bad, *last])
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    statuses = [result["status"] for result in answer.json["results"]]
    assert statuses[:3] == statuses[-3:] == [201, 201, 201]
    assert all(status in (201, 422) for status in statuses[3:-3]), statuses
    applied = [c for c, s in zip([*first, *bad, *last], statuses, strict=True) if s == 201]
    with app.app_context():
        for made in applied:
            assert db.session().get(SyncRecord, (made["kind"], made["id"])) is not None
        refused = [c["id"] for c, s in zip(bad, statuses[3:-3], strict=True) if s == 422]
        if refused:
            query = select(func.count()).select_from(SyncRecord).where(SyncRecord.id.in_(refused))
            assert db.session().scalar(query) == 0
    # The queue moves on: the next push of the same device is applied.
    after, _ = walk_in(at=now + 200)
    assert [r["status"] for r in push(client, tablet, after).json["results"]] == [201] * 3
    assert uuid.UUID(after[2]["id"])
