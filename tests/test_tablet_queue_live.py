"""The advisor tablet against a real server: PIN sign-in, the queue, search, offline.

``checkin-server serve`` runs as a subprocess with the demo shop; a manager's PIN for
an advisor is set with ``checkin-server set-pin``; the tablet pairs, pulls the visits
and an advisor signs in by touch on the PIN pad. On SQLite only: the PIN checks and
the feed are tested on PostgreSQL too in ``test_advisor_pins`` and the sync tests, and
these tests are about the tablet.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_server import LiveServer
from tablet_fixtures import pair_tablet

from kiosk.ui.headless import HeadlessApp

pytestmark = pytest.mark.ui

PIN = "2468"


def type_pin(harness: HeadlessApp, pin: str) -> None:
    pad = harness.app.sign_in_screen.ids.pin_pad
    for digit in pin:
        harness.tap(pad.key_buttons[digit])


def tile(harness: HeadlessApp, username: str) -> Any:
    for child in harness.app.sign_in_screen.ids.people.children:
        if child.value == username:
            return child
    raise AssertionError(f"no tile for {username}")


def sign_in(harness: HeadlessApp, username: str, pin: str) -> None:
    screen = harness.app.sign_in_screen
    harness.tap(tile(harness, username))
    type_pin(harness, pin)
    harness.tap(screen.ids.sign_in)
    harness.wait_until(lambda: not screen.busy, message="PIN checked")


@pytest.fixture
def demo_server(tmp_path: Path, sqlite_template: Path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path / "server").copy_database(sqlite_template).start()
    try:
        server.cli("demo")
        server.cli("set-pin", "li.na", "--pin", PIN)
        yield server
    finally:
        server.stop()
        print(f"--- server log tail ({server.log_path}) ---\n{server.log_tail()}")


def test_advisor_signs_in_sees_the_queue_searches_and_signs_out(
    demo_server: LiveServer, kiosk_app: Any, tmp_path: Path
) -> None:
    devices = pair_tablet(demo_server, tmp_path / "tablet")
    harness: HeadlessApp = kiosk_app(devices, sync_interval=0.5)
    app = harness.app
    screen = app.sign_in_screen
    assert harness.screen == "advisor_sign_in"
    harness.wait_until(lambda: screen.loaded and screen.advisors, message="advisor list")
    # People with a PIN are offered (the demo's advisors; the manager has none).
    assert [a["username"] for a in screen.advisors] == ["li.na", "tom"]
    assert screen.selected == ""
    harness.tap(tile(harness, "li.na"))

    # A wrong PIN: a clear message, the PIN pad emptied, still on the sign-in screen.
    type_pin(harness, "1111")
    harness.tap(screen.ids.sign_in)
    harness.wait_until(lambda: not screen.busy)
    # ... saying how many tries are left before the lock.
    assert screen.ids.message.text == (
        "That PIN is not right. 4 more wrong PINs lock it for 15 minutes."
    )
    assert screen.ids.pin_pad.text == ""
    assert harness.screen == "advisor_sign_in"
    harness.tap(screen.ids.language.ids.zh_CN)
    assert screen.ids.message.text == "PIN 码不正确。再输错 4 次，PIN 码将被锁定 15 分钟。"
    harness.tap(screen.ids.language.ids.en)

    sign_in(harness, "li.na", PIN)
    assert harness.screen == "queue"
    assert app.advisor is not None and app.advisor.username == "li.na"
    queue = app.queue_screen
    assert queue.ids.advisor.text == "Li Na 李娜"

    # The demo's three open visits arrive by sync; longest waiting first (no VIP visit).
    harness.wait_until(lambda: len(queue.rows) == 3, timeout=30, message="visits pulled")
    assert [row["ticket"] for row in queue.rows] == ["A-001", "A-002", "A-003"]
    first = queue.rows[0]
    assert first["plate"] == "京B·6Y2Q3"
    assert first["waiting"].startswith("2 h ")
    assert "BMW 530Li" in first["car"]
    harness.wait_until(lambda: queue.sync_reading is not None, message="sync state shown")

    # Search by part of a plate, spaces and case ignored; nothing found says so.
    queue.ids.search.text = "a3n2"
    harness.wait_until(lambda: [r["ticket"] for r in queue.rows] == ["A-003"], message="search")
    queue.ids.search.text = "ZZ999"
    harness.wait_until(lambda: queue.rows == [], message="no match")
    assert "ZZ999" in queue.ids.empty.text
    harness.tap(queue.ids.clear_search)
    harness.wait_until(lambda: len(queue.rows) == 3, message="search cleared")

    harness.tap(queue.ids.sign_out)
    assert harness.screen == "advisor_sign_in"
    assert app.advisor is None and queue.rows == []


def test_offline_sign_in_for_an_advisor_who_signed_in_here_before_with_the_current_pin(
    demo_server: LiveServer, kiosk_app: Any, tmp_path: Path
) -> None:
    devices = pair_tablet(demo_server, tmp_path / "tablet")
    harness: HeadlessApp = kiosk_app(devices, sync_interval=0.5)
    app = harness.app
    screen = app.sign_in_screen
    harness.wait_until(lambda: len(screen.advisors) == 2, message="advisor list")
    assert not screen.selected
    sign_in(harness, "li.na", PIN)
    assert harness.screen == "queue"
    harness.tap(app.queue_screen.ids.sign_out)

    # A manager changes the PIN: the server refuses the old one, and the tablet forgets it.
    demo_server.cli("set-pin", "li.na", "--pin", "8642")
    sign_in(harness, "li.na", PIN)
    assert screen.ids.message.text.startswith("That PIN is not right. 4 more wrong PINs")
    sign_in(harness, "li.na", "8642")
    assert harness.screen == "queue"
    harness.tap(app.queue_screen.ids.sign_out)

    demo_server.stop()  # the shop's network is down
    sign_in(harness, "li.na", PIN)  # the old PIN does not work offline either
    assert screen.ids.message.text.startswith("That PIN is not right. 4 more wrong PINs")
    for _ in range(3):
        sign_in(harness, "li.na", PIN)
    assert screen.ids.message.text == (
        "That PIN is not right. One more wrong PIN locks it for 15 minutes."
    )
    sign_in(harness, "li.na", "8642")
    assert harness.screen == "queue", screen.ids.message.text
    assert "offline" in app.toast.text
    harness.tap(app.queue_screen.ids.sign_out)

    # Tom never signed in on this tablet: offline, the tablet cannot know his PIN.
    sign_in(harness, "tom", "2026")
    assert harness.screen == "advisor_sign_in"
    assert "has not signed in on this tablet before" in screen.ids.message.text

    # Five wrong PINs in a row offline lock the PIN on the tablet, even the right one.
    for _ in range(5):
        sign_in(harness, "li.na", "0000")
    assert "Too many wrong PINs" in screen.ids.message.text
    sign_in(harness, "li.na", "8642")
    assert harness.screen == "advisor_sign_in"
    assert "Too many wrong PINs" in screen.ids.message.text
