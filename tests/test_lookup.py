"""Finding today's appointment: exact matches only, and masked for a lobby kiosk."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from server_fixtures import Shop, bearer


@pytest.fixture
def demo(runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["demo"]).exit_code == 0


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    "query",
    [
        "code=Q7M4KX",
        "phone=138 1234 5678",
        "phone=%2B8613812345678",
        "plate=京A·12345",
        "plate=jing",
    ],
)
def test_kiosk_sees_masked_data_only(client: FlaskClient, shop: Shop, query: str) -> None:
    token = shop.device_token("kiosk")
    response = client.get(f"/api/v1/appointments/lookup?{query}", headers=bearer(token))
    if query == "plate=jing":
        assert response.status_code == 422  # not a plate at all: say so, do not search
        assert response.json["errors"][0]["field"] == "plate"
        return
    assert response.status_code == 200, response.json
    (found,) = response.json["appointments"]
    assert found["customer_name"] == "张*"
    assert found["plate"] == "京A·***45"
    assert found["phone"] == "138****5678"
    text = response.get_data(as_text=True)
    for secret in ("13812345678", "张伟", "京A12345", "LVGBE40K"):
        assert secret not in text
    assert "code" not in found and "vin" not in found


@pytest.mark.usefixtures("demo")
def test_partial_matches_find_nothing(client: FlaskClient, shop: Shop) -> None:
    token = shop.device_token("kiosk")
    for query in ("code=Q7M4", "phone=13812345679"):
        response = client.get(f"/api/v1/appointments/lookup?{query}", headers=bearer(token))
        assert response.status_code == 200
        assert response.json["appointments"] == []


@pytest.mark.usefixtures("demo")
def test_lookup_needs_exactly_one_key(client: FlaskClient, shop: Shop) -> None:
    token = shop.device_token("kiosk")
    both = client.get(
        "/api/v1/appointments/lookup?code=Q7M4KX&plate=京A12345", headers=bearer(token)
    )
    assert both.status_code == 400


@pytest.mark.usefixtures("demo")
def test_advisor_sees_full_data_and_searches_customers(client: FlaskClient, shop: Shop) -> None:
    shop.login(client, role="advisor")
    response = client.get("/api/v1/appointments/lookup?plate=京A12345")
    (found,) = response.json["appointments"]
    assert found["customer_name"] == "张伟" and found["code"] == "Q7M4KX"
    by_name = client.get("/api/v1/customers?q=Emily").json["customers"]
    assert [c["name"] for c in by_name] == ["Emily Carter"]
    assert by_name[0]["vehicles"][0]["model"] == "Tiguan L"
    by_plate = client.get("/api/v1/customers?q=粤B88K21").json["customers"]
    assert [c["name"] for c in by_plate] == ["Emily Carter"]
