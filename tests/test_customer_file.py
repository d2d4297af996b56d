"""The customer page and the search of customers and cars: name, phone (any part),
plate with or without its province, VIN (whole or its end); the page's contact details
with their history, channel and language, the two consents kept apart, cars and every
visit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from customer_file_fixtures import Line, VisitPlan, make_car, make_customer, make_history
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop
from web_fixtures import page_text, post_form, web_login

from sync_server import db
from sync_server.customer_file.search import find_customers

VIN = "LGBH52E05JY123456"


@pytest.fixture
def people(app: Flask) -> dict[str, str]:
    wang = make_customer(app, name="王芳", phone="+8613911112222")
    make_car(app, wang, plate="粤B12345", vin=VIN)
    zhao = make_customer(app, name="Zhao Min", phone="+8613800005605", email="zhao@example.com")
    make_car(app, zhao, plate="京B12345")
    return {"wang": wang, "zhao": zhao}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("粤B12345", {"wang"}),  # the province narrows it to that car
        ("粤B·12345", {"wang"}),
        ("B12345", {"wang", "zhao"}),  # without the province, both cars
        ("b12345", {"wang", "zhao"}),
        ("139 1111", {"wang"}),  # any part of the phone
        ("5605", {"zhao"}),  # its last four
        ("0000", {"zhao"}),  # four digits inside the number
        ("+86 139 1111 2222", {"wang"}),
        (VIN, {"wang"}),
        (VIN[-6:].lower(), {"wang"}),  # the end of the VIN
        ("王", {"wang"}),
        ("zhao", {"zhao"}),
        ("ZHAO@EXAMPLE", {"zhao"}),
        ("nobody", set()),
        ("%", set()),
    ],
)
def test_search(app: Flask, people: dict[str, str], query: str, expected: set[str]) -> None:
    with app.app_context():
        found = {entry.customer.id for entry in find_customers(db.session(), query)}
    assert found == {people[name] for name in expected}


def test_customer_page_shows_the_whole_file(
    app: Flask, client: FlaskClient, shop: Shop, people: dict[str, str]
) -> None:
    wang = people["wang"]
    with app.app_context():
        from sync_server.visit_tables import Vehicle

        car = db.session().query(Vehicle).filter_by(customer_id=wang).one().id
    now = datetime.now(UTC)
    make_history(
        app,
        wang,
        car,
        [
            VisitPlan(now - timedelta(days=60), 30_000, lines=[Line("Oil change", price="300")]),
            VisitPlan(now - timedelta(days=2), 32_000, concern="Brake squeal"),
        ],
    )
    web_login(client, shop)
    found = page_text(client.get("/customers?q=B12345"))
    assert f"/customers/{wang}" in found and f"/customers/{people['zhao']}" in found
    page = page_text(client.get(f"/customers/{wang}"))
    assert "王芳" in page and "+8613911112222" in page and "粤B12345" in page
    assert "Visits (2)" in page and "H-001" in page and "H-002" in page and "Brake squeal" in page
    assert "¥339.00" in page  # what was approved on the first visit, tax included
    service = page.split('id="consent-service"')[1].split('id="consent-marketing"')[0]
    marketing = page.split('id="consent-marketing"')[1].split("</section>")[0]
    assert service.count("Agreed at") == 2 and "2026-11-v1" in service
    # The reminders question: yes on the first visit, no on the second — kept apart.
    assert marketing.count("Said yes") == 1 and marketing.count("Said no") == 1
    # The desk's edit lands in the history shown on the page.
    form = {"name": "王芳", "phone": "+8613911113333", "email": "", "preferred_channel": "sms"}
    saved = post_form(client, f"/customers/{wang}/contact", form, f"/customers/{wang}/contact")
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/customers/{wang}")
    history = page_text(client.get(f"/customers/{wang}")).split('id="contact-history"')[1]
    assert "+8613911112222" in history and "+8613911113333" in history
    client.get("/lang/zh_CN")
    page = page_text(client.get(f"/customers/{wang}"))
    assert "客户档案" in page and "保养提醒" in page
    assert client.get("/customers/no-such-customer").status_code == 404
