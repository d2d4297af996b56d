"""Every error is a problem document a client can act on; nothing leaks."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sync_server.access import public


def test_malformed_json_gets_400_problem(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/devices/pair", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json["type"].endswith("/malformed-json")


def test_not_json_gets_415(client: FlaskClient) -> None:
    response = client.post("/api/v1/devices/pair", data="code=AAAA")
    assert response.status_code == 415


def test_wrong_type_names_the_field(client: FlaskClient) -> None:
    response = client.post("/api/v1/devices/pair", json={"code": 12345678})
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "code"


def test_oversized_body_gets_413(client: FlaskClient) -> None:
    response = client.post("/api/v1/devices/pair", json={"code": "A" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert response.json["status"] == 413
    assert "MB" in response.json["detail"]


def test_unknown_route_and_method(client: FlaskClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong = client.get("/api/v1/devices/pair")
    assert wrong.status_code == 405


def test_crash_shows_no_trace_and_logs_masked(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    @app.get("/api/v1/boom")
    @public
    def boom() -> str:
        raise RuntimeError("secret internals for 13812345678 LSVAU2180N2183294")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/api/v1/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "secret internals" not in body
    assert response.json["incident"] in body
    assert response.json["incident"] in caplog.text
    # The traceback is in the log, but no phone number or VIN in clear.
    assert "RuntimeError" in caplog.text
    assert "13812345678" not in caplog.text and "LSVAU2180N2183294" not in caplog.text
