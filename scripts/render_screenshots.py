"""Render the kiosk's screens to PNG for review: docs/screenshots/<mode>-<screen>-<lang>.png.

Runs headless (no display needed), at 1280×800, against a stand-in for the shop server
so that no network is used. The lobby kiosk's check-in screens are rendered by walking
the flows by touch on a kiosk whose local store holds two demo appointments, with the
messages a customer sees on wrong input. The advisor tablet's walk-around screens are
rendered by walking a car's walk-around by touch (``tablet-walkaround-*``). The pairing,
welcome and tablet queue screens are here; each other flow is a ``render_*_screenshots.py``
beside it, on the stage of ``screenshot_shop.py``. Usage::

    .venv/bin/python scripts/render_screenshots.py [--out DIR] \
        [--only pairing|kiosk|tablet|walkaround|typing|advisor|deferred]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from screenshot_shop import (
    REPO,
    SHOP,
    SHOP_TIMEZONE,
    SIZE,
    DemoNobodyServer,
    DemoShopServer,
    DemoTabletServer,
    prepare_kivy,
)


def render_pairing(mode: str, lang: str, out_dir: Path) -> list[Path]:
    """The pairing screen with a code half typed (and, for the kiosk, a refused code)."""
    from kiosk.services.device_store import DeviceSettings, DeviceStore
    from kiosk.ui.app import CheckinApp
    from kiosk.ui.headless import HeadlessApp

    written = []
    with tempfile.TemporaryDirectory() as data_dir:
        store = DeviceStore(data_dir)
        store.save(DeviceSettings(mode=mode, language=lang))
        app = CheckinApp(store=store, client_factory=DemoShopServer)
        with HeadlessApp(app, size=SIZE) as harness:
            screen = app.pairing_screen
            screen.device_name = "Lobby kiosk" if mode == "kiosk" else "Advisor tablet 1"
            for char in "K7QM4X":
                harness.tap(screen.keys[char])
            written.append(harness.screenshot(out_dir / f"{mode}-pairing-{lang}.png"))
            if mode == "kiosk":
                for char in "PD":
                    harness.tap(screen.keys[char])
                harness.tap(screen.ids.pair_button)
                harness.wait_until(lambda: screen.message is not None)
                written.append(harness.screenshot(out_dir / f"{mode}-pairing-error-{lang}.png"))
    return written


def render_welcome(mode: str, lang: str, out_dir: Path) -> list[Path]:
    """The paired welcome screen."""
    from kiosk.services.device_store import DeviceSettings, DeviceStore
    from kiosk.ui.app import CheckinApp
    from kiosk.ui.headless import HeadlessApp

    written = []
    with tempfile.TemporaryDirectory() as data_dir:
        store = DeviceStore(data_dir)
        settings = DeviceSettings(mode=mode, role=mode, token="demo", shop_name=SHOP)
        store.save(replace(settings, language=lang))
        app = CheckinApp(store=store, client_factory=DemoShopServer)
        with HeadlessApp(app, size=SIZE) as harness:
            harness.wait_until(lambda: app.connection == "online")
            written.append(harness.screenshot(out_dir / f"{mode}-welcome-{lang}.png"))
    return written


def render_tablet(lang: str, out_dir: Path, size: tuple[int, int] = SIZE) -> list[Path]:
    """The tablet's sign-in (with a wrong PIN), the queue, its search and the sync bar."""
    sys.path.insert(0, str(REPO / "tests"))
    from tablet_queue_fixtures import TABLET_ID, store_with_cars

    from kiosk.services.device_store import DeviceSettings, DeviceStore
    from kiosk.services.server_client import SERVER_UNREACHABLE
    from kiosk.services.sync import SyncState
    from kiosk.ui.app import CheckinApp
    from kiosk.ui.headless import HeadlessApp

    written: list[Path] = []

    def shot(harness: HeadlessApp, name: str) -> None:
        written.append(harness.screenshot(out_dir / f"tablet-{name}-{lang}.png"))

    settings = DeviceSettings(
        mode="tablet",
        role="tablet",
        token="demo",
        device_id=TABLET_ID,
        shop_name=SHOP,
        shop_timezone=SHOP_TIMEZONE,
        language=lang,
    )
    with tempfile.TemporaryDirectory() as data_dir:
        DeviceStore(data_dir).save(settings)
        app = CheckinApp(store=DeviceStore(data_dir), client_factory=DemoNobodyServer)
        with HeadlessApp(app, size=size) as harness:
            harness.wait_until(lambda: app.sign_in_screen.loaded)
            shot(harness, "sign-in-nobody")
    with tempfile.TemporaryDirectory() as data_dir:
        store_with_cars(Path(data_dir))[0].close()
        DeviceStore(data_dir).save(settings)
        app = CheckinApp(
            store=DeviceStore(data_dir), client_factory=DemoTabletServer, start_sync=False
        )
        with HeadlessApp(app, size=size) as harness:
            harness.wait_until(lambda: app.connection == "online")
            screen = app.sign_in_screen
            harness.wait_until(lambda: screen.loaded)
            tile = next(t for t in screen.ids.people.children if t.value == "li.na")
            harness.tap(tile)
            shot(harness, "sign-in")
            for key in "1111":
                harness.tap(screen.ids.pin_pad.key_buttons[key])
            harness.tap(screen.ids.sign_in)
            harness.wait_until(lambda: not screen.busy)
            shot(harness, "sign-in-error")
            for key in "2026":
                harness.tap(screen.ids.pin_pad.key_buttons[key])
            harness.tap(screen.ids.sign_in)
            harness.wait_until(lambda: harness.screen == "queue")
            queue = app.queue_screen
            harness.wait_until(lambda: queue.loaded)
            app._sync_state(
                SyncState(
                    pending_changes=12,
                    pending_bytes=40_000,
                    pending_blobs=3,
                    pending_blob_bytes=3_600_000,
                    running=True,
                )
            )
            app._sync_state(
                SyncState(
                    pending_changes=5,
                    pending_bytes=20_000,
                    pending_blobs=1,
                    pending_blob_bytes=1_200_000,
                    running=True,
                )
            )
            shot(harness, "queue")
            queue.ids.search.text = "a12"
            harness.wait_until(lambda: len(queue.rows) == 1)
            shot(harness, "queue-search")
            queue.ids.search.text = "zz9"
            harness.wait_until(lambda: not queue.rows)
            app._sync_state(
                SyncState(
                    pending_changes=5,
                    pending_bytes=20_000,
                    pending_blobs=1,
                    pending_blob_bytes=1_200_000,
                    last_error=SERVER_UNREACHABLE,
                )
            )
            shot(harness, "queue-offline-no-match")
    return written


