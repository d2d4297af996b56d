"""Advisors sign in on a paired tablet with a personal PIN: API, lock-out, CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from server_fixtures import Shop, bearer
from sqlalchemy import select

from sync_server import db
from sync_server.people import PIN_MAX_FAILURES, PeopleError, PinRefused, check_pin, set_pin
from sync_server.shop_tables import User
from sync_server.table_base import utcnow


def _set_pin(app: Flask, username: str, pin: str) -> None:
    with app.app_context():
        user = db.session().scalar(select(User).where(User.username == username))
        assert user is not None
        set_pin(db.session(), user, pin)


def _sign_in(client: FlaskClient, token: str, username: str, pin: object):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/advisor-sign-ins",
        json={"username": username, "pin": pin},
        headers=bearer(token),
    )


def test_tablet_lists_people_with_a_pin_and_never_their_hashes(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    shop.user("li.na")
    shop.user("wang.wei")
    shop.user("zhao.min", role="manager")
    _set_pin(app, "li.na", "2468")
    _set_pin(app, "zhao.min", "13579")
    token = shop.device_token("tablet", "Advisor tablet 1")
    response = client.get("/api/v1/advisors", headers=bearer(token))
    assert response.status_code == 200
    names = [a["username"] for a in response.json["advisors"]]
    assert names == ["li.na", "zhao.min"]  # wang.wei has no PIN yet
    assert "hash" not in response.get_data(as_text=True)


def test_only_tablets_may_ask(app: Flask, client: FlaskClient, shop: Shop) -> None:
    shop.user("li.na")
    _set_pin(app, "li.na", "2468")
    kiosk = shop.device_token("kiosk")
    assert client.get("/api/v1/advisors", headers=bearer(kiosk)).status_code == 403
    assert _sign_in(client, kiosk, "li.na", "2468").status_code == 403
    assert client.get("/api/v1/advisors").status_code == 401
    response = client.post("/api/v1/advisor-sign-ins", json={"username": "li.na", "pin": "2468"})
    assert response.status_code == 401


def test_right_pin_signs_in_wrong_pin_is_refused_clearly(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    shop.user("li.na")
    _set_pin(app, "li.na", "2468")
    token = shop.device_token("tablet")
    ok = _sign_in(client, token, "LI.NA ", "2468")
    assert ok.status_code == 200
    assert ok.json["advisor"]["username"] == "li.na"
    assert ok.json["advisor"]["user_id"] > 0
    wrong = _sign_in(client, token, "li.na", "1111")
    assert wrong.status_code == 403
    assert wrong.json["type"].endswith("pin-wrong")
    assert wrong.json["detail"] == "That PIN is not right."
    assert (wrong.json["tries_left"], wrong.json["lock_minutes"]) == (4, 15)
    zh = client.post(
        "/api/v1/advisor-sign-ins",
        json={"username": "li.na", "pin": "1111"},
        headers={**bearer(token), "Accept-Language": "zh-CN"},
    )
    assert zh.json["detail"] == "PIN 码不正确。"
    for bad in (None, 2468, ""):
        assert _sign_in(client, token, "li.na", bad).status_code == 403
    unknown = _sign_in(client, token, "nobody", "2468")
    assert unknown.status_code == 403
    assert unknown.json["type"].endswith("pin-not-set")


def test_five_wrong_pins_lock_even_the_right_one_until_a_manager_resets(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    shop.user("li.na")
    _set_pin(app, "li.na", "2468")
    token = shop.device_token("tablet")
    for attempt in range(PIN_MAX_FAILURES - 1):
        wrong = _sign_in(client, token, "li.na", "0000")
        assert wrong.status_code == 403
        assert wrong.json["tries_left"] == PIN_MAX_FAILURES - 1 - attempt
    locked = _sign_in(client, token, "li.na", "0000")
    assert locked.status_code == 423
    assert locked.json["locked_until"]
    assert "Try again after" in locked.json["detail"]
    assert _sign_in(client, token, "li.na", "2468").status_code == 423
    _set_pin(app, "li.na", "8642")  # a manager sets a new PIN: unlocked
    assert _sign_in(client, token, "li.na", "8642").status_code == 200


def test_a_right_pin_resets_the_count_and_the_lock_ends(app: Flask, shop: Shop) -> None:
    shop.user("li.na")
    _set_pin(app, "li.na", "2468")
    with app.app_context():
        session = db.session()
        for _ in range(PIN_MAX_FAILURES - 1):
            with pytest.raises(PinRefused):
                check_pin(session, "li.na", "0000")
        check_pin(session, "li.na", "2468")
        user = session.scalar(select(User).where(User.username == "li.na"))
        assert user is not None and user.pin_failures == 0
        user.pin_locked_until = utcnow() + timedelta(minutes=5)
        session.commit()
        later = utcnow() + timedelta(minutes=6)
        assert check_pin(session, "li.na", "2468", now=later).username == "li.na"


def test_set_pin_refuses_what_is_not_4_to_8_digits(app: Flask, shop: Shop) -> None:
    shop.user("li.na")
    with app.app_context():
        user = db.session().scalar(select(User).where(User.username == "li.na"))
        for bad in ("123", "123456789", "12a4", "１２３４", ""):
            try:
                set_pin(db.session(), user, bad)
            except PeopleError as error:
                assert error.code == "pin_invalid"
            else:
                raise AssertionError(f"{bad!r} accepted")


def test_cli_sets_a_pin(
    app: Flask, runner: FlaskCliRunner, shop: Shop, client: FlaskClient
) -> None:
    shop.user("li.na")
    result = runner.invoke(args=["set-pin", "li.na", "--pin", "2468"])
    assert result.exit_code == 0, result.output
    assert "Tablet PIN set" in result.output
    bad = runner.invoke(args=["set-pin", "li.na", "--pin", "12"])
    assert bad.exit_code != 0 and "4 to 8 digits" in bad.output
    missing = runner.invoke(args=["set-pin", "nobody", "--pin", "2468"])
    assert missing.exit_code != 0
    created = runner.invoke(
        args=[
            "create-user",
            "chen.jie",
            "--role",
            "advisor",
            "--password",
            "long-enough-pw",
            "--pin",
            "97531",
        ]
    )
    assert created.exit_code == 0, created.output
    token = shop.device_token("tablet")
    assert _sign_in(client, token, "li.na", "2468").status_code == 200
    assert _sign_in(client, token, "chen.jie", "97531").status_code == 200
