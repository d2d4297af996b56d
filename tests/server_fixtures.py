"""Fixtures for the sync server: an app on SQLite and, when available, on PostgreSQL.

Every test that uses ``app`` runs once per database backend. PostgreSQL comes from
``TEST_DATABASE_URL`` (the test script installs and starts a server and sets it); each
test gets a database of its own, made and dropped around it. Under CI the PostgreSQL
run is required, so a missing server fails instead of skipping quietly.

Migrations run once per test session and backend, into a template: each test then gets
a copy of it (the SQLite file copied, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL)
instead of running Alembic again. ``sqlite_url`` and ``postgres_url`` stay empty
databases, for the tests of the migrations themselves.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from sync_server import create_app
from sync_server.migrate import upgrade
from sync_server.pairing import issue_code, redeem_code
from sync_server.people import create_user
from sync_server.shop_tables import DeviceRole, UserRole

PASSWORD = "correct-horse-9"


def postgres_admin_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url and os.environ.get("CI"):
        raise RuntimeError("CI must run the server tests on PostgreSQL: TEST_DATABASE_URL is unset")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'server.sqlite3'}"


def _required_postgres_admin_url() -> str:
    admin_url = postgres_admin_url()
    if not admin_url:
        pytest.skip("TEST_DATABASE_URL not set (scripts/test.sh sets it)")
    return admin_url


@contextmanager
def _postgres_database(template: str | None = None) -> Iterator[str]:
    """A database of its own (a copy of ``template`` if given), dropped afterwards."""
    admin_url = _required_postgres_admin_url()
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    copy_of = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{copy_of}'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(admin, name)
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with _postgres_database() as url:
        yield url


def _migrate(url: str, instance_path: Path) -> None:
    """Bring an empty database at ``url`` to the newest schema."""
    previous = os.environ.get("CHECKIN_INSTANCE_PATH")
    os.environ["CHECKIN_INSTANCE_PATH"] = str(instance_path)
    try:
        application = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "t"})
        upgrade(application)
        application.extensions["db_engine"].dispose()
    finally:
        if previous is None:
            os.environ.pop("CHECKIN_INSTANCE_PATH", None)
        else:
            os.environ["CHECKIN_INSTANCE_PATH"] = previous


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, made once per test session."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "server.sqlite3"
    _migrate(f"sqlite:///{path}", folder / "instance")
    return path


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The name of a migrated PostgreSQL database that tests copy, made once per session."""
    with _postgres_database() as url:
        _migrate(url, tmp_path_factory.mktemp("postgres-template"))
        yield make_url(url).database or ""


@pytest.fixture
def migrated_sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "server.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def migrated_postgres_url(postgres_template: str) -> Iterator[str]:
    with _postgres_database(template=postgres_template) as url:
        yield url


def _drop_database(admin: Engine, name: str, attempts: int = 20) -> None:
    """Drop a test database; retried, as an autovacuum worker may still be in it.

    ``WITH (FORCE)`` ends client sessions, but on PostgreSQL 15 a non-superuser cannot
    end an autovacuum worker, and the drop then fails for a moment.
    """
    for attempt in range(attempts):
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except (OperationalError, ProgrammingError):  # ProgrammingError: not allowed to end it
            if attempt == attempts - 1:
                raise
            time.sleep(0.25)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """A database at the newest schema, once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"migrated_{request.param}_url")


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    os.environ["CHECKIN_INSTANCE_PATH"] = str(tmp_path / "instance")
    application = create_app({"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "t"})
    yield application
    application.extensions["db_engine"].dispose()
    os.environ.pop("CHECKIN_INSTANCE_PATH", None)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


class Shop:
    """Test helpers that make people and devices in a few words."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def user(self, username: str = "li.na", role: str = "advisor") -> str:
        from sync_server import db

        with self.app.app_context():
            create_user(db.session(), username, PASSWORD, UserRole(role), username.title())
        return username

    def login(
        self, client: FlaskClient, username: str | None = None, role: str = "advisor"
    ) -> None:
        username = username or self.user(f"{role}-{uuid.uuid4().hex[:6]}", role)
        response = client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.json

    def device_token(self, role: str = "kiosk", name: str = "Lobby kiosk") -> str:
        from sync_server import db

        with self.app.app_context():
            issued = issue_code(db.session(), DeviceRole(role), device_name=name)
            return redeem_code(db.session(), issued.code).token


@pytest.fixture
def shop(app: Flask) -> Shop:
    return Shop(app)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
