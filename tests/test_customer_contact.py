"""The advisor edits a customer's contact details from the visit page; every change of
name, phone, e-mail or preferred channel is kept with time, who made it and the old
value — from the desk, and from devices whose changes arrive by sync."""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop, bearer
from sqlalchemy import select
from web_fixtures import csrf_token, make_visit, web_login

from sync_server import db
from sync_server.shop_tables import User
from sync_server.sync.tables import SyncRecord
from sync_server.visit_tables import Customer, CustomerContactChange, Visit


def text(response: Any) -> str:
    body = response.get_data(as_text=True)
    response.close()
    return body


def history(app: Flask, customer_id: str) -> list[CustomerContactChange]:
    with app.app_context():
        return list(
            db.session().scalars(
                select(CustomerContactChange)
                .where(CustomerContactChange.customer_id == customer_id)
                .order_by(CustomerContactChange.id)
            )
        )


def test_advisor_edits_contact_details_from_the_visit_page(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app, name="张伟", phone="+8613812345678", channel="sms")
    username = web_login(client, shop)
    visit_page = text(client.get(f"/visits/{made.visit_id}"))
    assert "Edit contact details" in visit_page
    form_url = f"/customers/{made.customer_id}/contact?visit={made.visit_id}"
    assert form_url.replace("?", "?") in visit_page.replace("&amp;", "&")
    page = text(client.get(form_url))
    assert 'value="+8613812345678"' in page and "No changes since" in page

    # A wrong phone: said clearly, what was typed is kept, nothing is saved.
    token = csrf_token(client, form_url)
    typed = {
        "name": "张伟",
        "phone": "138 1234",
        "email": "zhang.wei@example.com",
        "preferred_channel": "email",
        "visit": made.visit_id,
        "csrf_token": token,
    }
    refused = client.post(f"/customers/{made.customer_id}/contact", data=typed)
    body = text(refused)
    assert refused.status_code == 400
    assert 'value="zhang.wei@example.com"' in body and 'aria-invalid="true"' in body
    assert history(app, made.customer_id) == []

    saved = client.post(
        f"/customers/{made.customer_id}/contact",
        data={**typed, "phone": "139 0000 5605"},
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith(made.visit_id)
    visit_page = text(client.get(f"/visits/{made.visit_id}"))
    assert "zhang.wei@example.com" in visit_page and "+8613900005605" in visit_page

    changes = history(app, made.customer_id)
    assert {(c.field, c.old_value, c.new_value) for c in changes} == {
        ("phone", "+8613812345678", "+8613900005605"),
        ("email", "", "zhang.wei@example.com"),
        ("preferred_channel", "sms", "email"),
    }
    with app.app_context():
        session = db.session()
        person = session.scalars(select(User).where(User.username == username)).one()
        assert {(c.source, c.user_id, c.device_uid) for c in changes} == {
            ("person", person.id, None)
        }
        # Through the sync engine: devices get the new details in their feed.
        record = session.get(SyncRecord, ("customer", made.customer_id))
        assert record.fields["email"] == "zhang.wei@example.com"
        # The visit's messages follow the new channel.
        assert session.get(Visit, made.visit_id).contact_channel == "email"

    page = text(client.get(form_url))
    history_part = page.split("History of the contact details")[1]
    assert "+8613812345678" in history_part and person.display_name in history_part

    client.get("/lang/zh_CN")
    page = text(client.get(form_url))
    assert "联系方式" in page and "Contact details" not in page


def test_a_device_change_by_sync_is_kept_with_the_device(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app, name="", phone="+8613812345678")
    token = shop.device_token("tablet", "Tablet 2")
    device_uid = client.get("/api/v1/devices/me", headers=bearer(token)).json["device_id"]
    now_ms = int(time.time() * 1000)
    change = {
        "change_id": str(uuid.uuid4()),
        "kind": "customer",
        "id": made.customer_id,
        "hlc": f"{now_ms + 5000:016d}-0000-{device_uid}",
        "fields": {"name": "Zhang Wei", "email": "zw@example.com"},
    }
    pushed = client.post(
        "/api/v1/sync/push", json={"schema": 1, "changes": [change]}, headers=bearer(token)
    )
    assert pushed.status_code == 200, pushed.json
    assert pushed.json["results"][0]["status"] == 201, pushed.json
    changes = history(app, made.customer_id)
    assert {(c.field, c.old_value, c.new_value) for c in changes} == {
        ("name", "", "Zhang Wei"),
        ("email", "", "zw@example.com"),
    }
    assert {(c.source, c.device_uid) for c in changes} == {("device", device_uid)}
    with app.app_context():
        assert db.session().get(Customer, made.customer_id).name == "Zhang Wei"

    # The same change pushed again changes nothing more.
    client.post("/api/v1/sync/push", json={"schema": 1, "changes": [change]}, headers=bearer(token))
    assert len(history(app, made.customer_id)) == 2

    web_login(client, shop)
    page = text(client.get(f"/customers/{made.customer_id}/contact"))
    assert "Device: Tablet 2" in page.split("History of the contact details")[1]
