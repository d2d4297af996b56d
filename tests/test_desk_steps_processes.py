"""Desk double clicks across server processes: two ``checkin-server serve`` processes on
one PostgreSQL database each get the same hand-back form at the same moment; every
visit is handed back once and its customer gets one message."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from live_server import LiveServer
from server_fixtures import PASSWORD, Shop
from sqlalchemy import func, select
from web_fixtures import make_visit

from shared.visit_status import VisitStatus
from sync_server import create_app, db
from sync_server.back_office_tables import OutboundMessage
from sync_server.visit_tables import Visit

pytestmark = [pytest.mark.postgres, pytest.mark.live]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(session: requests.Session, url: str) -> str:
    found = CSRF.search(session.get(url, timeout=30).text)
    assert found, url
    return found.group(1)


def post_at_once(
    together: threading.Barrier,
    browser: requests.Session,
    url: str,
    form: dict[str, str],
    codes: list[int],
    index: int,
) -> None:
    together.wait()
    codes[index] = browser.post(url, data=form, timeout=60).status_code


@pytest.fixture
def shop_app(migrated_postgres_url: str, tmp_path: Path) -> Iterator[Flask]:
    os.environ["CHECKIN_INSTANCE_PATH"] = str(tmp_path / "instance")
    application = create_app(
        {"DATABASE_URL": migrated_postgres_url, "TESTING": True, "SECRET_KEY": "t"}
    )
    yield application
    application.extensions["db_engine"].dispose()
    os.environ.pop("CHECKIN_INSTANCE_PATH", None)


def test_a_hand_back_sent_to_two_processes_at_once_sends_one_message(
    shop_app: Flask, migrated_postgres_url: str, tmp_path: Path
) -> None:
    username = Shop(shop_app).user("li.na", "advisor")
    visits = [
        make_visit(shop_app, status=VisitStatus.ready, plate=f"沪B2000{n}", ticket=f"K-{n}")
        for n in range(3)
    ]
    servers = [LiveServer(tmp_path / name, migrated_postgres_url) for name in ("a", "b")]
    try:
        starting = [threading.Thread(target=server.start) for server in servers]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join(timeout=60)
        assert all(server.running for server in servers)
        browsers = []
        for server in servers:
            browser = requests.Session()
            form = {"username": username, "password": PASSWORD}
            form["csrf_token"] = csrf(browser, f"{server.url}/login")
            assert browser.post(f"{server.url}/login", data=form, timeout=30).ok
            browsers.append(browser)
        for made in visits:
            urls = [f"{server.url}/visits/{made.visit_id}/hand-back" for server in servers]
            forms = [
                {
                    "odometer_out_km": "42,000",
                    "work_done": "Oil and filter changed",
                    "parts": "",
                    "from_status": "ready",
                    "csrf_token": csrf(browser, url),
                }
                for browser, url in zip(browsers, urls, strict=True)
            ]
            together = threading.Barrier(2)
            codes: list[int] = [0, 0]
            threads = [
                threading.Thread(
                    target=post_at_once, args=(together, browsers[i], urls[i], forms[i], codes, i)
                )
                for i in (0, 1)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=90)
            assert codes == [200, 200]  # both followed their redirect to the visit page
        with shop_app.app_context():
            session = db.session()
            for made in visits:
                count = session.scalar(
                    select(func.count()).where(
                        OutboundMessage.visit_id == made.visit_id,
                        OutboundMessage.event == "delivered",
                    )
                )
                assert count == 1
                assert session.get(Visit, made.visit_id).status == VisitStatus.delivered
    finally:
        for server in servers:
            server.stop()
