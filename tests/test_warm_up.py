"""What ``serve`` loads as it starts, so that the shop's first pages do not pay for it
(``sync_server/warm_up.py``): every page's template compiled — and kept compiled in the
instance folder, so a server started again compiles none — the catalogs, the names of
countries and weekdays, and the shop's holiday calendar. (``serve`` itself running it is
checked on a real server process in ``test_web_browser_work_records.py``.)"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from server_fixtures import Shop
from web_fixtures import web_login

from sync_server import create_app
from sync_server.appointments.settings import countries
from sync_server.warm_up import warm_up


def _app(database_url: str, instance: Path) -> Flask:
    """An app on ``instance``, keeping its compiled templates there, as a shop's server
    does (not in the folder the rest of the suite shares, ``tests/conftest.py``)."""
    os.environ["CHECKIN_INSTANCE_PATH"] = str(instance)
    shared_cache = os.environ.pop("CHECKIN_TEMPLATE_CACHE", None)
    try:
        return create_app({"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "t"})
    finally:
        os.environ.pop("CHECKIN_INSTANCE_PATH", None)
        if shared_cache is not None:
            os.environ["CHECKIN_TEMPLATE_CACHE"] = shared_cache


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """A shop's folder: its database (migrated) and its instance folder."""
    folder = tmp_path_factory.mktemp("warm-up")
    shutil.copyfile(sqlite_template, folder / "server.sqlite3")
    return folder


@pytest.fixture(scope="module")
def warmed(folder: Path) -> Iterator[Flask]:
    app = _app(f"sqlite:///{folder / 'server.sqlite3'}", folder / "instance")
    assert warm_up(app) > 0
    yield app
    app.extensions["db_engine"].dispose()


def _refuse(what: str) -> Any:
    def refused(*_args: object, **_kwargs: object) -> None:
        raise AssertionError(f"{what} after the warm-up")

    return refused


def test_after_the_warm_up_the_first_pages_read_no_template(
    warmed: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = warmed.test_client()
    web_login(client, Shop(warmed), role="manager")
    monkeypatch.setattr(warmed.jinja_env.loader, "get_source", _refuse("a template was read"))
    for page in ("/appointments/day-plan", "/appointments", "/settings/capacity", "/reports"):
        for language in ("en", "zh_CN"):
            response = client.get(page, headers={"Accept-Language": language})
            assert response.status_code == 200, page
            response.close()


def test_a_server_started_again_compiles_no_template(
    warmed: Flask, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    again = _app(f"sqlite:///{folder / 'server.sqlite3'}", folder / "instance")
    assert any((folder / "instance" / "template-cache").iterdir())
    monkeypatch.setattr(again.jinja_env, "compile", _refuse("a template was compiled"))
    try:
        warm_up(again)
    finally:
        again.extensions["db_engine"].dispose()


def test_the_holiday_countries_are_the_packages_own_two_letter_codes() -> None:
    """Read from the package's registry, without importing every country."""
    import holidays

    assert {"CN", "DE", "GB", "US", "JP"} <= countries()
    assert countries() == {code for code in holidays.list_supported_countries() if len(code) == 2}
