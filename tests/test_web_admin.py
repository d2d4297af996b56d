"""The manager's page (people, technicians, devices), dispatch, and the customer's
status page: what it shows, and what it never shows."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop, bearer
from web_fixtures import make_visit, post_form, web_login

from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.models import JobAssignment, Technician, User


def text(response) -> str:  # type: ignore[no-untyped-def]
    body = response.get_data(as_text=True)
    response.close()
    return body


def test_manager_adds_a_person_and_bad_input_keeps_what_was_typed(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    web_login(client, shop, "manager")
    bad = post_form(
        client,
        "/admin/users",
        {
            "username": "wang.li",
            "display_name": "Wang Li 王丽",
            "role": "advisor",
            "password": "short",
        },
        "/admin",
    )
    body = text(bad)
    assert bad.status_code == 400 and "at least 8 characters" in body
    assert 'value="wang.li"' in body and 'value="Wang Li 王丽"' in body
    good = post_form(
        client,
        "/admin/users",
        {
            "username": "wang.li",
            "display_name": "Wang Li",
            "role": "advisor",
            "password": "long-enough-1",
        },
        "/admin",
    )
    assert good.status_code == 302
    with app.app_context():
        assert db.session().query(User).filter_by(username="wang.li").one().role.value == "advisor"


def test_manager_issues_a_pairing_code_with_its_qr_and_revokes_a_device(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    token = shop.device_token("tablet", "Bay 3 tablet")
    web_login(client, shop, "manager")
    body = text(
        post_form(
            client, "/admin/pairing-codes", {"role": "kiosk", "device_name": "Lobby"}, "/admin"
        )
    )
    assert "data:image/png;base64," in body and "Pairing code" in body
    assert client.get("/api/v1/devices/me", headers=bearer(token)).status_code == 200
    page = text(client.get("/admin"))
    device_id = page.split("/admin/devices/")[1].split("/revoke")[0]
    assert post_form(client, f"/admin/devices/{device_id}/revoke", {}, "/admin").status_code == 302
    assert client.get("/api/v1/devices/me", headers=bearer(token)).status_code == 401


def test_technicians_and_dispatch(app: Flask, client: FlaskClient, shop: Shop) -> None:
    web_login(client, shop, "manager")
    refused = post_form(client, "/admin/technicians", {"name": "Chen Gang"}, "/admin")
    assert refused.status_code == 400 and 'value="Chen Gang"' in text(refused)
    post_form(
        client,
        "/admin/technicians",
        {"name": "Chen Gang", "speciality": ["brakes", "tyres"]},
        "/admin",
    )
    made = make_visit(app, status=VisitStatus.in_progress)
    with app.app_context():
        technician = db.session().query(Technician).one()
        assert technician.specialities == ["brakes", "tyres"]
        technician_id = technician.id
    response = post_form(
        client, f"/visits/{made.visit_id}/dispatch", {"technician_id": str(technician_id)}, "/admin"
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session().query(JobAssignment).one().technician_id == technician_id
    assert "Chen Gang" in text(client.get(f"/visits/{made.visit_id}"))


def test_status_page_shows_the_step_and_no_personal_data(app: Flask) -> None:
    made = make_visit(app, name="张伟", phone="+8613812345678", status=VisitStatus.in_progress)
    client = app.test_client()
    body = text(client.get(f"/status/{made.status_token}"))
    assert "张*" in body and "张伟" not in body
    assert "13812345678" not in body and "京A12345" not in body
    assert 'class="done now"' in body and "Work in progress" in body
    zh = text(client.get(f"/status/{made.status_token}", headers={"Accept-Language": "zh-CN"}))
    assert "我的车到哪一步了" in zh


def test_status_page_for_an_unknown_or_short_token_is_404(app: Flask) -> None:
    make_visit(app)
    client = app.test_client()
    assert client.get("/status/nope").status_code == 404
    assert client.get("/status/" + "x" * 22).status_code == 404
