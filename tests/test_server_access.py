"""Pairing, sign-in and the deny-by-default gate, as devices and people meet them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import PASSWORD, Shop, bearer
from sqlalchemy import update

from sync_server import db
from sync_server.access import allow
from sync_server.pairing import issue_code
from sync_server.shop_tables import DeviceRole, PairingCode
from sync_server.table_base import utcnow


def new_code(app: Flask, role: str = "kiosk") -> str:
    with app.app_context():
        return issue_code(db.session(), DeviceRole(role), device_name="Lobby").display


def test_manager_issues_code_and_kiosk_pairs_with_it(client: FlaskClient, shop: Shop) -> None:
    shop.login(client, role="manager")
    issued = client.post("/api/v1/pairing-codes", json={"role": "kiosk", "device_name": "Lobby 1"})
    assert issued.status_code == 201
    code = issued.json["code"]
    assert len(code) == 9 and code[4] == "-"
    assert issued.json["qr_payload"].endswith("#" + code)

    device = client.application.test_client()  # a fresh client: no manager cookie
    typed = code.lower().replace("-", " ")  # people type codes loosely
    paired = device.post("/api/v1/devices/pair", json={"code": typed, "device_name": "vm-42"})
    assert paired.status_code == 201, paired.json
    assert paired.json["name"] == "Lobby 1"  # the manager's name, not the host name
    assert paired.json["role"] == "kiosk"
    assert re.fullmatch(r"K\d+", paired.json["ticket_prefix"])
    assert paired.json["shop"]["plate_region"] == "CN"
    me = device.get("/api/v1/devices/me", headers=bearer(paired.json["token"]))
    assert me.status_code == 200
    assert me.json["device_id"] == paired.json["device_id"]
    assert me.json["last_seen_at"] is not None
    # The shop's greeting target, for the tablet's queue (the board's setting).
    assert me.json["shop"]["greeting_target_minutes"] == 10
    client.application.config["GREETING_TARGET_MINUTES"] = 25
    me = device.get("/api/v1/devices/me", headers=bearer(paired.json["token"]))
    assert me.json["shop"]["greeting_target_minutes"] == 25


def test_token_is_stored_only_as_a_hash(app: Flask, client: FlaskClient) -> None:
    paired = client.post("/api/v1/devices/pair", json={"code": new_code(app)})
    token = paired.json["token"]
    with app.extensions["db_engine"].connect() as connection:
        dump = "\n".join(str(row) for row in connection.exec_driver_sql("SELECT * FROM devices"))
    assert token not in dump


def test_reused_code_is_refused(app: Flask, client: FlaskClient) -> None:
    code = new_code(app)
    assert client.post("/api/v1/devices/pair", json={"code": code}).status_code == 201
    again = client.post("/api/v1/devices/pair", json={"code": code})
    assert again.status_code == 400
    assert again.json["errors"][0]["code"] == "pairing_code_used"
    assert again.mimetype == "application/problem+json"


def test_expired_code_is_refused(app: Flask, client: FlaskClient) -> None:
    code = new_code(app)
    with app.app_context():
        db.session().execute(update(PairingCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session().commit()
    refused = client.post("/api/v1/devices/pair", json={"code": code})
    assert refused.status_code == 400
    assert refused.json["errors"][0]["code"] == "pairing_code_expired"


def test_unknown_code_explains_in_chinese(client: FlaskClient) -> None:
    refused = client.post(
        "/api/v1/devices/pair", json={"code": "ZZZZ-ZZZZ"}, headers={"Accept-Language": "zh-CN"}
    )
    assert refused.status_code == 400
    error = refused.json["errors"][0]
    assert error["code"] == "pairing_code_unknown"
    assert error["message"] != error["message_zh"]
    assert refused.json["detail"] == error["message_zh"]


def test_revoked_device_fails_on_its_next_request(client: FlaskClient, shop: Shop) -> None:
    token = shop.device_token("tablet")
    me = client.get("/api/v1/devices/me", headers=bearer(token))
    assert me.status_code == 200
    shop.login(client, role="manager")
    revoked = client.post(f"/api/v1/devices/{me.json['device_id']}/revoke")
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    after = client.get("/api/v1/devices/me", headers=bearer(token))
    assert after.status_code == 401
    assert after.json["type"].endswith("/device-revoked")


@pytest.mark.parametrize(
    ("role", "method", "url", "expected"),
    [
        ("kiosk", "get", "/api/v1/customers", 403),
        ("kiosk", "get", "/api/v1/devices", 403),
        ("kiosk", "post", "/api/v1/pairing-codes", 403),
        ("tablet", "get", "/api/v1/devices", 403),
        ("tablet", "get", "/api/v1/customers", 200),
        ("kiosk", "get", "/api/v1/devices/me", 200),
        (None, "get", "/api/v1/customers", 401),
        (None, "get", "/api/v1/devices/me", 401),
        ("advisor", "post", "/api/v1/pairing-codes", 403),
        ("advisor", "get", "/api/v1/customers", 200),
        ("manager", "get", "/api/v1/devices", 200),
    ],
)
def test_roles(
    client: FlaskClient, shop: Shop, role: str | None, method: str, url: str, expected: int
) -> None:
    headers = {}
    if role in ("kiosk", "tablet"):
        headers = bearer(shop.device_token(role))
    elif role:
        shop.login(client, role=role)
    response = getattr(client, method)(url, headers=headers, json={} if method == "post" else None)
    assert response.status_code == expected, response.json


def test_view_without_access_rule_is_refused(app: Flask) -> None:
    @app.get("/api/v1/forgotten")
    def forgotten() -> str:
        return "leak"

    @app.get("/api/v1/declared")
    @allow("manager")
    def declared() -> str:
        return "ok"

    client = app.test_client()
    assert client.get("/api/v1/forgotten").status_code == 403
    assert client.get("/api/v1/declared").status_code == 401


def test_wrong_password_and_bad_bearer(client: FlaskClient, shop: Shop) -> None:
    username = shop.user("tom")
    wrong = client.post("/api/v1/auth/login", json={"username": username, "password": "nope-nope"})
    assert wrong.status_code == 401
    assert client.get("/api/v1/auth/me").status_code == 401
    ok = client.post("/api/v1/auth/login", json={"username": "TOM ", "password": PASSWORD})
    assert ok.status_code == 200 and ok.json["role"] == "advisor"
    assert client.get("/api/v1/auth/me").json["name"] == "Tom"
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401
    forged = client.get("/api/v1/devices/me", headers=bearer("made-up-token"))
    assert forged.status_code == 401
    assert forged.json["type"].endswith("/device-unknown")


def test_deactivated_user_loses_session(app: Flask, client: FlaskClient, shop: Shop) -> None:
    from sync_server.shop_tables import User

    shop.login(client, shop.user("li.na"))
    assert client.get("/api/v1/auth/me").status_code == 200
    with app.app_context():
        db.session().execute(update(User).values(active=False))
        db.session().commit()
    assert client.get("/api/v1/auth/me").status_code == 401