def render(out_dir: Path, only: str | None = None) -> list[Path]:
    written: list[Path] = []
    for lang in ("en", "zh_CN"):
        for mode in ("kiosk", "tablet"):
            if only in (None, "pairing"):
                written += render_pairing(mode, lang, out_dir)
        if only in (None, "pairing"):
            written += render_welcome("kiosk", lang, out_dir)
        if only in (None, "tablet"):
            written += render_tablet(lang, out_dir)
        if only in (None, "kiosk"):
            from render_checkin_screenshots import render_checkin

            written += render_checkin(lang, out_dir)
        if only in (None, "walkaround"):
            from render_walkaround_screenshots import render_walkaround

            written += render_walkaround(lang, out_dir)
        if only in (None, "typing"):
            from render_typing_screenshots import render_typing

            written += render_typing(lang, out_dir)
        if only in (None, "advisor"):
            from render_advisor_checkin_screenshots import render_advisor_checkin

            written += render_advisor_checkin(lang, out_dir)
        if only in (None, "deferred"):
            from render_deferred_screenshots import render_deferred

            written += render_deferred(lang, out_dir)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument(
        "--only",
        choices=("pairing", "kiosk", "tablet", "walkaround", "typing", "advisor", "deferred"),
        help="render only these",
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "scripts"))
    with tempfile.TemporaryDirectory(prefix="kivy-home-") as kivy_home:
        prepare_kivy(kivy_home)
        for path in render(args.out, args.only):
            print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
