"""The vehicle health file: each visit's concern, odometer, fuel, tread, damage marks (new
or already there), diagnosis, work done with part numbers and declined work with a due
date; the tread trend with a projection of when each tyre reaches its limit, from the
car's own kilometres per day — with one visit and with many."""

from __future__ import annotations

from datetime import date

import pytest
from customer_file_fixtures import Line, VisitPlan, make_car, make_customer, make_history, on
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop
from web_fixtures import page_text, web_login

from sync_server import db
from sync_server.customer_file.diagnoses import DiagnosisRefused, record_diagnosis
from sync_server.customer_file.health import deferred_work_due, health_file, open_deferred_work
from sync_server.customer_file.wear import Reading, km_per_day, project, wear_per_km

ZONE = "Asia/Shanghai"


# --- the arithmetic at its edges ------------------------------------------------------


def test_km_per_day_from_many_readings_uses_first_and_last() -> None:
    readings = [
        (date(2025, 1, 1), 10_000),
        (date(2025, 4, 11), 13_000),
        (date(2025, 7, 20), 20_000),
    ]
    assert km_per_day(readings) == pytest.approx(10_000 / 200)


def test_km_per_day_with_one_reading_needs_the_purchase_date() -> None:
    assert km_per_day([(date(2025, 7, 1), 18_100)]) is None
    assert km_per_day([(date(2025, 7, 1), 18_100)], bought=date(2024, 7, 1)) == pytest.approx(
        18_100 / 365
    )
    # Two readings on the same day tell nothing about driving; the purchase date does.
    same_day = [(date(2025, 7, 1), 18_000), (date(2025, 7, 1), 18_100)]
    assert km_per_day(same_day) is None


def test_projection_with_one_visit_assumes_the_tyres_the_car_came_with() -> None:
    one = [Reading(date(2025, 7, 1), 20_000, 6.0)]
    # (8.0 - 6.0) mm over 20,000 km: 0.1 mm per 1,000 km; 4.4 mm to go = 44,000 km.
    assert wear_per_km(one) == pytest.approx(0.0001)
    projection = project(one, 1.6, km_day=40.0)
    assert projection is not None and projection.at_km == 64_000
    assert projection.on_day == date(2025, 7, 1).fromordinal(date(2025, 7, 1).toordinal() + 1100)
    # Without the car's driving, the kilometres are told but not the day.
    unknown = project(one, 1.6, km_day=None)
    assert unknown is not None and unknown.at_km == 64_000 and unknown.on_day is None


def test_projection_with_many_visits_follows_the_measured_wear() -> None:
    many = [
        Reading(date(2024, 1, 1), 10_000, 7.0),
        Reading(date(2024, 7, 1), 20_000, 6.0),
        Reading(date(2025, 1, 1), 30_000, 5.0),
    ]
    assert wear_per_km(many) == pytest.approx(0.0001)  # 1 mm per 10,000 km
    projection = project(many, 1.6, km_day=10_000 / 183)
    assert projection is not None and projection.at_km == 64_000
    assert projection.on_day == date(2025, 1, 1).fromordinal(date(2025, 1, 1).toordinal() + 622)


def test_projection_edges_below_limit_and_no_wear() -> None:
    worn = project([Reading(date(2025, 1, 1), 50_000, 1.6)], 1.6, 30.0)
    assert worn is not None and worn.already_below and worn.on_day == date(2025, 1, 1)
    # New tyres fitted between visits: the depth went up, no wear can be told.
    fitted = [Reading(date(2024, 1, 1), 10_000, 3.0), Reading(date(2025, 1, 1), 20_000, 8.0)]
    projection = project(fitted, 1.6, 30.0)
    assert projection is not None and projection.at_km is None and projection.on_day is None
    assert project([], 1.6, 30.0) is None


# --- the file, from the typed tables --------------------------------------------------


def three_visits(app: Flask) -> tuple[str, str, list[str]]:
    customer_id = make_customer(app)
    vehicle_id = make_car(app, customer_id, plate="粤B12345", vin="LGBH52E05JY123456")
    visits = make_history(
        app,
        customer_id,
        vehicle_id,
        [
            VisitPlan(
                on(2025, 1, 10),
                10_000,
                {"fl": 7.0, "fr": 7.2},
                fuel=3,
                marks=[("left", 0.30, 0.50, "scratch")],
                lines=[
                    Line("Oil change", part_number="OIL-5W30", price="300"),
                    Line("Rear wiper", decision="declined", urgency="green", price="80"),
                    Line("Front brake pads", "declined", part_number="BP-2231", urgency="yellow"),
                ],
                finding="Front pads at 4 mm",
                cause="Normal wear",
            ),
            VisitPlan(
                on(2025, 7, 9),
                19_100,
                {"fl": 6.1, "fr": 6.4},
                marks=[("left", 0.31, 0.51, "scratch"), ("front", 0.5, 0.2, "chip")],
                lines=[Line("Front brake pads", part_number="BP-2231", price="480")],
                finding="Squeal when braking",
                cause="Pads worn to 2 mm",
            ),
            VisitPlan(on(2026, 1, 5), 28_000, {"fl": 5.2, "fr": 5.6}, concern="Noise"),
        ],
    )
    return customer_id, vehicle_id, visits


