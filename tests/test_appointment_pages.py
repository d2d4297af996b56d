"""The desk books an appointment on the web page (a new customer and car, checked as the
kiosk checks them); the lobby kiosk then finds it by its short code, masked; a full slot
says so and offers the next free times; a cancelled appointment is no longer found."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from appointment_fixtures import engine_session, plan_shop
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop, bearer
from web_fixtures import csrf_token, web_login

from sync_server.appointments.capacity import shop_calendar
from sync_server.shop_tables import Shop as ShopRow


def text(response: Any) -> str:
    body = response.get_data(as_text=True)
    response.close()
    return body


def morning_shop(app: Flask) -> tuple[ZoneInfo, datetime]:
    """Put the shop in a time zone where it is now mid-morning, so that a booking later
    today fits in the opening hours whenever the test runs."""
    now = datetime.now(UTC)
    offset = (10 - now.hour) % 24
    offset = offset - 24 if offset > 14 else offset
    name = "Etc/UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
    with engine_session(app) as session:
        shop = session.get(ShopRow, 1)
        assert shop is not None
        shop.timezone = name
        session.commit()
        zone = ZoneInfo(name)
        local_now = now.astimezone(zone)
        if not shop_calendar(shop).is_open_day(local_now.date()):
            pytest.skip("the shop is closed today (a public holiday)")
    start = local_now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    return zone, start


def booking_form(start: datetime, **extra: str) -> dict[str, str]:
    return {
        "channel": "web",
        "name": "刘洋",
        "phone": "139 1234 5678",
        "plate": "沪B 67890",
        "preset": "brakes",
        "requested_work": "",
        "starts": start.strftime("%Y-%m-%dT%H:%M"),
        "minutes": "",
        "bay": "",
        "technician": "",
        **extra,
    }


def test_a_web_booked_appointment_is_found_by_the_kiosk_and_cancelled(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    plan_shop(app, specialities=(("brakes", "engine"),))
    _zone, start = morning_shop(app)
    web_login(client, shop)
    page = text(client.get("/appointments"))
    assert "Book an appointment" in page

    # A bad phone: said clearly, what was typed stays, nothing is booked.
    token = csrf_token(client, "/appointments")
    refused = client.post(
        "/appointments", data={**booking_form(start, phone="139 12"), "csrf_token": token}
    )
    assert refused.status_code == 400
    body = text(refused)
    assert 'aria-invalid="true"' in body and 'value="刘洋"' in body

    booked = client.post("/appointments", data={**booking_form(start), "csrf_token": token})
    assert booked.status_code == 302, text(booked)
    detail = text(client.get(booked.headers["Location"]))
    code = re.search(r'id="appointment-code">([A-Z0-9]+)<', detail)
    assert code, detail
    assert "Brake pads and discs" in detail and "沪B67890" in detail

    # The same time again: only one bay and technician, so it is full.
    again = client.post(
        "/appointments",
        data={**booking_form(start, phone="13800001111", plate="京C11111"), "csrf_token": token},
    )
    assert again.status_code == 409
    full = text(again)
    assert "This time is fully booked." in full and 'id="next-free"' in full

    kiosk = shop.device_token("kiosk")
    found = client.get(f"/api/v1/appointments/lookup?code={code.group(1)}", headers=bearer(kiosk))
    assert found.status_code == 200
    (appointment,) = found.json["appointments"]
    assert appointment["requested_work"] == "Brake pads and discs"
    assert "刘洋" not in str(found.json) and "13912345678" not in str(found.json)

    cancel_url = booked.headers["Location"] + "/cancel"
    cancelled = client.post(cancel_url, data={"csrf_token": token})
    assert cancelled.status_code == 302
    assert "Cancelled" in text(client.get(booked.headers["Location"]))
    gone = client.get(f"/api/v1/appointments/lookup?code={code.group(1)}", headers=bearer(kiosk))
    assert gone.json["appointments"] == []


def test_the_appointment_page_speaks_chinese(app: Flask, client: FlaskClient, shop: Shop) -> None:
    plan_shop(app)
    web_login(client, shop)
    client.get("/lang/zh_CN")
    page = text(client.get("/appointments"))
    assert "预约" in page and "Book an appointment" not in page


def test_day_plan_shows_load_and_no_shows_and_the_desk_undoes_one(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    from sync_server.appointment_tables import AppointmentPlan
    from sync_server.appointments.booking import BookingRequest, book

    made = plan_shop(app)
    zone, later = morning_shop(app)
    early = later - timedelta(hours=3)  # 09:00, an hour ago: past the grace period
    with engine_session(app) as session:
        calendar = shop_calendar(session.get(ShopRow, 1))  # type: ignore[arg-type]
        yesterday = datetime.now(UTC) - timedelta(days=1)
        for start in (early, later):
            booked = book(
                session,
                calendar,
                BookingRequest(made.customer_id, made.vehicle_id, start, 60, "engine", "Oil"),
                now=yesterday,
            )
            session.get(AppointmentPlan, booked.id).updated_at = yesterday  # type: ignore[union-attr]
        session.commit()
    web_login(client, shop)
    page = text(client.get("/appointments/day-plan"))
    assert page.count("No-show") == 1
    assert 'class="full">60<' in page  # the bay and the technician, the hour booked
    undo = re.search(r'action="(/appointments/[^"]+/no-show/undo)"', page)
    assert undo
    token = csrf_token(client, "/appointments/day-plan")
    assert client.post(undo.group(1), data={"csrf_token": token}).status_code == 302
    again = text(client.get("/appointments/day-plan"))
    assert "No-show" not in again.replace("marked a no-show", "")
    client.get("/lang/zh_CN")
    chinese = text(client.get("/appointments/day-plan"))
    assert "当日计划" in chinese and zone is not None
