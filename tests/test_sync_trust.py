"""The sync trust boundary (issue 10, items 1-5): device clocks, values out of the
database's bounds, status tokens and the status machine, through the test client on
SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop
from sqlalchemy import select
from sync_changes import change, fields_of, hlc, push, walk_in

from shared import domain
from shared.hlc import parse, wall_clock_ms
from sync_server import db
from sync_server.sync import projection_hook, records, trust
from sync_server.sync.tables import SyncRecord
from sync_server.visit_tables import Visit

DAY_MS = 24 * 3600 * 1000
YEAR_MS = 365 * DAY_MS
POISON = "9999999999999999-9999-x"


def server_clock_wall() -> int:
    return parse(records._server_clock.state()).wall_ms


def desk_step(app: Flask, visit_id: str, status: str) -> None:
    with app.app_context():
        session = db.session()
        records.lock_feed(session)
        records.update_server_record(session, "visit", visit_id, {"status": status})
        session.commit()


# --- 1 and 2: device clocks ---------------------------------------------------------


def test_a_poisoned_clock_on_a_refused_change_moves_no_clock(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    kiosk = shop.device_token("kiosk")
    changes, visit_id = walk_in()
    assert [r["status"] for r in push(client, kiosk, changes).json["results"]] == [201] * 3
    # A kind a kiosk may not send (403), clocked at the very end of the format.
    refused = {**change("note", str(uuid.uuid4()), {"text": "x"}, 0), "hlc": POISON}
    (result,) = push(client, kiosk, [refused]).json["results"]
    assert result["status"] == 422
    assert result["problem"]["type"].endswith("/clock-ahead")
    assert server_clock_wall() <= wall_clock_ms() + trust.max_clock_offset_ms
    # The desk still moves the visit on, and its clocks stay near the real time.
    desk_step(app, visit_id, "walkaround_done")
    with app.app_context():
        row = db.session().get(SyncRecord, ("visit", visit_id))
        assert parse(row.clocks["status"]).wall_ms < wall_clock_ms() + DAY_MS


@pytest.mark.parametrize("ahead_ms", [10 * 60 * 1000, YEAR_MS, 100 * YEAR_MS, None])
def test_a_change_clocked_ahead_of_the_server_is_refused_naming_the_clock(
    app: Flask, client: FlaskClient, shop: Shop, ahead_ms: int | None
) -> None:
    kiosk = shop.device_token("kiosk")
    now = wall_clock_ms()
    changes, visit_id = walk_in(at=now)
    clocked = POISON if ahead_ms is None else hlc(now + ahead_ms)
    changes[2]["hlc"] = clocked
    answer = push(client, kiosk, changes)
    assert answer.headers[trust.SERVER_TIME_HEADER]
    statuses = [r["status"] for r in answer.json["results"]]
    assert statuses == [201, 201, 422]
    problem = answer.json["results"][2]["problem"]
    assert problem["type"].endswith("/clock-ahead")
    assert problem["device_clock"] == clocked
    assert problem["max_clock_offset_ms"] == 5 * 60 * 1000
    assert problem["accepted_until"] < clocked
    assert "clock" in problem["detail"]
    assert problem["errors"][0]["message_zh"]
    with app.app_context():
        assert db.session().get(Visit, visit_id) is None
    assert server_clock_wall() <= wall_clock_ms() + trust.max_clock_offset_ms
    zh = client.post(
        "/api/v1/sync/push",
        json={"schema": 1, "changes": [changes[2]]},
        headers={**{"Authorization": f"Bearer {kiosk}"}, "Accept-Language": "zh-CN"},
    )
    assert "时钟" in zh.json["results"][0]["problem"]["detail"]


def test_a_clock_within_the_offset_and_one_behind_are_accepted(
    client: FlaskClient, shop: Shop
) -> None:
    tablet = shop.device_token("tablet")
    now = wall_clock_ms()
    ahead, _ = walk_in(at=now + 60_000)
    behind, _ = walk_in(at=now - DAY_MS)
    answer = push(client, tablet, [*ahead, *behind])
    assert [r["status"] for r in answer.json["results"]] == [201] * 6


def test_a_field_clocked_beyond_the_limit_before_the_rule_loses_to_any_change(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    """A record poisoned before this rule existed heals: later edits win over it."""
    tablet = shop.device_token("tablet")
    now = wall_clock_ms()
    changes, visit_id = walk_in(at=now)
    push(client, tablet, changes)
    with app.app_context():
        session = db.session()
        row = session.get(SyncRecord, ("visit", visit_id))
        row.clocks = {**row.clocks, "concern_text": POISON, "status": POISON}
        session.commit()
    edit = change("visit", visit_id, {"concern_text": "Squeak when braking"}, now + 10)
    assert push(client, tablet, [edit]).json["results"][0]["status"] == 201
    desk_step(app, visit_id, "walkaround_done")
    with app.app_context():
        visit = db.session().get(Visit, visit_id)
        assert (visit.concern_text, visit.status) == ("Squeak when braking", "walkaround_done")
    assert server_clock_wall() <= wall_clock_ms() + trust.max_clock_offset_ms


def test_every_api_answer_tells_the_servers_time(client: FlaskClient, shop: Shop) -> None:
    before = wall_clock_ms()
    answer = client.get("/api/v1/sync/changes")  # 401: still the time
    told = int(answer.headers[trust.SERVER_TIME_HEADER])
    assert before <= told <= wall_clock_ms()
    assert answer.headers[trust.MAX_OFFSET_HEADER] == str(5 * 60 * 1000)


# --- 3: values out of the database's bounds -----------------------------------------


def _poisoned_visits(customer_id: str, vehicle_id: str, now: int) -> list[dict[str, Any]]:
    """One visit change per value the issue found breaking the push."""
    poison = [
        {"advisor_user_id": 99999},
        {"mileage_in_km": 10**20},
        {"mileage_in_km": 2**31},
        {"mileage_in_km": 2_000_001},
        {"ticket_number": "K" * 17},
        {"concern_text": "brakes\x00"},
        {"concern_text": "x" * 10_001},
    ]
    made = []
    for index, fields in enumerate(poison):
        visit = domain.Visit(ticket_number="K-1", customer_id=customer_id, vehicle_id=vehicle_id)
        made.append(change("visit", visit.id, {**fields_of(visit), **fields}, now + index))
    return made


def test_values_beyond_their_columns_are_refused_alone_field_by_field(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    kiosk = shop.device_token("kiosk")
    now = wall_clock_ms()
    changes, visit_id = walk_in(at=now)
    customer_id, vehicle_id = changes[0]["id"], changes[1]["id"]
    customer = domain.Customer(name="张" * 121, phone="+8613812345678")
    long_name = change("customer", customer.id, fields_of(customer), now)
    poisoned = [*_poisoned_visits(customer_id, vehicle_id, now + 10), long_name]
    answer = push(client, kiosk, [*changes, *poisoned])
    assert answer.status_code == 200
    results = answer.json["results"]
    assert [r["status"] for r in results] == [201] * 3 + [422] * len(poisoned)
    fields = [r["problem"]["errors"][0]["field"] for r in results[3:]]
    assert fields == ["advisor_user_id", *["mileage_in_km"] * 3, "ticket_number"] + [
        "concern_text"
    ] * 2 + ["name"]
    assert all(r["problem"]["errors"][0]["message_zh"] for r in results[3:])
    with app.app_context():
        assert db.session().scalars(select(Visit.id)).all() == [visit_id]
    later, _ = walk_in(at=now + 100)
    assert [r["status"] for r in push(client, kiosk, later).json["results"]] == [201] * 3


def test_a_change_that_fails_at_the_database_is_refused_alone(
    app: Flask, client: FlaskClient, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever slips past the checks: the batch is applied without that change."""
    monkeypatch.setattr(trust, "check_columns", lambda *args: None)  # a check forgotten
    kiosk = shop.device_token("kiosk")
    now = wall_clock_ms()
    changes, visit_id = walk_in(at=now)
    (bad,) = _poisoned_visits(changes[0]["id"], changes[1]["id"], now + 5)[:1]
    later, later_visit = walk_in(at=now + 10)
    answer = push(client, kiosk, [*changes, bad, *later])
    results = answer.json["results"]
    assert [r["status"] for r in results] == [201, 201, 201, 422, 201, 201, 201]
    assert results[3]["problem"]["type"].endswith("/not-storable")
    with app.app_context():
        ids = set(db.session().scalars(select(Visit.id)))
        assert ids == {visit_id, later_visit}
    # The same batch again (an answer lost): the same answers, nothing applied twice.
    assert push(client, kiosk, [*changes, bad, *later]).json["results"] == results


