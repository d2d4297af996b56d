"""Hostile input gets a clear 4xx, never a 500: deep JSON, huge numbers, NUL, CRLF.

Each case here was a 500 once (issue 10, item 11); each runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from server_fixtures import Shop, bearer
from web_fixtures import csrf_token

DEEP_JSON = "[" * 50_000


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/devices/pair"])
def test_deeply_nested_json_is_a_400(client: FlaskClient, path: str) -> None:
    response = client.post(path, data=DEEP_JSON, content_type="application/json")
    assert response.status_code == 400
    assert response.json["type"].endswith("/malformed-json")


def test_deeply_nested_json_on_push_is_a_400(client: FlaskClient, shop: Shop) -> None:
    token = shop.device_token("kiosk")
    response = client.post(
        "/api/v1/sync/push", data=DEEP_JSON, content_type="application/json", headers=bearer(token)
    )
    assert response.status_code == 400
    assert response.json["type"].endswith("/malformed-json")


def test_huge_offset_and_since_are_400s(client: FlaskClient, shop: Shop) -> None:
    tablet = bearer(shop.device_token("tablet", "Advisor tablet"))
    huge = "9" * 25
    customers = client.get(f"/api/v1/customers?offset={huge}", headers=tablet)
    assert customers.status_code == 400
    assert "offset" in customers.json["detail"]
    changes = client.get(f"/api/v1/sync/changes?since={huge}", headers=tablet)
    assert changes.status_code == 400
    assert "since" in changes.json["detail"]
    # The largest feed position the database holds still works.
    assert client.get(f"/api/v1/sync/changes?since={2**31 - 1}", headers=tablet).status_code == 200


def test_nul_in_a_query_is_a_400(client: FlaskClient, shop: Shop) -> None:
    tablet = bearer(shop.device_token("tablet", "Advisor tablet"))
    kiosk = bearer(shop.device_token("kiosk"))
    search = client.get("/api/v1/customers?q=ab%00cd", headers=tablet)
    assert search.status_code == 400
    assert search.json["type"].endswith("/nul-character")
    lookup = client.get("/api/v1/appointments/lookup?code=AB%00CD", headers=kiosk)
    assert lookup.status_code == 400
    zh = client.get(
        "/api/v1/appointments/lookup?code=AB%00CD",
        headers={**kiosk, "Accept-Language": "zh-CN"},
    )
    assert zh.json["detail"] != lookup.json["detail"]


def test_nul_in_a_board_search_is_a_400_page(client: FlaskClient, shop: Shop) -> None:
    shop.login(client)
    response = client.get("/board?q=%00")
    assert response.status_code == 400
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("target", ["/board%0d%0aSet-Cookie:%20x=1", "/board%0aLocation:%20//evil"])
def test_crlf_in_next_never_reaches_a_header(client: FlaskClient, target: str) -> None:
    switched = client.get(f"/lang/zh_CN?next={target}")
    assert switched.status_code == 302
    assert "\n" not in switched.headers["Location"] and "\r" not in switched.headers["Location"]
    assert "Set-Cookie: x" not in str(switched.headers)
    shown = client.get(f"/login?next={target}")
    assert shown.status_code == 200
    token = csrf_token(client)
    posted = client.post(
        f"/login?next={target}",
        data={"username": "nobody", "password": "wrong-one", "csrf_token": token},
    )
    assert posted.status_code in (400, 429)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/login", {"username": "li\x00na", "password": "x\x00y"}),
        ("/api/v1/devices/pair", {"code": "AB\x00CD-EFGH"}),
    ],
)
def test_nul_in_a_json_text_field_is_a_422(client: FlaskClient, path: str, body: dict) -> None:  # type: ignore[type-arg]
    response = client.post(path, json=body)
    assert response.status_code == 422
    assert response.json["errors"][0]["code"] == "nul_character"


def test_nul_in_a_sign_in_form_is_a_400(client: FlaskClient) -> None:
    token = csrf_token(client)
    response = client.post(
        "/login", data={"username": "li\x00na", "password": "x", "csrf_token": token}
    )
    assert response.status_code == 400
