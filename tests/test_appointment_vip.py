"""VIPs: a manager makes a customer a VIP with a reason (on the appointment page, or when
booking them on the VIP line, which advisors may use only for VIPs); the flag reaches the
tablets in the customer's record as ``tier: vip``; a VIP checking in at the lobby kiosk —
even typed in anew as a walk-in — is flagged on the board; a device can never make
anyone a VIP; and the kiosk's look-up answer says nothing about tiers."""

from __future__ import annotations

import re
from datetime import timedelta

from appointment_fixtures import engine_session, plan_shop
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop, bearer
from sqlalchemy import select
from sync_changes import change, fields_of, push, walk_in
from test_appointment_pages import booking_form, morning_shop, text
from web_fixtures import csrf_token, web_login

from shared import domain
from sync_server.appointment_tables import AppointmentPlan
from sync_server.sync.tables import SyncRecord
from sync_server.visit_tables import Customer


def synced_tier(app: Flask, customer_id: str) -> str:
    with engine_session(app) as session:
        row = session.get(SyncRecord, ("customer", customer_id))
        assert row is not None
        return str(row.fields["tier"])


def test_the_vip_line_is_for_vips_and_a_manager_makes_one_with_a_reason(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    plan_shop(app, bays=2, specialities=(("brakes",), ("brakes",)))
    _zone, start = morning_shop(app)
    web_login(client, shop, "advisor")
    token = csrf_token(client, "/appointments")
    refused = client.post(
        "/appointments", data={**booking_form(start, channel="vip"), "csrf_token": token}
    )
    assert refused.status_code == 400
    body = text(refused)
    assert "The VIP line is for VIP customers" in body and 'value="刘洋"' in body
    assert 'name="vip_reason"' not in body  # only a manager may make a VIP

    advisor, client = client, app.test_client()
    web_login(client, shop, "manager")
    token = csrf_token(client, "/appointments")
    no_reason = client.post(
        "/appointments", data={**booking_form(start, channel="vip"), "csrf_token": token}
    )
    assert no_reason.status_code == 400
    assert "Give the reason this customer is a VIP." in text(no_reason)
    booked = client.post(
        "/appointments",
        data={
            **booking_form(start, channel="vip", vip_reason="Fleet account, 12 cars"),
            "csrf_token": token,
        },
    )
    assert booked.status_code == 302, text(booked)
    detail = text(client.get(booked.headers["Location"]))
    assert 'id="customer-vip"' in detail and "Fleet account, 12 cars" in detail
    with engine_session(app) as session:
        customer = session.scalar(select(Customer).where(Customer.phone == "+8613912345678"))
        assert customer is not None and customer.vip
        (plan,) = session.scalars(select(AppointmentPlan)).all()
        assert plan.vip
    assert synced_tier(app, customer.id) == "vip"  # what the tablets read

    # The manager takes it back on the appointment page; an advisor may not.
    vip_url = booked.headers["Location"] + "/vip"
    empty = client.post(vip_url, data={"vip": "on", "vip_reason": " ", "csrf_token": token})
    assert empty.status_code == 400 and "Give the reason" in text(empty)
    assert client.post(vip_url, data={"csrf_token": token}).status_code == 302
    assert synced_tier(app, customer.id) == "regular"
    token = csrf_token(advisor, "/appointments")
    tried = advisor.post(vip_url, data={"vip": "on", "vip_reason": "x", "csrf_token": token})
    assert tried.status_code == 403


def test_a_vip_at_the_kiosk_is_flagged_on_the_board_and_the_kiosk_is_told_nothing(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    from sync_server.appointments.vip import set_vip
    from sync_server.sync.records import lock_feed

    made = plan_shop(app, specialities=(("brakes",),))
    _zone, start = morning_shop(app)
    with engine_session(app) as session:
        lock_feed(session)
        set_vip(session, made.customer_id, True, "Board member of the dealer group")
        session.commit()
    web_login(client, shop, "manager")
    token = csrf_token(client, "/appointments")
    booked = client.post(
        "/appointments",
        data={
            **booking_form(start, phone="+8613812345678", plate="京A12345"),
            "csrf_token": token,
        },
    )
    assert booked.status_code == 302, text(booked)
    code = re.search(
        r'id="appointment-code">([A-Z0-9]+)<', text(client.get(booked.headers["Location"]))
    )
    assert code
    kiosk = shop.device_token("kiosk")
    found = client.get(f"/api/v1/appointments/lookup?code={code.group(1)}", headers=bearer(kiosk))
    assert found.status_code == 200 and found.json["appointments"]
    answer = str(found.json).lower()
    assert "tier" not in answer and "vip" not in answer

    # The VIP walks in instead and is typed in anew at the kiosk (a new customer record,
    # no tier claimed): the server matches the phone to the VIP in the customer file, so
    # the new record is a VIP too — what the tablets' queues flag — and the board knows
    # the phone. The kiosk's answer says nothing about it.
    changes, visit_id = walk_in(at=1_765_000_000_000)
    customer_id = changes[0]["id"]
    changes[0]["fields"].pop("tier", None)
    answer = push(client, kiosk, changes).json
    assert [result["status"] for result in answer["results"]] == [201, 201, 201]
    assert synced_tier(app, customer_id) == "vip"
    assert "vip" not in str(answer).lower()
    tablet = shop.device_token("tablet")
    feed = client.get("/api/v1/sync/changes?since=0&limit=500", headers=bearer(tablet)).json
    (pulled,) = [c for c in feed["changes"] if c["kind"] == "customer" and c["id"] == customer_id]
    assert pulled["fields"]["tier"] == "vip"
    # A device claiming a tier it may not give is not believed: a phone no VIP has
    # stays "regular", whatever the kiosk says.
    intruder = domain.Customer(name="Someone", phone="+8613100000000", tier=domain.CustomerTier.vip)
    pushed = push(
        client, kiosk, [change("customer", intruder.id, fields_of(intruder), 1_765_000_000_100)]
    )
    assert pushed.json["results"][0]["status"] == 201
    assert synced_tier(app, intruder.id) == "regular"
    with engine_session(app) as session:
        assert not session.get(Customer, intruder.id).vip  # type: ignore[union-attr]
    board = text(client.get("/board/cards"))
    card = board.split(f'href="/visits/{visit_id}"')[0].rsplit("<a ", 1)[1]
    assert "vip" in card
    assert start - timedelta(hours=2)  # the shop was open: the kiosk could find the booking
