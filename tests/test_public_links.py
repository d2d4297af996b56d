"""Customer links and pairing QR codes never take an unchecked Host header (issue 10, 12)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from server_fixtures import Shop
from web_fixtures import STANDARD_LINES, make_visit, post_form, quote_form, web_login

EVIL = {"Host": "evil.example"}


def _signed_in_for(client: FlaskClient, host: str) -> None:
    """Send the session cookie to ``host`` too, as a browser led there would."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    client.set_cookie("session", cookie.value, domain=host.split(":")[0])


def _qr_payload(client: FlaskClient, headers: dict[str, str]) -> str:
    if "Host" in headers:
        _signed_in_for(client, headers["Host"])
    issued = client.post("/api/v1/pairing-codes", json={"role": "kiosk"}, headers=headers)
    assert issued.status_code == 201, issued.json
    return issued.json["qr_payload"]


def test_pairing_qr_ignores_a_forged_host(client: FlaskClient, shop: Shop) -> None:
    shop.login(client, role="manager")
    assert "evil.example" not in _qr_payload(client, EVIL)
    # This machine's own addresses are what a manager typed to reach it: kept.
    assert _qr_payload(client, {"Host": "127.0.0.1:5000"}).startswith(
        "checkin-pair:http://127.0.0.1:5000#"
    )
    assert _qr_payload(client, {}).startswith("checkin-pair:http://localhost#")


def test_public_url_wins_over_any_host(client: FlaskClient, shop: Shop) -> None:
    client.application.config["PUBLIC_URL"] = "https://service.example-shop.cn/"
    shop.login(client, role="manager")
    assert _qr_payload(client, EVIL).startswith("checkin-pair:https://service.example-shop.cn#")


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "10.255.255.254"])
def test_customer_approval_link_ignores_a_forged_host(
    client: FlaskClient, shop: Shop, host: str
) -> None:
    web_login(client, shop)
    visit = make_visit(client.application)
    saved = post_form(
        client, f"/visits/{visit.visit_id}/quote", quote_form(STANDARD_LINES), "/board"
    )
    assert saved.status_code == 302
    _signed_in_for(client, host)
    sent = client.post(
        f"/visits/{visit.visit_id}/quote/send",
        data={"csrf_token": _token(client)},
        headers={"Host": host},
    )
    assert sent.status_code == 302
    share = client.get(f"/visits/{visit.visit_id}/quote/share", headers={"Host": host})
    page = share.get_data(as_text=True)
    link = re.search(r'value="([^"]*/approve/[^"]+)"', page)
    assert link, page
    assert host not in link.group(1)
    with client.application.app_context():
        from sqlalchemy import text

        from sync_server import db

        bodies = " ".join(db.session().scalars(text("SELECT body FROM outbound_messages")))
    assert host not in bodies


def _token(client: FlaskClient) -> str:
    from web_fixtures import csrf_token

    return csrf_token(client, "/board")
