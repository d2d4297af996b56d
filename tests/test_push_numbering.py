"""A push's records and the feed, on SQLite and PostgreSQL (docs/sync.md, "Several
server processes").

- A tablet's check-in and its signed walk-around go in **one** push: the visit is made
  and moved to "walk-around done" by the signed step, applied after the rest of the
  batch (on PostgreSQL the visit's record is not written yet at that point: it is
  written once, numbered, just before the commit).
- On PostgreSQL a push writes each new record once, with its feed number (one ``COPY``
  of the push's new records): no draft row inserted and then updated.
- Another tablet pulls every record with its fields and clocks as the server holds
  them (the feed passes the stored JSON on undecoded), in feed order, each once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop, bearer
from sqlalchemy import event, select

from kiosk.services.local_store import LocalStore
from kiosk.services.walkaround import WalkaroundSheet
from shared import domain
from shared.wire import to_wire
from sync_server import db
from sync_server.models import SyncRecord


def _save(store: LocalStore, kind: str, record: Any) -> None:
    fields = to_wire(record)
    store.save(kind, fields.pop("id"), fields)


def _signed_check_in(store: LocalStore) -> str:
    """A customer, car and visit with a signed walk-around, saved on the tablet."""
    customer = domain.Customer(name="王芳", phone="+8613612345678")
    vehicle = domain.Vehicle(customer_id=customer.id, plate="粤B·D12345", make="Toyota")
    visit = domain.Visit(
        ticket_number="T-001", customer_id=customer.id, vehicle_id=vehicle.id,
        concern_text="Brake noise",
    )  # fmt: skip
    for kind, record in (("customer", customer), ("vehicle", vehicle), ("visit", visit)):
        _save(store, kind, record)
    sheet = WalkaroundSheet.open(store, visit.id)
    sheet.set_fuel(3)
    sheet.add_mark("left", 0.42, 0.55, "A", 2, note="driver's door")
    sheet.add_mark("rear", 0.5, 0.62, "U", 1)
    sheet.sign([[domain.StrokePoint(0.1 + i * 0.1, 0.5, i * 20) for i in range(8)]], "王芳")
    assert sheet.complete() is True  # the visit moves to "walk-around done"
    return visit.id


def _statements(app: Flask) -> list[str]:
    """Every SQL statement the app's engine runs from now on (its first line)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split())[:120])

    event.listen(app.extensions["db_engine"], "before_cursor_execute", note)
    return seen


def test_a_check_in_and_its_signed_walkaround_in_one_push(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    shop = Shop(app)
    writer, reader = shop.device_token("tablet", "Tablet 1"), shop.device_token("tablet", "T2")
    store = LocalStore(tmp_path / "tablet", "tablet-1")
    visit_id = _signed_check_in(store)
    changes = [change.to_wire() for change in store.pending_changes(500)]
    store.close()
    assert changes[-1]["fields"] == {"status": "walkaround_done"}  # the signed step, last
    statements = _statements(app)

    answer = client.post(
        "/api/v1/sync/push", json={"schema": 1, "changes": changes}, headers=bearer(writer)
    )

    assert answer.status_code == 200
    assert [result["status"] for result in answer.get_json()["results"]] == [201] * len(changes)
    with app.app_context():
        rows = db.session().execute(select(SyncRecord.kind, SyncRecord.id, SyncRecord.seq)).all()
        visit = db.session().get(SyncRecord, ("visit", visit_id))
        assert visit is not None and visit.fields["status"] == "walkaround_done"
    records = {(kind, record_id) for kind, record_id, _ in rows}
    assert records == {(change["kind"], change["id"]) for change in changes}
    numbers = sorted(seq for _, _, seq in rows)
    assert numbers[0] > 0 and len(set(numbers)) == len(numbers)
    written = [s for s in statements if "sync_records" in s and not s.startswith("SELECT")]
    if app.extensions["db_engine"].dialect.name == "postgresql":
        # One COPY of the numbered records, nothing updated afterwards.
        assert len(written) == 1 and written[0].startswith("COPY sync_records"), written

    page = client.get("/api/v1/sync/changes?since=0&limit=500", headers=bearer(reader))
    assert page.status_code == 200 and page.mimetype == "application/json"
    body = page.get_json()
    with app.app_context():
        held = {
            (row.kind, row.id): (row.seq, row.fields, row.clocks)
            for row in db.session().scalars(select(SyncRecord))
        }
    pulled = [(entry["kind"], entry["id"]) for entry in body["changes"]]
    assert len(pulled) == len(set(pulled))
    assert [entry["seq"] for entry in body["changes"]] == sorted(
        entry["seq"] for entry in body["changes"]
    )
    for entry in body["changes"]:
        seq, fields, clocks = held[(entry["kind"], entry["id"])]
        assert (entry["seq"], entry["fields"], entry["clocks"]) == (seq, fields, clocks)
    assert body["next_since"] == max(seq for seq, _, _ in held.values())
    assert body["more"] is False and body["feed"]["head"] >= body["next_since"]
