"""Helpers for the web page tests: CSRF-aware sign-in, and visits made in a few words.

Records are written the way the server writes them (``put_server_record``), so the
pages read exactly what sync would have put there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import PASSWORD, Shop

from shared import domain
from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.sync.records import lock_feed, put_server_record

CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str = "/login") -> str:
    response = client.get(url)
    found = CSRF_PATTERN.search(response.get_data(as_text=True))
    response.close()
    assert found, f"no CSRF token on {url}"
    return found.group(1)


def web_login(client: FlaskClient, shop: Shop, role: str = "advisor") -> str:
    username = shop.user(f"{role}-web", role)
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return username


def post_form(client: FlaskClient, url: str, data: dict[str, Any], page: str = "/board") -> Any:
    """POST a form with a fresh CSRF token taken from ``page``."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page)})


def pass_quality_check(client: FlaskClient, visit_id: str) -> Any:
    """Pass the visit's quality check with every item of its checklist ticked."""
    from sync_server.quality_checks import DEFAULT_CHECKLISTS

    items = [key for key, _label in DEFAULT_CHECKLISTS[""]]
    return post_form(
        client,
        f"/visits/{visit_id}/quality-check",
        {"result": "pass", "item": items, "notes": ""},
        f"/visits/{visit_id}",
    )


@dataclass
class MadeVisit:
    visit_id: str
    customer_id: str
    vehicle_id: str
    status_token: str


def make_visit(
    app: Flask,
    *,
    name: str = "张伟",
    phone: str = "+8613812345678",
    email: str = "",
    plate: str = "京A12345",
    vin: str = "",
    status: VisitStatus = VisitStatus.walkaround_done,
    tier: str = "regular",
    channel: str = "sms",
    minutes_ago: int = 30,
    language: str | None = None,
    ticket: str = "K-001",
) -> MadeVisit:
    with app.app_context():
        session = db.session()
        customer = domain.Customer(
            name=name, phone=phone, email=email, tier=domain.CustomerTier(tier)
        )
        vehicle = domain.Vehicle(
            customer_id=customer.id, plate=plate, vin=vin, make="Toyota", model="Camry"
        )
        visit = domain.Visit(
            ticket_number=ticket,
            customer_id=customer.id,
            vehicle_id=vehicle.id,
            status=status,
            concern_text="Brake noise when stopping",
            contact_channel=domain.ContactChannel(channel),
            checked_in_at=domain.utcnow() - timedelta(minutes=minutes_ago),
            status_token=domain.new_status_token(),
        )
        lock_feed(session)
        put_server_record(session, "customer", customer)
        put_server_record(session, "vehicle", vehicle)
        put_server_record(session, "visit", visit)
        if language:
            put_server_record(
                session,
                "consent",
                domain.Consent(
                    visit_id=visit.id, text_version="v1", text_sha256="a" * 64, language=language
                ),
            )
        session.commit()
        return MadeVisit(visit.id, customer.id, vehicle.id, visit.status_token)


def quote_form(lines: list[dict[str, str]], **extra: str) -> dict[str, str]:
    """The quote editor's form fields for these rows."""
    data = {"line_count": str(len(lines)), "tax_percent": "13", "action": "save", **extra}
    for index, line in enumerate(lines):
        for key, value in line.items():
            data[f"line-{index}-{key}"] = value
    return data


STANDARD_LINES = [
    {
        "kind": "labour",
        "description": "Replace front brake pads",
        "hours": "1.5",
        "labour_rate": "200",
        "urgency": "red",
    },
    {
        "kind": "part",
        "description": "Front brake pads (set)",
        "quantity": "1",
        "unit_price": "480",
        "part_number": "BP-2231",
        "urgency": "red",
    },
    {
        "kind": "part",
        "description": "Wiper blades",
        "quantity": "2",
        "unit_price": "60",
        "urgency": "green",
    },
]


def total_of_standard_quote() -> Decimal:
    # 1.5 × 200 + 480 + 2 × 60 = 900, plus 13 % tax
    return Decimal("1017.00")


def options_form(
    lines: list[dict[str, str]], options: list[dict[str, str]], **extra: str
) -> dict[str, str]:
    """The editor's form fields for these rows and options (``option`` of a row is the
    option's number, "" for every option)."""
    data = quote_form(lines, option_count=str(len(options)), **extra)
    for index, option in enumerate(options):
        for key, value in option.items():
            data[f"option-{index}-{key}"] = value
    return data


# Wipers whichever way; the pads genuine (option A) or aftermarket (option B).
OPTION_LINES = [
    {
        "option": "",
        "kind": "part",
        "description": "Wiper blades",
        "quantity": "1",
        "unit_price": "120",
        "urgency": "green",
    },
    {
        "option": "0",
        "kind": "labour",
        "description": "Replace front brake pads",
        "hours": "1.5",
        "labour_rate": "200",
        "urgency": "red",
    },
    {
        "option": "0",
        "kind": "part",
        "description": "Genuine brake pads",
        "quantity": "1",
        "unit_price": "480",
        "urgency": "red",
    },
    {
        "option": "1",
        "kind": "labour",
        "description": "Replace front brake pads",
        "hours": "1.5",
        "labour_rate": "200",
        "urgency": "red",
    },
    {
        "option": "1",
        "kind": "part",
        "description": "Aftermarket brake pads",
        "quantity": "1",
        "unit_price": "260",
        "urgency": "red",
    },
]
OPTIONS = [
    {"label": "Genuine pads", "notes": "2-year warranty, quietest"},
    {"label": "Aftermarket pads", "notes": "Cheaper, 1-year warranty"},
]

# A signature drawn on the phone: its strokes as the pad sends them, and its PNG.
STROKES_JSON = "[[[0.1, 0.5, 0], [0.5, 0.2, 40], [0.9, 0.6, 90]]]"


def signature_data_uri() -> str:
    import base64
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (300, 100), "white")
    ImageDraw.Draw(image).line([(30, 50), (150, 20), (270, 60)], fill="black", width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def page_text(response: Any) -> str:
    body = response.get_data(as_text=True)
    response.close()
    return body


def send_for_approval(client: FlaskClient, visit_id: str) -> str:
    """Send the latest quote; returns the path of the customer's approval link."""
    response = post_form(client, f"/visits/{visit_id}/quote/send", {}, f"/visits/{visit_id}")
    assert response.status_code == 302, page_text(response)
    response.close()
    share = page_text(client.get(f"/visits/{visit_id}/quote/share"))
    found = re.search(r'value="http://localhost(/approve/[^"]+)"', share)
    assert found, share
    return found.group(1)
