"""Sign-in limits (issue 10, items 9 and 10): throttled guessing, strong passwords, and
a logout that ends the session on the server."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import PASSWORD, Shop
from web_fixtures import csrf_token, post_form, web_login

from sync_server import db
from sync_server.people import PeopleError, create_user
from sync_server.shop_tables import UserRole
from sync_server.sign_in import ACCOUNT_LIMIT, ADDRESS_LIMIT


def _api_login(client: FlaskClient, username: str, password: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}, headers=headers
    )


def test_thirty_wrong_passwords_lock_the_api_sign_in(client: FlaskClient, shop: Shop) -> None:
    username = shop.user("li.na")
    for _ in range(30):
        response = _api_login(client, username, "wrong-guess-1")
        assert response.status_code in (401, 429)
    right = _api_login(client, username, PASSWORD)
    assert right.status_code == 429
    assert right.json["type"].endswith("/sign-in-locked")
    minutes = right.json["retry_after_minutes"]
    assert 1 <= minutes <= 15
    assert f"Try again in {minutes} minute{'s' if minutes > 1 else ''}." in right.json["detail"]
    assert int(right.headers["Retry-After"]) == minutes * 60
    zh = _api_login(client, username, PASSWORD, **{"Accept-Language": "zh-CN"})
    assert f"{minutes} 分钟后再试" in zh.json["detail"]
    assert client.get("/api/v1/auth/me").status_code == 401


def test_the_lock_starts_at_the_account_limit(client: FlaskClient, shop: Shop) -> None:
    username = shop.user("wang.fang")
    for _ in range(ACCOUNT_LIMIT - 1):
        assert _api_login(client, username, "wrong-guess-1").status_code == 401
    # One below the limit, the right password still works and clears the count.
    assert _api_login(client, username, PASSWORD).status_code == 200
    for _ in range(ACCOUNT_LIMIT):
        assert _api_login(client, username, "wrong-guess-1").status_code == 401
    assert _api_login(client, username, PASSWORD).status_code == 429
    # Another person is not locked by someone guessing at a colleague.
    other = shop.user("zhao.lei")
    assert _api_login(client.application.test_client(), other, PASSWORD).status_code == 200


def test_one_address_guessing_at_many_accounts_is_locked(client: FlaskClient, shop: Shop) -> None:
    username = shop.user("chen.jie")
    for index in range(ADDRESS_LIMIT):
        assert _api_login(client, f"guess-{index}", "wrong-guess-1").status_code == 401
    assert _api_login(client, username, PASSWORD).status_code == 429
    # The same person from another address is let in.
    elsewhere = client.application.test_client()
    response = elsewhere.post(
        "/api/v1/auth/login",
        json={"username": username, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.7"},
    )
    assert response.status_code == 200


def test_the_web_sign_in_page_is_throttled_too(client: FlaskClient, shop: Shop) -> None:
    username = shop.user("sun.li")
    for _ in range(30):
        client.post(
            "/login",
            data={"username": username, "password": "wrong", "csrf_token": csrf_token(client)},
        )
    right = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert right.status_code == 429
    assert "Try again in" in right.get_data(as_text=True)
    client.get("/lang/zh_CN")
    zh = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert "分钟后再试" in zh.get_data(as_text=True)


def test_the_lock_holds_across_server_processes(app: Flask, shop: Shop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two apps on one database stand for two server processes."""
    from sync_server import create_app

    username = shop.user("he.min")
    second = create_app(
        {"DATABASE_URL": app.config["DATABASE_URL"], "TESTING": True, "SECRET_KEY": "t"}
    )
    try:
        for index in range(ACCOUNT_LIMIT):
            process = app if index % 2 else second
            assert _api_login(process.test_client(), username, "wrong-1").status_code == 401
        assert _api_login(app.test_client(), username, PASSWORD).status_code == 429
        assert _api_login(second.test_client(), username, PASSWORD).status_code == 429
    finally:
        second.extensions["db_engine"].dispose()


@pytest.mark.parametrize("weak", ["12345678", "password", "qwertyuiop", "11111111", "li.na2024"])
def test_weak_passwords_are_refused(app: Flask, weak: str) -> None:
    with app.app_context(), pytest.raises(PeopleError) as refused:
        create_user(db.session(), "li.na", weak, UserRole.ADVISOR, "Li Na")
    assert refused.value.code == "password_weak"
    assert refused.value.message.render("en") != refused.value.message.render("zh_CN")


def test_a_manager_cannot_give_a_weak_password(client: FlaskClient, shop: Shop) -> None:
    web_login(client, shop, role="manager")
    response = post_form(
        client,
        "/admin/users",
        {
            "username": "new.one",
            "display_name": "New One",
            "role": "advisor",
            "password": "password",
        },
        "/admin",
    )
    assert response.status_code == 400
    assert "too easy to guess" in response.get_data(as_text=True)


def test_a_replayed_api_cookie_is_signed_out_after_logout(client: FlaskClient, shop: Shop) -> None:
    shop.login(client)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 204
    thief = client.application.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/api/v1/auth/me").status_code == 401


def test_a_replayed_page_cookie_is_signed_out_after_logout(client: FlaskClient, shop: Shop) -> None:
    web_login(client, shop)
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert client.get("/board").status_code == 200
    assert post_form(client, "/logout", {}).status_code == 302
    thief = client.application.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/board").status_code == 302  # back to the sign-in page
    # Signing out ended only that session: a colleague's stays signed in.
    colleague = client.application.test_client()
    shop.login(colleague)
    assert colleague.get("/board").status_code == 200


def test_migration_0007_keeps_people_and_signs_everyone_in_afresh(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    from alembic import command

    from sync_server.migrate import alembic_config, upgrade

    shop.login(client, username=shop.user("gao.yan"))
    command.downgrade(alembic_config(app), "0005")
    upgrade(app)
    # The cookie from before names no server-side session: signed out, not let in.
    assert client.get("/api/v1/auth/me").status_code == 401
    assert _api_login(client, "gao.yan", PASSWORD).status_code == 200
    assert client.get("/api/v1/auth/me").json["name"] == "Gao.Yan"
