"""The manager's page (people, technicians, devices), dispatch, and the customer's
status page: what it shows, and what it never shows."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop, bearer
from web_fixtures import csrf_token, make_visit, post_form, web_login

from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.back_office_tables import JobAssignment, Technician
from sync_server.shop_tables import User


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


def _user(app: Flask, username: str) -> User:
    with app.app_context():
        user = db.session().query(User).filter_by(username=username).one()
        db.session().expunge(user)
        return user


def _pin_row(page: str, username: str) -> str:
    """The people table's row of ``username``, as HTML."""
    row = next(part for part in page.split("<tr id=") if f"<td>{username}</td>" in part)
    return row.split("</tr>")[0]


def test_manager_sets_a_tablet_pin_and_a_new_pin_unlocks_it(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    from sync_server.people import PIN_MAX_FAILURES, PinRefused, check_pin

    shop.user("li.na")
    web_login(client, shop, "manager")
    li_na = _user(app, "li.na")
    assert "No PIN" in _pin_row(text(client.get("/admin")), "li.na")
    response = post_form(client, f"/admin/users/{li_na.id}/pin", {"pin": "2468"}, "/admin")
    assert response.status_code == 302 and response.headers["Location"].endswith("#users")
    response.close()
    page = text(client.get("/admin"))
    assert "Li.Na has a new tablet PIN." in page and "PIN set" in _pin_row(page, "li.na")
    with app.app_context():
        session = db.session()
        for _ in range(PIN_MAX_FAILURES):
            with pytest.raises(PinRefused):
                check_pin(session, "li.na", "0000")
    assert "Locked until" in _pin_row(text(client.get("/admin")), "li.na")
    post_form(client, f"/admin/users/{li_na.id}/pin", {"pin": "13579"}, "/admin").close()
    assert "PIN set" in _pin_row(text(client.get("/admin")), "li.na")
    with app.app_context():
        assert check_pin(db.session(), "li.na", "13579").username == "li.na"


def test_full_width_digits_make_a_pin(app: Flask, client: FlaskClient, shop: Shop) -> None:
    from sync_server.people import check_pin

    shop.user("li.na")
    web_login(client, shop, "manager")
    li_na = _user(app, "li.na")
    response = post_form(client, f"/admin/users/{li_na.id}/pin", {"pin": " １２３４ "}, "/admin")
    assert response.status_code == 302
    response.close()
    with app.app_context():
        assert check_pin(db.session(), "li.na", "1234").username == "li.na"


@pytest.mark.parametrize("pin", ["", "123", "123456789", "12a4", "1234 5"])
def test_a_pin_that_is_not_4_to_8_digits_is_explained_and_changes_nothing(
    app: Flask, client: FlaskClient, shop: Shop, pin: str
) -> None:
    shop.user("li.na")
    web_login(client, shop, "manager")
    li_na = _user(app, "li.na")
    response = post_form(client, f"/admin/users/{li_na.id}/pin", {"pin": pin}, "/admin")
    body = text(response)
    assert response.status_code == 400
    row = _pin_row(body, "li.na")
    assert "A PIN is 4 to 8 digits." in row and 'aria-invalid="true"' in row
    assert "No PIN" in row
    assert _user(app, "li.na").pin_hash is None
    # In the reader's language.
    client.get("/lang/zh_CN").close()
    zh_response = post_form(client, f"/admin/users/{li_na.id}/pin", {"pin": pin}, "/admin")
    assert "PIN 码为 4 到 8 位数字" in text(zh_response)


def test_only_a_manager_sets_pins_and_only_with_the_form_token(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    shop.user("li.na")
    li_na = _user(app, "li.na")
    url = f"/admin/users/{li_na.id}/pin"
    stranger = app.test_client()
    response = stranger.post(url, data={"pin": "2468", "csrf_token": csrf_token(stranger)})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response.close()
    advisor = app.test_client()
    web_login(advisor, shop, "advisor")
    response = post_form(advisor, url, {"pin": "2468"})
    assert response.status_code == 403
    response.close()
    web_login(client, shop, "manager")
    response = client.post(url, data={"pin": "2468"})
    assert response.status_code == 400 and "reload the page" in text(response)
    missing = post_form(client, "/admin/users/999999/pin", {"pin": "2468"}, "/admin")
    assert missing.status_code == 404
    missing.close()
    assert _user(app, "li.na").pin_hash is None