# --- 4: status tokens are the server's: tests/test_status_links.py -----------------


# --- 5: the status machine is the server's ------------------------------------------


@pytest.mark.parametrize("status", ["approved", "in_progress", "delivered", "walkaround_done"])
def test_a_device_creates_visits_only_as_checked_in(
    app: Flask, client: FlaskClient, shop: Shop, status: str
) -> None:
    kiosk = shop.device_token("kiosk")
    changes, visit_id = walk_in(at=wall_clock_ms())
    changes[2]["fields"]["status"] = status
    result = push(client, kiosk, changes).json["results"][2]
    assert result["status"] == 422
    assert result["problem"]["errors"][0] == {"field": "status", "code": "transition_refused"}
    with app.app_context():
        assert db.session().get(Visit, visit_id) is None


# --- the wire's bounds are the columns' bounds --------------------------------------


def test_every_projected_text_column_is_bounded_on_the_wire_or_by_the_server() -> None:
    """What a device may send fits the typed table it lands in: the wire's lengths are
    within the columns', and every other text column is checked by the server."""
    from sqlalchemy import String

    from shared.wire import KINDS, MAX_LENGTHS, MAX_TEXT_CHARS

    for (record_type, name), length in MAX_LENGTHS.items():
        kind = next(k for k, t in KINDS.items() if t is record_type)
        if kind in projection_hook.PROJECTIONS and name in projection_hook.projected_columns(kind):
            column = projection_hook.PROJECTIONS[kind].__table__.columns[name]
            assert length <= column.type.length, f"{kind}.{name}"
    for kind, model in projection_hook.PROJECTIONS.items():
        names = projection_hook.projected_columns(kind)
        checked = {
            bound.name: bound.max_chars for bound in trust._column_bounds(model, names, KINDS[kind])
        }
        for name in names:
            column = model.__table__.columns[name]
            if isinstance(column.type, String) and column.type.length is not None:
                kept = trust._wire_keeps_length(KINDS[kind], name, column.type.length)
                assert kept or checked.get(name) == column.type.length, f"{kind}.{name}"
    assert MAX_TEXT_CHARS <= 10_000


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"concern_text": "a\x00b"}, "bad_text"),
        ({"concern_text": "broken \ud800 text"}, "bad_text"),
        ({"ticket_number": "T" * 17}, "too_long"),
        ({"mileage_in_km": 2_000_001}, "out_of_range"),
        ({"mileage_in_km": -1}, "out_of_range"),
        ({"mileage_in_km": 2**63}, "out_of_range"),
    ],
)
def test_the_wire_refuses_values_no_column_can_hold(fields: dict[str, Any], code: str) -> None:
    from shared.wire import WireError, from_wire

    visit = domain.Visit(
        ticket_number="T-1", customer_id=str(uuid.uuid4()), vehicle_id=str(uuid.uuid4())
    )
    with pytest.raises(WireError) as refused:
        from_wire("visit", {**fields_of(visit), "id": visit.id, **fields})
    assert list(refused.value.codes.values()) == [code]
    mileage = from_wire("visit", {**fields_of(visit), "id": visit.id, "mileage_in_km": 2_000_000})
    assert mileage.mileage_in_km == 2_000_000
