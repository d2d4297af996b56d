"""Merging duplicates: the likely duplicates (same phone, same VIN, same name), a preview
of what moves, then every visit, car, appointment, consent and history entry under the
customer who stays; the merged customer kept, marked, nothing deleted; devices see the
new owner of each visit and car in their feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from customer_file_fixtures import Line, VisitPlan, make_car, make_customer, make_history
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop, bearer
from sqlalchemy import func, select
from sync_changes import change, fields_of
from web_fixtures import page_text, post_form, web_login

from shared import domain
from sync_server import db
from sync_server.customer_file.merge import likely_duplicates, merge_preview
from sync_server.customer_file_tables import CustomerMerge
from sync_server.models import Base
from sync_server.record_tables import ConsentRow
from sync_server.sync.records import lock_feed, put_server_record
from sync_server.sync.tables import SyncRecord
from sync_server.visit_tables import Appointment, Customer, CustomerContactChange, Vehicle, Visit


def row_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        session = db.session()
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def two_files(app: Flask) -> tuple[str, str, str]:
    """The same person twice: once with a phone and a car, once (same phone) with another
    car, two visits and an appointment."""
    keep = make_customer(app, name="Zhang Wei", phone="+8613812345678")
    make_car(app, keep, plate="京A12345", vin="LGBH52E05JY123456")
    other = make_customer(app, name="zhang wei", phone="+8613812345678", email="zw@example.com")
    car = make_car(app, other, plate="京B54321")
    now = datetime.now(UTC)
    make_history(
        app,
        other,
        car,
        [
            VisitPlan(now - timedelta(days=40), lines=[Line("Oil")]),
            VisitPlan(now - timedelta(days=5)),
        ],
    )
    with app.app_context():
        session = db.session()
        lock_feed(session)
        put_server_record(
            session,
            "appointment",
            domain.Appointment(
                customer_id=other,
                vehicle_id=car,
                code="M3RG3D",
                expected_arrival=now + timedelta(days=3),
            ),
        )
        session.add(
            CustomerContactChange(
                customer_id=other,
                field="phone",
                old_value="",
                new_value="+8613812345678",
                source="server",
            )
        )
        session.commit()
    return keep, other, car


def test_likely_duplicates_by_phone_vin_and_name(app: Flask) -> None:
    keep, other, _car = two_files(app)
    third = make_customer(app, name="Li Lei", phone="+8613700000001")
    make_car(app, third, plate="沪C11111", vin="LGBH52E05JY123456")  # same VIN as keep's car
    make_customer(app, name="LI  LEI", phone="+8613700000002")
    with app.app_context():
        groups = likely_duplicates(db.session())
    reasons = {(group.reason, frozenset(c.id for c in group.customers)) for group in groups}
    assert ("phone", frozenset({keep, other})) in reasons
    assert ("vin", frozenset({keep, third})) in reasons
    assert any(reason == "name" and third in ids for reason, ids in reasons)


def test_merge_keeps_every_row_under_the_surviving_customer(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    keep, other, car = two_files(app)
    before = row_counts(app)
    with app.app_context():
        session = db.session()
        preview = merge_preview(session, keep, other)
        assert (len(preview.moves["visits"]), len(preview.moves["vehicles"])) == (2, 1)
        assert len(preview.moves["appointments"]) == 1 and preview.consents == 2
        assert preview.moves["customer_contact_changes"] and preview.filled == {
            "email": "zw@example.com"
        }
        moved_visits = set(preview.moves["visits"])

    web_login(client, shop, "manager")
    page = page_text(client.get(f"/customers/merge?keep={keep}&merge={other}"))
    assert "What moves" in page and "zw@example.com" in page
    response = post_form(
        client,
        "/customers/merge",
        {"keep": keep, "merge": other},
        f"/customers/merge?keep={keep}&merge={other}",
    )
    assert response.status_code == 302, page_text(response)

    after = row_counts(app)
    # Nothing deleted: every table has as many rows as before, or more (the merge record,
    # the history entries of the merge and of the e-mail taken over).
    assert all(after[name] >= count for name, count in before.items())
    assert after["customers"] == before["customers"]
    assert after["customer_merges"] == before["customer_merges"] + 1
    with app.app_context():
        session = db.session()
        assert (
            session.scalar(
                select(func.count()).select_from(Visit).where(Visit.customer_id == other)
            )
            == 0
        )
        assert {
            v.id for v in session.scalars(select(Visit).where(Visit.customer_id == keep))
        } == moved_visits
        assert session.get(Vehicle, car).customer_id == keep
        assert (
            session.scalar(select(Appointment.customer_id).where(Appointment.code == "M3RG3D"))
            == keep
        )
        consents = session.scalars(
            select(ConsentRow.visit_id).where(ConsentRow.visit_id.in_(moved_visits))
        ).all()
        assert len(consents) == 2
        history = session.scalars(
            select(CustomerContactChange.field).where(CustomerContactChange.customer_id == keep)
        ).all()
        assert {"phone", "email", "merged_from"} <= set(history)
        merged = session.get(Customer, other)
        assert merged is not None and merged.merged_into_id == keep and merged.merged_at
        assert session.get(Customer, keep).email == "zw@example.com"
        # The sync engine's records follow, so devices see the new owner in the feed.
        for visit_id in moved_visits:
            assert session.get(SyncRecord, ("visit", visit_id)).fields["customer_id"] == keep
        assert session.get(SyncRecord, ("vehicle", car)).fields["customer_id"] == keep
        record = session.scalars(select(CustomerMerge)).one()
        assert set(record.moved["visits"]) == moved_visits

    page = page_text(client.get(f"/customers/{other}"))
    assert "was merged into" in page
    page = page_text(client.get(f"/customers/{keep}"))
    assert "京B54321" in page and "Files merged into this one" in page
    # A second merge of the same file is refused, clearly.
    again = post_form(
        client, "/customers/merge", {"keep": keep, "merge": other}, f"/customers/{keep}"
    )
    assert again.status_code == 400 and "already merged" in page_text(again)
    # Advisors cannot merge.
    advisor = FlaskClient(app, use_cookies=True)
    web_login(advisor, shop)
    assert advisor.get("/customers/duplicates").status_code == 403


def test_merge_refuses_the_same_customer(app: Flask, client: FlaskClient, shop: Shop) -> None:
    keep = make_customer(app)
    web_login(client, shop, "manager")
    response = client.get(f"/customers/merge?keep={keep}&merge={keep}")
    assert response.status_code == 400 and "two different customers" in page_text(response)


def test_a_check_in_arriving_late_for_a_merged_file_goes_to_the_customer_who_stayed(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    """A tablet that had not synced the merge checks a new car and the moved car in under
    the merged file: the server files both under the customer who stayed, and a tablet's
    feed brings them with that customer."""
    keep, other, car = two_files(app)
    web_login(client, shop, "manager")
    merged = post_form(client, "/customers/merge", {"keep": keep, "merge": other}, "/customers")
    assert merged.status_code == 302, page_text(merged)

    new_car = domain.Vehicle(customer_id=other, plate="粤C77777")
    first = domain.Visit(
        ticket_number="T-LATE1", customer_id=other, vehicle_id=new_car.id,
        concern_text="Late check-in", status_token=domain.new_status_token(),
    )  # fmt: skip
    second = domain.Visit(
        ticket_number="T-LATE2", customer_id=other, vehicle_id=car,
        concern_text="Second late check-in", status_token=domain.new_status_token(),
    )  # fmt: skip
    at = int(datetime.now(UTC).timestamp() * 1000) - 60_000
    tablet = shop.device_token("tablet", "Tablet 1")
    pushed = client.post(
        "/api/v1/sync/push",
        json={
            "schema": 1,
            "changes": [
                change("vehicle", new_car.id, fields_of(new_car), at, "dev-t"),
                change("visit", first.id, fields_of(first), at + 1, "dev-t"),
                change("visit", second.id, fields_of(second), at + 2, "dev-t"),
            ],
        },
        headers=bearer(tablet),
    )
    assert [r["status"] for r in pushed.json["results"]] == [201, 201, 201], pushed.json
    # A kiosk has no feed: the push's answer leaves its ticket's customer alone.
    assert all("customer_id" not in r.get("server_fields", {}) for r in pushed.json["results"])

    with app.app_context():
        session = db.session()
        for kind, model, record_id in (
            ("vehicle", Vehicle, new_car.id),
            ("visit", Visit, first.id),
            ("visit", Visit, second.id),
        ):
            assert session.get(model, record_id).customer_id == keep
            record = session.get(SyncRecord, (kind, record_id))
            assert record.fields["customer_id"] == keep
            assert record.clocks["customer_id"].endswith("-server")  # devices take it back

    kept = page_text(client.get(f"/customers/{keep}"))
    assert "T-LATE1" in kept and "T-LATE2" in kept and "粤C77777" in kept
    gone = client.get(f"/customers/{other}")
    assert "T-LATE" not in page_text(gone) and "was merged into" in page_text(gone)
    assert f'href="/customers/{keep}"' in gone.get_data(as_text=True)
    health = page_text(client.get(f"/vehicles/{new_car.id}"))
    assert "T-LATE1" in health and "Zhang Wei" in health
    found = page_text(client.get("/customers?q=粤C77777"))
    assert "Zhang Wei" in found and "merged" not in found

    feed = client.get("/api/v1/sync/changes?since=0", headers=bearer(tablet)).json
    records = {(c["kind"], c["id"]): c for c in [*feed.get("related", []), *feed["changes"]]}
    assert records[("visit", first.id)]["fields"]["customer_id"] == keep
    assert ("customer", keep) in records
