"""The advisor tablet's sign-in and queue screens, by touch, with a stand-in shop server.

The live tests (``test_tablet_queue_live.py``) run the same screens against a real
server; here the cases a real server cannot easily stage: a VIP on the queue, the
idle sign-out, a tablet unpaired by the shop, the sync bar's states, both languages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tablet_queue_fixtures import TABLET_ID, store_with_cars

from kiosk.services.device_store import DeviceSettings, DeviceStore
from kiosk.services.server_client import (
    DEVICE_NOT_PAIRED,
    SERVER_UNREACHABLE,
    DeviceInfo,
    ServerProblem,
)
from kiosk.services.sync import SyncState
from kiosk.ui.headless import HeadlessApp

pytestmark = pytest.mark.ui

PIN = "2468"


class TabletShop:
    """A stand-in for the shop server as the tablet's ``ServerClient`` sees it."""

    unpaired = False
    down = False

    def __init__(self, base_url: str, token: str | None = None, **_kwargs: Any) -> None:
        self.base_url = base_url

    def __enter__(self) -> TabletShop:
        return self

    def __exit__(self, *_exc: object) -> None:
        pass

    def _check(self) -> None:
        if TabletShop.down:
            raise ServerProblem(SERVER_UNREACHABLE, _Words("down"))
        if TabletShop.unpaired:
            raise ServerProblem(DEVICE_NOT_PAIRED, _Words("unpaired"), 401)

    def whoami(self) -> DeviceInfo:
        self._check()
        return DeviceInfo(TABLET_ID, "Advisor tablet 1", "tablet", "Bright Auto Service", "京")

    def advisors(self) -> list[dict[str, Any]]:
        self._check()
        return [
            {"user_id": 2, "username": "li.na", "display_name": "Li Na 李娜"},
            {"user_id": 3, "username": "tom", "display_name": "Tom Becker"},
        ]

    def sign_in_advisor(self, username: str, pin: str) -> dict[str, Any]:
        self._check()
        if pin != PIN:
            raise ServerProblem("request_refused", _Words("no"), 403, {"type": "p/pin-wrong"})
        return next(a for a in self.advisors() if a["username"] == username)


class _Words:
    def __init__(self, text: str) -> None:
        self.text = text

    def render(self, _lang: str) -> str:
        return self.text


@pytest.fixture(autouse=True)
def shop_state() -> Any:
    TabletShop.unpaired = TabletShop.down = False
    yield
    TabletShop.unpaired = TabletShop.down = False


@pytest.fixture
def tablet_store(tmp_path: Path) -> DeviceStore:
    store_with_cars(tmp_path, datetime.now(UTC))[0].close()
    devices = DeviceStore(tmp_path)
    devices.save(
        DeviceSettings(
            server_url="http://shop.invalid",
            mode="tablet",
            role="tablet",
            token="tablet-token",
            device_id=TABLET_ID,
            shop_name="Bright Auto Service",
            language="zh_CN",
        )
    )
    return devices


def start(kiosk_app: Any, devices: DeviceStore, **kwargs: Any) -> HeadlessApp:
    harness: HeadlessApp = kiosk_app(devices, client_factory=TabletShop, start_sync=False, **kwargs)
    screen = harness.app.sign_in_screen
    harness.wait_until(lambda: screen.loaded, message="advisor list")
    return harness


def sign_in(harness: HeadlessApp, username: str, pin: str = PIN) -> None:
    screen = harness.app.sign_in_screen
    tile = next(t for t in screen.ids.people.children if t.value == username)
    harness.tap(tile)
    for digit in pin:
        harness.tap(screen.ids.pin_pad.key_buttons[digit])
    harness.tap(screen.ids.sign_in)
    harness.wait_until(lambda: not screen.busy, message="PIN checked")


def test_queue_puts_vips_first_in_both_languages(kiosk_app: Any, tablet_store: DeviceStore) -> None:
    harness = start(kiosk_app, tablet_store)
    screen = harness.app.sign_in_screen
    assert screen.ids.title.text == "Bright Auto Service · 服务顾问登录"
    # Sign in stays off until a name is chosen and four digits are typed.
    assert screen.ids.sign_in.disabled
    tile = next(t for t in screen.ids.people.children if t.value == "tom")
    harness.tap(tile)
    assert tile.selected and screen.ids.pin_title.text == "Tom Becker 的 PIN 码"
    for digit in "246":
        harness.tap(screen.ids.pin_pad.key_buttons[digit])
    assert screen.ids.sign_in.disabled
    harness.tap(screen.ids.pin_pad.key_buttons["8"])
    assert not screen.ids.sign_in.disabled
    harness.tap(screen.ids.sign_in)
    harness.wait_until(lambda: harness.screen == "queue", message="signed in")

    queue = harness.app.queue_screen
    harness.wait_until(lambda: queue.loaded, message="queue read")
    assert [r["ticket"] for r in queue.rows] == ["A-010", "A-012", "A-009", "A-011"]
    assert [r["vip"] for r in queue.rows] == [True, True, False, False]
    assert queue.ids.title.text == "在店车辆  (4)"
    assert queue.rows[2]["waiting"] == "2 小时 15 分钟"
    assert queue.rows[0]["progress"] == "尚未环车检查"
    harness.tap(queue.ids.language.ids.en)
    assert queue.rows[2]["waiting"] == "2 h 15 min"
    assert queue.ids.title.text == "Cars in the shop  (4)"
    assert queue.ids.advisor.text == "Tom Becker"