def test_health_file_reads_every_visit(app: Flask) -> None:
    _customer, vehicle_id, visits = three_visits(app)
    with app.app_context():
        found = health_file(db.session(), vehicle_id, ZONE)
    assert found is not None
    assert [entry.visit.id for entry in found.entries] == list(reversed(visits))
    oldest, middle, _newest = reversed(found.entries)
    assert (oldest.odometer_km, oldest.fuel_eighths, oldest.tread_mm["fl"]) == (10_000, 3, 7.0)
    # The scratch seen again is "already there"; the stone chip is new.
    assert sorted((m.damage_type, m.already_there) for m in middle.marks) == [
        ("A", True),
        ("G", False),
    ]
    assert [m.already_there for m in oldest.marks] == [False]
    assert [d.cause for d in middle.diagnoses] == ["Pads worn to 2 mm"]
    assert [(w.description, w.part_number) for w in oldest.work] == [("Oil change", "OIL-5W30")]
    assert [w.description for w in oldest.declined] == ["Rear wiper", "Front brake pads"]
    # km per day from the car's own odometer: 18,000 km over 360 days.
    assert found.km_per_day == pytest.approx(18_000 / 360)
    assert set(found.projections) == {"fl", "fr"}
    assert found.projections["fl"].on_day is not None
    # Declined pads were done on the next visit; the wiper is still open, due in 180 days.
    deferred = {item.description: item for item in found.deferred}
    assert deferred["Front brake pads"].done_on == date(2025, 7, 9)
    assert deferred["Rear wiper"].open and deferred["Rear wiper"].due_on == date(2025, 7, 9)
    with app.app_context():
        session = db.session()
        assert [i.description for i in open_deferred_work(session, vehicle_id, ZONE)] == [
            "Rear wiper"
        ]
        due = deferred_work_due(session, date(2025, 8, 1), ZONE)
        assert [i.description for i in due] == ["Rear wiper"]
        assert deferred_work_due(session, date(2025, 7, 8), ZONE) == []


def test_diagnosis_is_refused_clearly(app: Flask) -> None:
    _customer, _vehicle, visits = three_visits(app)
    with app.app_context():
        session = db.session()
        with pytest.raises(DiagnosisRefused) as refused:
            record_diagnosis(session, visits[0], "   ")
        assert refused.value.field == "finding"
        with pytest.raises(DiagnosisRefused):
            record_diagnosis(session, "no-such-visit", "Leak")
        kept = record_diagnosis(session, visits[2], "Belt noise", "Worn tensioner", user_id=None)
        session.commit()
        assert kept.visit_id == visits[2] and kept.language == "zh_CN"


def test_health_file_page_in_both_languages(app: Flask, client: FlaskClient, shop: Shop) -> None:
    _customer, vehicle_id, _visits = three_visits(app)
    web_login(client, shop)
    page = page_text(client.get(f"/vehicles/{vehicle_id}"))
    assert "Vehicle health file" in page and "粤B12345" in page
    assert "Pads worn to 2 mm" in page and "BP-2231" in page and "already there" in page
    assert "<svg" in page and "projection" in page and "Rear wiper" in page
    client.get("/lang/zh_CN")
    page = page_text(client.get(f"/vehicles/{vehicle_id}"))
    assert "车辆健康档案" in page and "原有" in page and "延后项目" in page
    assert client.get("/vehicles/nope").status_code == 404


def test_one_visit_car_without_purchase_date_tells_km_not_day(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    customer_id = make_customer(app)
    vehicle_id = make_car(app, customer_id)
    make_history(app, customer_id, vehicle_id, [VisitPlan(on(2025, 7, 1), 20_000, {"fl": 6.0})])
    with app.app_context():
        found = health_file(db.session(), vehicle_id, ZONE)
    assert found is not None and found.km_per_day is None
    assert found.projections["fl"].at_km == 64_000 and found.projections["fl"].on_day is None
    web_login(client, shop)
    page = page_text(client.get(f"/vehicles/{vehicle_id}"))
    assert "64,000 km" in page and "Not known yet" in page


def test_tablet_gets_the_open_deferred_work_with_the_car_history(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    from server_fixtures import bearer

    _customer, vehicle_id, _visits = three_visits(app)
    tablet = shop.device_token("tablet", "Bay tablet")
    answer = client.get(f"/api/v1/vehicles/{vehicle_id}/history", headers=bearer(tablet)).json
    assert answer is not None
    assert [(item["description"], item["due_on"]) for item in answer["deferred_work"]] == [
        ("Rear wiper", "2025-07-09")
    ]
    assert answer["changes"]  # the car's records, as before
