"""One shop time zone: a shop setting (the server's own zone by default), sent to the
devices with the shop settings, and the clock of every page, screen and sheet. Stored
times stay UTC. The tablet shows the same clock time as the web for the same event,
whatever its own clock's zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskCliRunner
from live_server import LiveServer, live_server_fixture  # noqa: F401
from tablet_fixtures import pair_tablet
from test_checkin_sheet import needs_poppler, pdf_text
from test_walkaround_server import check_in, new_car, sync

from kiosk.services.connection import ConnectionChecker
from kiosk.services.local_store import LocalStore
from kiosk.services.printing import render_tablet_sheet
from shared.shop_time import server_timezone_name, shop_time_text, zone_or_local
from sync_server import db
from sync_server.shop import shop_settings
from sync_server.shop_tables import Shop

PASSWORD = "demo-pass-2026"


def test_a_new_shop_keeps_the_servers_zone_and_a_manager_can_change_it(
    app: Flask, runner: FlaskCliRunner
) -> None:
    with app.app_context():
        assert shop_settings(db.session()).timezone == server_timezone_name()
    result = runner.invoke(args=["shop", "--timezone", "Mars/Olympus"])
    assert result.exit_code != 0 and "not a time zone" in result.output
    result = runner.invoke(args=["shop", "--timezone", "America/Los_Angeles"])
    assert result.exit_code == 0 and "America/Los_Angeles" in result.output
    with app.app_context():
        assert db.session().get(Shop, 1).timezone == "America/Los_Angeles"


def test_shop_time_text_is_the_shops_clock_not_the_devices() -> None:
    moment = datetime(2026, 12, 6, 19, 10, tzinfo=UTC)
    assert shop_time_text(moment, "Asia/Shanghai") == "03:10"
    assert shop_time_text(moment, "America/Los_Angeles", "%Y-%m-%d %H:%M") == "2026-12-06 11:10"
    assert shop_time_text(moment, "Not/AZone") == "19:10"  # unknown: UTC, never a guess
    assert shop_time_text(None, "Asia/Shanghai") == ""
    with pytest.raises(ValueError):
        shop_time_text(datetime(2026, 12, 6, 19, 10), "Asia/Shanghai")


@needs_poppler
def test_the_tablet_shows_the_same_clock_time_as_the_web(
    live_server: LiveServer, tmp_path: Path
) -> None:
    # A shop far from this machine's own zone, so a device clock would show otherwise.
    live_server.cli("demo")  # people to sign in with (a shop in Asia/Shanghai)
    live_server.cli("shop", "--timezone", "America/Los_Angeles")
    devices = pair_tablet(live_server, tmp_path / "tablet")
    settings = devices.load()
    assert settings.shop_timezone == "America/Los_Angeles"
    live_server.cli("shop", "--timezone", "Asia/Shanghai")
    assert devices.load().shop_timezone == "America/Los_Angeles"  # until it connects again

    ConnectionChecker(devices).check()
    settings = devices.load()
    assert settings.shop_timezone == "Asia/Shanghai"

    with LocalStore(tmp_path / "tablet-data", settings.device_id or "") as store:
        visit = check_in(store, new_car(store))
        sync(store, live_server, settings.token or "")
        expected = shop_time_text(visit.checked_in_at, "Asia/Shanghai", "%Y-%m-%d %H:%M")
        device_clock = visit.checked_in_at.astimezone().strftime("%Y-%m-%d %H:%M")

        web = requests.Session()
        page = web.get(f"{live_server.url}/login", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        web.post(
            f"{live_server.url}/login",
            data={"username": "li.na", "password": PASSWORD, "csrf_token": token},
            timeout=30,
        )
        shown = web.get(f"{live_server.url}/visits/{visit.id}", timeout=30).text
        assert f"Checked in at {expected}" in shown

        sheet = tmp_path / "sheet.pdf"
        sheet.write_bytes(
            render_tablet_sheet(store, visit.id, "en", "Bright Auto", settings.shop_timezone)
        )
        printed = " ".join(pdf_text(sheet).split())
        assert expected in printed
        if device_clock != expected:
            assert device_clock not in printed
        assert zone_or_local(settings.shop_timezone).utcoffset(visit.checked_in_at) is not None