def test_tapping_a_car_opens_its_walkaround(kiosk_app: Any, tablet_store: DeviceStore) -> None:
    harness = start(kiosk_app, tablet_store)
    sign_in(harness, "li.na")
    queue = harness.app.queue_screen
    harness.wait_until(lambda: len(queue.rows) == 4, message="queue read")
    harness.pump(2)
    rows = [w for w in queue.ids.list.layout_manager.children if w.visit_id]
    row = next(w for w in rows if w.ticket == "A-011")
    harness.tap(row)
    assert harness.screen == "walkaround_damage"
    assert harness.app.walkaround.in_progress
    header = harness.app.manager.get_screen("walkaround_damage").ids.header
    assert "A-011" in header.ids.visit_title.text
    harness.tap(header.ids.close)
    harness.wait_until(lambda: harness.screen == "queue", message="back to the queue")
    # The walk-around was saved when it was opened; the queue now says it has started.
    harness.wait_until(
        lambda: (
            next(r for r in queue.rows if r["ticket"] == "A-011")["progress_code"] != "not_started"
        ),
        message="queue refreshed",
    )


def test_the_advisor_is_signed_out_after_idle_time_on_the_queue(
    kiosk_app: Any, tablet_store: DeviceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tablet's own clock, moved by hand: a slow tap (the on-screen keyboard opens
    # on the search field) must not count as idle time.
    import types

    import kiosk.ui.app as app_module
    import kiosk.ui.shared_screen as guard_module
    import kiosk.ui.tablet as tablet_module

    now = [1000.0]
    clock = types.SimpleNamespace(monotonic=lambda: now[0])
    monkeypatch.setattr(guard_module, "time", clock)
    monkeypatch.setattr(tablet_module, "time", clock)
    monkeypatch.setattr(app_module, "ADVISOR_IDLE_S", 2.0)

    def idle_for(seconds: float) -> None:
        now[0] += seconds
        harness.idle_for(guard_module.IDLE_CHECK_S * 3)  # the guard looks at least once

    harness = start(kiosk_app, tablet_store)
    sign_in(harness, "li.na")
    assert harness.screen == "queue"
    idle_for(1.2)
    harness.tap(harness.app.queue_screen.ids.search)  # a touch keeps the advisor signed in
    idle_for(1.2)
    assert harness.screen == "queue"
    idle_for(1.5)
    assert harness.screen == "advisor_sign_in"
    assert harness.app.advisor is None
    assert harness.app.queue_screen.rows == []  # nothing left for the next person to see


def test_a_tablet_unpaired_by_the_shop_goes_back_to_pairing(
    kiosk_app: Any, tablet_store: DeviceStore
) -> None:
    harness = start(kiosk_app, tablet_store)
    TabletShop.unpaired = True
    sign_in(harness, "li.na")
    harness.wait_until(lambda: harness.screen == "pairing", message="back to pairing")
    assert "门店已解除本设备的配对" in harness.app.pairing_screen.ids.message.text
    assert tablet_store.load().token is None
    assert harness.app.advisor is None


def test_sync_bar_shows_what_is_left_and_when_offline(
    kiosk_app: Any, tablet_store: DeviceStore
) -> None:
    harness = start(kiosk_app, tablet_store)
    harness.tap(harness.app.sign_in_screen.ids.language.ids.en)
    sign_in(harness, "li.na")
    app = harness.app
    bar = app.queue_screen.ids.sync_bar
    backlog = SyncState(
        pending_changes=12,
        pending_bytes=40_000,
        pending_blobs=3,
        pending_blob_bytes=3_600_000,
        running=True,
    )
    app._sync_state(backlog)
    harness.pump(2)
    assert bar.ids.headline.text == "Sending. Left: photos 3 · changes 12 · 3.6 MB"
    assert bar.ids.percent.text == "0 %"
    app._sync_state(
        SyncState(
            pending_changes=2,
            pending_bytes=10_000,
            pending_blobs=1,
            pending_blob_bytes=1_200_000,
            last_error=SERVER_UNREACHABLE,
        )
    )
    harness.pump(2)
    assert bar.ids.percent.text == "66 %"
    assert bar.ids.headline.text == "Waiting to send: photos 1 · changes 2 · 1.2 MB"
    assert "cannot be reached" in bar.ids.detail.text


def test_queue_shows_check_in_times_on_the_shop_clock(
    kiosk_app: Any, tablet_store: DeviceStore
) -> None:
    """Issue 16, item 18: the tablet shows the shop's clock, as the web does for the same
    visit, whatever the tablet's own time zone."""
    from shared.shop_time import shop_time_text

    local_offset = datetime.now(UTC).astimezone().utcoffset()
    zone = "Asia/Shanghai" if str(local_offset) != "8:00:00" else "America/New_York"
    tablet_store.update(shop_timezone=zone)
    harness = start(kiosk_app, tablet_store)
    sign_in(harness, "li.na")
    queue = harness.app.queue_screen
    harness.wait_until(lambda: len(queue.rows) == 4, message="queue read")
    store = harness.app.local_store
    visit = next(v for v in store.find("visit") if v["ticket_number"] == "A-009")
    checked_in = datetime.fromisoformat(visit["checked_in_at"].replace("Z", "+00:00"))
    row = next(r for r in queue.rows if r["ticket"] == "A-009")
    assert row["since"] == shop_time_text(checked_in, zone)  # what the web's shop_time shows
    assert row["since"] != checked_in.astimezone().strftime("%H:%M")  # not the tablet's
    shown = next(w for w in queue.ids.list.layout_manager.children if w.ticket == "A-009")
    assert shown.ids.waiting.text == f"{row['since']} 起等候（2 小时 15 分钟）"  # zh_CN tablet
