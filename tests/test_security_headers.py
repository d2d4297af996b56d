"""Security headers on every answer, and Allow on every 405 (issue 10, item 13)."""

from __future__ import annotations

import hashlib
import io

import pytest
from flask.testing import FlaskClient
from PIL import Image
from server_fixtures import Shop, bearer
from web_fixtures import make_visit, web_login

from sync_server.security_headers import SECURITY_HEADERS


def _assert_secured(response, what: str) -> None:  # type: ignore[no-untyped-def]
    for name, value in SECURITY_HEADERS.items():
        # A page may be stricter: the customer's pages send no referrer at all.
        expected = {value, "no-referrer"} if name == "Referrer-Policy" else {value}
        assert response.headers.get(name) in expected, (what, name, dict(response.headers))
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert "frame-ancestors 'none'" in policy


def test_every_kind_of_answer_carries_the_headers(client: FlaskClient, shop: Shop) -> None:
    answers = {
        "sign-in page": client.get("/login"),
        "api": client.get("/api/v1/health"),
        "static file": client.get("/static/web/app.css"),
        "404 page": client.get("/no-such-page"),
        "api 401": client.get("/api/v1/auth/me"),
        "redirect": client.get("/lang/en"),
    }
    web_login(client, shop)
    visit = make_visit(client.application)
    answers["board"] = client.get("/board")
    answers["visit"] = client.get(f"/visits/{visit.visit_id}")
    answers["status page"] = client.get(f"/status/{visit.status_token}")
    for what, response in answers.items():
        _assert_secured(response, what)
        response.close()


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/api/v1/devices/pair", {"POST", "OPTIONS"}),
        ("DELETE", "/api/v1/health", {"GET", "HEAD", "OPTIONS"}),
        ("PUT", "/login", {"GET", "HEAD", "POST", "OPTIONS"}),
    ],
)
def test_a_405_says_which_methods_are_allowed(
    client: FlaskClient, method: str, path: str, allowed: set[str]
) -> None:
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed
    _assert_secured(response, "405")


def test_a_photo_with_html_appended_is_served_as_an_image_only(
    client: FlaskClient, shop: Shop
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(buffer, "JPEG")
    data = buffer.getvalue() + b"<html><script>alert(1)</script></html>"
    digest = hashlib.sha256(data).hexdigest()
    tablet = bearer(shop.device_token("tablet"))
    stored = client.put(
        f"/api/v1/blobs/{digest}", data=data, content_type="image/jpeg", headers=tablet
    )
    assert stored.status_code == 201, stored.json
    shop.login(client)
    served = client.get(f"/api/v1/blobs/{digest}")
    assert served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    served.close()
