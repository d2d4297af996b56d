"""Render the kiosk's screens to PNG for review: docs/screenshots/<mode>-<screen>-<lang>.png.

Runs headless (no display needed), at 1280×800, against a stand-in for the shop server
so that no network is used. The lobby kiosk's check-in screens are rendered by walking
the flows by touch on a kiosk whose local store holds two demo appointments, with the
messages a customer sees on wrong input. Usage::

    .venv/bin/python scripts/render_screenshots.py [--out docs/screenshots] [--only kiosk]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SIZE = (1280, 800)
SHOP = "Bright Auto Service"


def _prepare_kivy(kivy_home: str) -> None:
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.update(KIVY_NO_ARGS="1", KIVY_NO_FILELOG="1", KIVY_HOME=kivy_home)
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from kivy.config import Config

    Config.set("graphics", "width", str(SIZE[0]))
    Config.set("graphics", "height", str(SIZE[1]))
    Config.set("graphics", "maxfps", "0")


class DemoShopServer:
    """Answers like the shop server would, without a network (a ``ServerClient`` stand-in)."""

    def __init__(self, base_url: str, token: str | None = None, **_kwargs: Any) -> None:
        self.base_url = base_url
        self.token = token

    def __enter__(self) -> DemoShopServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        pass

    def whoami(self) -> Any:
        from kiosk.services.server_client import DeviceInfo

        return DeviceInfo("demo-device", "Lobby kiosk", "kiosk", SHOP, "京")

    def pair(self, code: str, device_name: str) -> Any:
        from kiosk.services.server_client import PAIRING_REFUSALS, ServerProblem

        reason = "pairing_code_unknown"
        raise ServerProblem(reason, PAIRING_REFUSALS[reason], 400)


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


SIGNATURE = [(0.1, 0.6), (0.25, 0.3), (0.4, 0.7), (0.55, 0.3), (0.7, 0.65), (0.9, 0.4)]


def render_checkin(lang: str, out_dir: Path) -> list[Path]:
    """Every check-in screen of the lobby kiosk, as a customer walks through them."""
    sys.path.insert(0, str(REPO / "tests"))
    from kiosk_flow_fixtures import DEVICE_ID, LOOKUP_KEY, store_with_appointments

    from kiosk.services.device_store import DeviceSettings, DeviceStore
    from kiosk.services.scanner import DummyScanner
    from kiosk.ui.app import CheckinApp
    from kiosk.ui.headless import HeadlessApp

    written: list[Path] = []
    with tempfile.TemporaryDirectory() as data_dir:
        store_with_appointments(Path(data_dir)).close()
        store = DeviceStore(data_dir)
        store.save(
            DeviceSettings(
                mode="kiosk",
                role="kiosk",
                token="demo",
                device_id=DEVICE_ID,
                shop_name=SHOP,
                plate_region="CN",
                ticket_prefix="K3",
                kiosk_lookup_key=LOOKUP_KEY.hex(),
                language=lang,
            )
        )
        scanner = DummyScanner()
        app = CheckinApp(
            store=store, client_factory=DemoShopServer, qr_scanner=scanner, start_sync=False
        )
        with HeadlessApp(app, size=SIZE) as harness:
            harness.wait_until(lambda: app.connection == "online")

            def screen(name: str) -> Any:
                return app.checkin.screen(name)

            def shot(name: str) -> None:
                written.append(harness.screenshot(out_dir / f"kiosk-{name}-{lang}.png"))

            def keys(pad: Any, text: str) -> None:
                for char in text:
                    harness.tap(pad.key_buttons[char])

            # Appointment: scan, type the code, look up by phone and plate, pick one.
            harness.tap(app.welcome_screen.ids.scan_appointment_qr)
            shot("scan")
            harness.tap(screen("scan").ids.type_code)
            keys(screen("code").ids.pad, "Q7M4K")
            harness.tap(screen("code").ids.find)
            shot("code-error")
            app.checkin.start_over()
            harness.tap(app.welcome_screen.ids.phone_or_plate)
            keys(screen("lookup").ids.phone_pad, "13912345601")
            shot("lookup-phone")
            harness.tap(screen("lookup").ids.by_plate)
            shot("lookup-plate-province")
            harness.tap(screen("lookup").ids.plate.province_tiles["沪"])
            keys(screen("lookup").ids.plate.pad, "BD123")
            harness.tap(screen("lookup").ids.find)
            shot("lookup-plate-error")
            app.checkin.start_over()
            matches = app.flow.find_appointments(app.local_store, *_two_matches(app))
            screen("matches").show(matches.matches)
            app.checkin.go("matches")
            shot("matches")
            app.checkin.start_over()

            harness.tap(app.welcome_screen.ids.scan_appointment_qr)
            scanner.deliver("Q7M4KX")
            harness.pump(3)
            shot("vehicle")
            keys(screen("vehicle").ids.mileage_pad, "2500000")
            harness.tap(screen("vehicle").ids.next)
            shot("vehicle-error")
            harness.tap(screen("vehicle").ids.mileage_pad.clear_key)
            keys(screen("vehicle").ids.mileage_pad, "48500")
            harness.tap(screen("vehicle").ids.next)
            harness.tap(screen("concern").tiles["noise"])
            screen("concern").ids.words.text = (
                "Squeaking from the front left" if lang == "en" else "左前方有异响"
            )
            shot("concern")
            harness.tap(screen("concern").ids.next)
            shot("contact")
            harness.tap(screen("contact").ids.reminders)
            shot("contact-reminders")
            harness.tap(screen("contact").ids.next)
            shot("consent")
            harness.tap(screen("consent").ids.agree)
            harness.tap(screen("signature").ids.finish)
            shot("signature-error")
            harness.drag(screen("signature").ids.pad, SIGNATURE)
            shot("signature")
            harness.tap(screen("signature").ids.finish)
            shot("done")
            app.checkin.start_over()

            # Walk-in, with the messages for wrong input.
            harness.tap(app.welcome_screen.ids.new_visit)
            keys(screen("walkin_contact").ids.phone_pad, "12345")
            harness.tap(screen("walkin_contact").ids.next)
            shot("walkin-contact-error")
            harness.tap(screen("walkin_contact").ids.phone_pad.clear_key)
            keys(screen("walkin_contact").ids.phone_pad, "13800001111")
            harness.tap(screen("walkin_contact").ids.next)
            shot("walkin-plate")
            harness.tap(screen("walkin_plate").ids.plate.province_tiles["京"])
            keys(screen("walkin_plate").ids.plate.pad, "A12")
            harness.tap(screen("walkin_plate").ids.next)
            shot("walkin-plate-error")
            keys(screen("walkin_plate").ids.plate.pad, "345")
            harness.tap(screen("walkin_plate").ids.next)
            keys(screen("walkin_vin").ids.vin_pad, "1HGCM82630A004353")
            harness.tap(screen("walkin_vin").ids.next)
            shot("walkin-vin-warning")
            harness.tap(screen("walkin_vin").ids.next)
            keys(screen("walkin_car").ids.year_pad, "1900")
            harness.tap(screen("walkin_car").make_tiles["Honda"])
            harness.tap(screen("walkin_car").ids.next)
            shot("walkin-car-error")

            # A shared screen: the idle question and the staff PIN pad.
            app.idle.timeout_s, app.idle.countdown_s = 0.0, 7.5
            app.idle.touched()
            harness.wait_until(lambda: app.idle_overlay.shown)
            shot("idle")
            app.idle.timeout_s, app.idle.countdown_s = 60.0, 10.0
            app.still_here()
            app.open_staff_pin()
            shot("staff-pin")
            app.staff_overlay.close()
    return written


def _two_matches(app: Any) -> tuple[Any, str]:
    """A lookup that finds both demo appointments (for the "which one?" screen): both
    are given the first one's phone, as for a customer who booked two cars."""
    from kiosk.services.checkin_flow import LookupKind

    records = app.local_store.find("appointment")
    phone_hash = next(r["phone_hash"] for r in records if r["customer_name_masked"] == "Zhang **")
    app.local_store.replace_snapshot(
        {"appointment"},
        [
            {
                "kind": "appointment",
                "id": record["id"],
                "fields": {
                    **{k: v for k, v in record.items() if k != "id"},
                    "phone_hash": phone_hash,
                },
            }
            for record in records
        ],
    )
    return LookupKind.phone, "13812345678"


def render(out_dir: Path, only: str | None = None) -> list[Path]:
    written: list[Path] = []
    for lang in ("en", "zh_CN"):
        for mode in ("kiosk", "tablet"):
            if only in (None, "pairing"):
                written += render_pairing(mode, lang, out_dir)
                written += render_welcome(mode, lang, out_dir)
        if only in (None, "kiosk"):
            written += render_checkin(lang, out_dir)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--only", choices=("pairing", "kiosk"), help="render only these")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="kivy-home-") as kivy_home:
        _prepare_kivy(kivy_home)
        for path in render(args.out, args.only):
            print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
