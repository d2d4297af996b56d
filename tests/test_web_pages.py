"""The back-office pages through the test client: sign-in, CSRF, roles, HTML errors, the
board and its search, and the visit page with the walk-around as the tablet sent it."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import PASSWORD, Shop
from web_fixtures import csrf_token, make_visit, post_form, web_login

from shared import domain
from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.sync.records import lock_feed, put_server_record, update_server_record
from sync_server.sync.tables import FieldConflict
from sync_server.web import CSRF_EXEMPT_ENDPOINTS


def text(response) -> str:  # type: ignore[no-untyped-def]
    body = response.get_data(as_text=True)
    response.close()
    return body


def test_pages_send_a_stranger_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/board?q=abc")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/board")


def test_api_still_answers_problem_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/customers")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


def test_unknown_page_is_a_friendly_html_page_in_chinese(client: FlaskClient) -> None:
    response = client.get("/no-such-page", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "未找到" in text(response)


def test_sign_in_keeps_the_username_on_a_wrong_password(client: FlaskClient, shop: Shop) -> None:
    shop.user("li.na")
    response = client.post(
        "/login",
        data={"username": "li.na", "password": "wrong-one", "csrf_token": csrf_token(client)},
    )
    body = text(response)
    assert response.status_code == 400
    assert 'value="li.na"' in body and "not right" in body


def test_sign_in_without_csrf_token_is_refused(client: FlaskClient, shop: Shop) -> None:
    shop.user("li.na")
    response = client.post("/login", data={"username": "li.na", "password": PASSWORD})
    assert response.status_code == 400
    assert "reload the page" in text(response)
    assert client.get("/board").status_code == 302  # still not signed in


def test_sign_in_goes_to_the_page_asked_for_and_never_elsewhere(
    client: FlaskClient, shop: Shop
) -> None:
    shop.user("li.na")
    token = csrf_token(client)
    response = client.post(
        "/login?next=https://evil.example/",
        data={"username": "li.na", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/board"
    post_form(client, "/logout", {})
    response = client.post(
        "/login",
        data={
            "username": "li.na",
            "password": PASSWORD,
            "csrf_token": csrf_token(client),
            "next": "/admin",
        },
    )
    assert response.headers["Location"] == "/admin"


def test_sign_out_needs_the_form_token(client: FlaskClient, shop: Shop) -> None:
    web_login(client, shop)
    assert client.post("/logout").status_code == 400
    assert post_form(client, "/logout", {}).status_code == 302
    assert client.get("/board").status_code == 302


def test_advisor_may_not_open_the_managers_page(client: FlaskClient, shop: Shop) -> None:
    web_login(client, shop, "advisor")
    response = client.get("/admin")
    assert response.status_code == 403 and response.mimetype == "text/html"


def test_language_switch_sticks(client: FlaskClient, shop: Shop) -> None:
    web_login(client, shop)
    client.get("/lang/zh_CN")
    assert "到店看板" in text(client.get("/board"))
    client.get("/lang/en")
    assert "Visit board" in text(client.get("/board"))


def test_board_shows_columns_vip_first_and_waiting_time(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    make_visit(
        app,
        name="Regular Rita",
        plate="京A11111",
        phone="+8613700001111",
        minutes_ago=50,
        ticket="K-001",
    )
    make_visit(app, name="Vip Victor", plate="京A22222", tier="vip", minutes_ago=5, ticket="K-002")
    make_visit(
        app, name="Quoted Quinn", plate="京A33333", status=VisitStatus.quote_sent, ticket="K-003"
    )
    web_login(client, shop)
    body = text(client.get("/board"))
    column = body.split('data-status="walkaround_done"')[1].split("</section>")[0]
    assert column.index("Vip Victor") < column.index("Regular Rita")
    assert "Waiting 50 min" in column
    assert "Quoted Quinn" in body.split('data-status="quote_sent"')[1].split("</section>")[0]
    fragment = client.get("/board/cards")
    assert fragment.headers["Cache-Control"] == "no-store"
    assert "<html" not in text(fragment)


@pytest.mark.parametrize(
    ("query", "found"),
    [("京A 22", True), ("13900001111", True), ("LVGBE40K", True), ("victor", True), ("zzz", False)],
)
def test_search_by_plate_phone_vin_or_name(
    app: Flask, client: FlaskClient, shop: Shop, query: str, found: bool
) -> None:
    make_visit(
        app, name="Vip Victor", plate="京A22222", phone="+8613900001111", vin="LVGBE40K3KG118422"
    )
    make_visit(app, name="Other Olga", plate="沪B99999", phone="+8613700002222")
    web_login(client, shop)
    body = text(client.get("/board/cards", query_string={"q": query}))
    assert ("Vip Victor" in body) is found
    assert "Other Olga" not in body


def _walkaround(app: Flask, visit_id: str, *, stored_photo: bool, edit_after_signing: bool) -> str:
    """A walk-around with one mark pinned on one photo, signed; optionally edited after."""
    jpeg = hashlib.sha256(b"photo").hexdigest()
    with app.app_context():
        session = db.session()
        walkaround = domain.Walkaround(visit_id=visit_id, odometer_km=48210, fuel_eighths=5)
        photo = domain.VisitPhoto(
            visit_id=visit_id,
            walkaround_id=walkaround.id,
            image=domain.PhotoRef(
                sha256=jpeg, size_bytes=10, content_type=domain.ImageType.jpeg, width=4, height=3
            ),
            caption="Front bumper",
        )
        mark = domain.DamageMark(
            walkaround_id=walkaround.id,
            view=domain.DiagramView.front,
            x=0.3,
            y=0.6,
            damage_type=domain.DamageType.scratch,
            severity=2,
            pins=[domain.PhotoPin(jpeg, 0.4, 0.5)],
        )
        walkaround.photos = [photo.image]
        walkaround.marks = [mark]
        signature = domain.Signature(
            visit_id=visit_id,
            purpose=domain.SignaturePurpose.checkin_sheet,
            signed_sha256=walkaround.report_sha256(),
            signer_name="Zhang Wei",
        )
        lock_feed(session)
        for kind, record in (
            ("walkaround", walkaround),
            ("photo", photo),
            ("damage_mark", mark),
            ("signature", signature),
        ):
            put_server_record(session, kind, record)
        if edit_after_signing:
            update_server_record(session, "walkaround", walkaround.id, {"odometer_km": 48999})
        if stored_photo:
            from sync_server.sync.tables import Blob

            session.add(
                Blob(
                    sha256=jpeg,
                    content_type="image/jpeg",
                    size_bytes=10,
                    width=4,
                    height=3,
                    uploaded_by="t",
                )
            )
        session.add(
            FieldConflict(
                kind="visit",
                record_id=visit_id,
                field="concern_text",
                losing_value="Squeak at the back",
                losing_hlc="0",
                losing_origin="tablet-2",
                winning_value="Brake noise",
                winning_hlc="1",
            )
        )
        session.commit()
    return jpeg


def test_visit_page_shows_the_walkaround_signed_and_unchanged(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    sha = _walkaround(app, made.visit_id, stored_photo=True, edit_after_signing=False)
    web_login(client, shop)
    body = text(client.get(f"/visits/{made.visit_id}"))
    assert "Signed, unchanged" in body and "Changed after signing" not in body
    assert "48,210 km" in body and "5/8" in body
    assert f"/api/v1/blobs/{sha}/thumbnail" in body
    assert ">A2</span>" in body  # the mark's pin on its photo
    assert "Squeak at the back" in body  # the value that lost a sync conflict


def test_visit_page_flags_a_sheet_changed_after_signing_and_pending_photos(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    sha = _walkaround(app, made.visit_id, stored_photo=False, edit_after_signing=True)
    web_login(client, shop)
    body = text(client.get(f"/visits/{made.visit_id}"))
    assert "Changed after signing" in body
    assert "Photo pending" in body and f"/blobs/{sha}/thumbnail" not in body


def test_unknown_visit_is_404_html(client: FlaskClient, shop: Shop) -> None:
    web_login(client, shop)
    response = client.get("/visits/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404 and response.mimetype == "text/html"
    response.close()


def test_a_crash_on_a_page_is_an_html_page_without_a_trace(app: Flask, shop: Shop) -> None:
    from sync_server.access import allow

    @app.get("/boom-page")
    @allow("advisor")
    def boom_page() -> str:
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    web_login(client, shop)
    response = client.get("/boom-page")
    body = text(response)
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "secret internals" not in body and "Traceback" not in body
    assert "Incident number" in body


def test_language_switch_never_leaves_the_site(client: FlaskClient) -> None:
    response = client.get("/lang/zh_CN?next=https://evil.example/")
    assert response.headers["Location"] == "/board"
    response = client.get("/lang/en", headers={"Referer": "https://evil.example/board"})
    assert response.headers["Location"] == "/board"


def test_devices_cannot_send_quotes_or_approvals(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    import uuid

    from server_fixtures import bearer

    made = make_visit(app)
    quote = domain.Quote(visit_id=made.visit_id, lines=[])
    fields = {"visit_id": made.visit_id, "version": 1}
    for kind, record_id in (("quote", quote.id), ("approval", str(uuid.uuid4()))):
        response = client.post(
            "/api/v1/sync/push",
            json={
                "schema": 1,
                "changes": [
                    {
                        "change_id": str(uuid.uuid4()),
                        "kind": kind,
                        "id": record_id,
                        "hlc": "0001763800000000-0000-tablet",
                        "fields": fields,
                    }
                ],
            },
            headers=bearer(shop.device_token("tablet")),
        )
        assert response.json["results"][0]["status"] == 403


def test_visit_page_reads_only_this_visits_records_and_leaves_out_taken_back_marks(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    other = make_visit(app, plate="粤B54321", phone="+8613900000000", ticket="K-002")
    _walkaround(app, made.visit_id, stored_photo=True, edit_after_signing=False)
    _walkaround(app, other.visit_id, stored_photo=False, edit_after_signing=False)
    with app.app_context():
        session = db.session()
        from sync_server import visits

        walkaround = visits.walkarounds(session, made.visit_id)[0]
        (mark,) = visits.damage_marks(session, [walkaround.id])
        lock_feed(session)
        update_server_record(session, "damage_mark", mark.id, {"deleted": True})
        update_server_record(
            session, "walkaround", walkaround.id, {"warning_lights": ["engine", "abs"]}
        )
        session.commit()
        assert visits.damage_marks(session, [walkaround.id]) == []
        (taken_back,) = visits.damage_marks(session, [walkaround.id], with_deleted=True)
        assert taken_back.deleted and taken_back.id == mark.id
        assert len(visits.walkarounds(session, made.visit_id)) == 1
    web_login(client, shop)
    body = text(client.get(f"/visits/{made.visit_id}"))
    assert ">A2</span>" not in body  # the mark taken back is gone, its photo stays
    # the other visit's photo (pending there) is not here
    assert body.count('<a class="photo" ') == 1 and 'class="photo pending"' not in body
    assert "Check engine, ABS" in body  # warning lights by name, not by code
    client.get("/lang/zh_CN").close()
    assert "发动机故障灯" in text(client.get(f"/visits/{made.visit_id}"))


def test_error_pages_say_what_to_do(client: FlaskClient, shop: Shop) -> None:
    web_login(client, shop, "advisor")
    forbidden = text(client.get("/admin"))
    assert "Ask a manager" in forbidden and '· <a href="/board">' in forbidden
    missing = text(client.get("/visits/00000000-0000-4000-8000-000000000000"))
    assert "does not exist" in missing
    stranger = text(client.application.test_client().get("/nothing-here"))
    assert "does not exist" in stranger and '· <a href="/board">' not in stranger


def test_every_page_form_without_csrf_token_is_refused(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    """Whatever blueprint a page is in (appointments included), a POST without the form's
    token is refused before the page does anything."""
    web_login(client, shop, "manager")
    pages = app.extensions["page_blueprints"]
    posts = [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.endpoint.split(".")[0] in pages
    ]
    assert any(rule.endpoint.startswith("appointments.") for rule in posts)
    # The one exemption, named on purpose: RFC 8058's one-click unsubscribe (a mail
    # client posts it with no cookie and no token); its own tests check it.
    assert {"follow_up.unsubscribe"} == CSRF_EXEMPT_ENDPOINTS
    for rule in posts:
        if rule.endpoint in CSRF_EXEMPT_ENDPOINTS:
            continue
        url = rule.build(dict.fromkeys(rule.arguments, "1"), append_unknown=False)[1]
        response = client.post(url, data={})
        assert response.status_code == 400, rule.endpoint
        assert "reload the page" in text(response), rule.endpoint
