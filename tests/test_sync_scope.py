"""The tablet's scoped feed (sync_server/sync/scope.py): a new tablet gets the working set,
not the shop's past; every page brings the customer and car of its visits; a car's
history comes on request."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop, bearer
from sqlalchemy import func, select
from sync_changes import change, fields_of, push, walk_in

from shared import domain
from shared.domain import DamageType, DiagramView
from sync_server import db
from sync_server.sync.tables import SyncRecord


def _walkaround_of(visit_id: str, at: int) -> tuple[list[dict[str, Any]], str, str]:
    sheet = domain.Walkaround(visit_id=visit_id, odometer_km=41_000)
    mark = domain.DamageMark(
        walkaround_id=sheet.id, view=DiagramView.left, x=0.3, y=0.6, damage_type=DamageType.dent
    )
    walkaround_fields = {k: v for k, v in fields_of(sheet).items() if k not in ("marks", "photos")}
    changes = [
        change("walkaround", sheet.id, walkaround_fields, at),
        change("damage_mark", mark.id, fields_of(mark), at + 1),
    ]
    return changes, sheet.id, mark.id


def _cancel(app: Flask, visit_id: str) -> None:
    from sync_server.sync.records import lock_feed, update_server_record

    with app.app_context():
        session = db.session()
        lock_feed(session)
        update_server_record(session, "visit", visit_id, {"status": "cancelled"})
        session.commit()


def _ids(entries: list[dict[str, Any]], kind: str) -> set[str]:
    return {entry["id"] for entry in entries if entry["kind"] == kind}


def test_a_new_tablet_gets_the_working_set_not_the_past(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    lane_tablet = shop.device_token("tablet")
    visits, customers, sheets, marks = [], [], [], []
    for n in range(3):
        changes, visit_id = walk_in(1_700_000_000_000 + n * 100)
        sheet_changes, sheet_id, mark_id = _walkaround_of(visit_id, 1_700_000_000_050 + n * 100)
        assert push(client, lane_tablet, changes + sheet_changes).status_code == 200
        visits.append(visit_id)
        customers.append(changes[0]["id"])
        sheets.append(sheet_id)
        marks.append(mark_id)
    _cancel(app, visits[1])  # finished: part of the past

    tablet = shop.device_token("tablet")
    answer = client.get(
        "/api/v1/sync/changes?since=0&scope=working_set", headers=bearer(tablet)
    ).json
    got = answer["changes"]
    assert _ids(got, "visit") == {visits[0], visits[2]}
    assert _ids(got, "customer") == {customers[0], customers[2]}
    assert len(_ids(got, "vehicle")) == 2
    assert _ids(got, "walkaround") == {sheets[0], sheets[2]}
    assert _ids(got, "damage_mark") == {marks[0], marks[2]}
    assert all(set(entry) >= {"kind", "id", "fields", "clocks"} for entry in got)
    with app.app_context():
        head = db.session().scalar(select(func.max(SyncRecord.seq)))
    assert (answer["next_since"], answer["more"]) == (head, False)
    later = client.get(
        f"/api/v1/sync/changes?since={answer['next_since']}", headers=bearer(tablet)
    ).json
    assert later["changes"] == []

    # Without the scope (an old app), the whole feed as before.
    whole = client.get("/api/v1/sync/changes?since=0&limit=500", headers=bearer(tablet)).json
    assert visits[1] in _ids(whole["changes"], "visit")


def test_a_page_brings_the_customer_and_car_of_its_visits(client: FlaskClient, shop: Shop) -> None:
    tablet_a, tablet_b = shop.device_token("tablet"), shop.device_token("tablet")
    changes, visit_id = walk_in()
    push(client, tablet_b, changes)
    since = client.get("/api/v1/sync/changes?since=0", headers=bearer(tablet_a)).json["next_since"]
    # Months later the customer comes back: only the visit changes in the feed.
    edit = change("visit", visit_id, {"concern_text": "Rattle"}, 1_700_000_900_000, "dev-b")
    push(client, tablet_b, [edit])
    page = client.get(f"/api/v1/sync/changes?since={since}", headers=bearer(tablet_a)).json
    assert [entry["kind"] for entry in page["changes"]] == ["visit"]
    related = {entry["kind"]: entry["id"] for entry in page["related"]}
    assert related == {"customer": changes[0]["id"], "vehicle": changes[1]["id"]}


def test_a_cars_history_holds_its_earlier_visits_walkarounds_and_marks(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    tablet = shop.device_token("tablet")
    changes, earlier_visit = walk_in()
    sheet_changes, sheet_id, mark_id = _walkaround_of(earlier_visit, 1_700_000_000_050)
    push(client, tablet, changes + sheet_changes)
    _cancel(app, earlier_visit)
    vehicle_id = changes[1]["id"]
    today = domain.Visit(ticket_number="K-002", customer_id=changes[0]["id"], vehicle_id=vehicle_id)
    push(client, tablet, [change("visit", today.id, fields_of(today), 1_700_000_500_000)])

    history = client.get(f"/api/v1/vehicles/{vehicle_id}/history", headers=bearer(tablet)).json
    entries = history["changes"]
    assert _ids(entries, "visit") == {earlier_visit, today.id}
    assert _ids(entries, "walkaround") == {sheet_id}
    assert _ids(entries, "damage_mark") == {mark_id}
    assert _ids(entries, "vehicle") == {vehicle_id}
    kiosk = shop.device_token("kiosk")
    refused = client.get(f"/api/v1/vehicles/{vehicle_id}/history", headers=bearer(kiosk))
    assert refused.status_code == 403
