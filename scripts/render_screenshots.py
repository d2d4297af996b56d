"""Render the kiosk's screens to PNG for review: docs/screenshots/<mode>-<screen>-<lang>.png.

Runs headless (no display needed), at 1280×800, against a stand-in for the shop server
so that no network is used. The lobby kiosk's check-in screens are rendered by walking
the flows by touch on a kiosk whose local store holds two demo appointments, with the
messages a customer sees on wrong input. The advisor tablet's walk-around screens are
rendered by walking a car's walk-around by touch (``tablet-walkaround-*``). Usage::

    .venv/bin/python scripts/render_screenshots.py [--out DIR] \
        [--only pairing|kiosk|tablet|walkaround|typing|advisor]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SIZE = (1280, 800)
SHOP = "Bright Auto Service"
# The shop's clock; the renderer's own clock is UTC, so a time shown in the shop's zone
# (the queue's check-in times, the walk-around's "saved" time) is visibly the shop's.
SHOP_TIMEZONE = "Asia/Shanghai"


@contextlib.contextmanager
def _held_save(store: Any) -> Iterator[Callable[[], None]]:
    """Hold the store's next ``save_many`` until the callable given is called."""
    gate = threading.Event()
    real = store.save_many

    def held(changes: Any, **kwargs: Any) -> Any:
        gate.wait(30)
        return real(changes, **kwargs)

    store.save_many = held
    try:
        yield gate.set
    finally:
        gate.set()
        del store.save_many


def _prepare_kivy(kivy_home: str) -> None:
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ["TZ"] = "UTC"  # the device's clock: not the shop's (SHOP_TIMEZONE)
    time.tzset()
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
    from kiosk_flow_fixtures import DEVICE_ID, store_with_appointments

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
            keys(app.welcome_screen.ids.phone_pad, "391234560")
            shot("welcome-phone")
            keys(app.welcome_screen.ids.phone_pad, "9")
            harness.pump(2)
            shot("welcome-phone-not-found")
            app.checkin.start_over()
            harness.tap(app.welcome_screen.ids.phone_or_plate)
            shot("lookup-plate-province")
            harness.tap(screen("lookup").ids.plate.province_tiles["沪"])
            keys(screen("lookup").ids.plate.pad, "BD123")
            harness.tap(screen("lookup").ids.find)
            shot("lookup-plate-error")
            app.checkin.start_over()
            booked = app.local_store.find("appointment")
            matches = app.flow.find_appointments(app.local_store, *_two_matches(app))
            screen("matches").show(matches.matches)
            app.checkin.go("matches")
            shot("matches")
            app.checkin.start_over()
            app.local_store.replace_snapshot({"appointment"}, [_entry(r) for r in booked])

            # By phone on the welcome screen: found at the last digit, then one screen.
            keys(app.welcome_screen.ids.phone_pad, "3912345601")
            harness.pump(2)
            shot("confirm")
            if os.environ.get("RENDER_STOP"):
                return written
            harness.tap(screen("confirm").ids.change_mileage)
            keys(screen("vehicle").ids.mileage_pad, "2500000")
            harness.tap(screen("vehicle").ids.next)
            shot("vehicle-error")
            harness.tap(screen("vehicle").ids.mileage_pad.clear_key)
            keys(screen("vehicle").ids.mileage_pad, "48500")
            harness.tap(screen("vehicle").ids.next)
            harness.tap(screen("confirm").ids.change_concerns)
            harness.tap(screen("concern").tiles["noise"])
            # The work booked is already there; the customer adds to it.
            screen("concern").ids.words.text += (
                "; squeaking from the front left" if lang == "en" else "；左前方有异响"
            )
            shot("concern")
            harness.tap(screen("concern").ids.next)
            harness.tap(screen("confirm").ids.change_contact)
            shot("contact")
            harness.tap(screen("contact").ids.reminders)
            shot("contact-reminders")
            harness.tap(screen("contact").ids.next)
            harness.tap(screen("confirm").ids.finish)
            shot("confirm-error")
            harness.drag(screen("confirm").ids.pad, SIGNATURE)
            shot("confirm-signed")
            with _held_save(app.local_store) as release:
                harness.tap(screen("confirm").ids.finish, wait_for_saves=False)
                shot("confirm-saving")  # the check-in being saved: the buttons wait
                release()
                harness.wait_until(lambda: harness.screen == "done")
            shot("done")
            app.checkin.start_over()
            harness.tap(app.welcome_screen.ids.scan_appointment_qr)
            scanner.deliver("Q7M4KX")  # the same appointment again
            harness.pump(3)
            shot("already-checked-in")
            app.checkin.start_over()

            # Walk-in, with the messages for wrong input.
            harness.tap(app.welcome_screen.ids.new_visit)
            keys(screen("walkin_contact").ids.phone_pad, "2345")
            harness.tap(screen("walkin_contact").ids.next)
            shot("walkin-contact-error")
            harness.tap(screen("walkin_contact").ids.phone_pad.clear_key)
            keys(screen("walkin_contact").ids.phone_pad, "3800001111")
            harness.pump(2)
            shot("walkin-plate")
            harness.tap(screen("walkin_plate").ids.plate.province_tiles["京"])
            keys(screen("walkin_plate").ids.plate.pad, "A12")
            harness.tap(screen("walkin_plate").ids.next)
            shot("walkin-plate-error")
            keys(screen("walkin_plate").ids.plate.pad, "345")
            harness.tap(screen("walkin_plate").ids.next)
            screen("walkin_car").ids.name.text = "张伟" if lang == "zh_CN" else "Zhang Wei"
            harness.tap(screen("walkin_car").ids.add_vin)
            keys(screen("walkin_vin").ids.vin_pad, "1HGCM82630A004353")
            harness.tap(screen("walkin_vin").ids.next)
            shot("walkin-vin-warning")
            harness.tap(screen("walkin_vin").ids.next)
            keys(screen("walkin_car").ids.year_pad, "1900")
            harness.tap(screen("walkin_car").make_tiles["Honda"])
            harness.tap(screen("walkin_car").ids.next)
            shot("walkin-car-error")
            harness.tap(screen("walkin_car").ids.year_pad.clear_key)
            keys(screen("walkin_car").ids.year_pad, "2018")
            harness.tap(screen("walkin_car").ids.next)
            harness.tap(screen("concern").tiles["brakes"])
            harness.tap(screen("concern").ids.next)
            harness.drag(screen("confirm").ids.pad, SIGNATURE)
            shot("walkin-confirm")

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


class DemoTabletServer(DemoShopServer):
    """The shop server as an advisor tablet sees it: three advisors, PIN 2026."""

    def whoami(self) -> Any:
        from kiosk.services.server_client import DeviceInfo

        return DeviceInfo("demo-tablet", "Advisor tablet 1", "tablet", SHOP, "京")

    def advisors(self) -> list[dict[str, Any]]:
        return [
            {"user_id": 2, "username": "li.na", "display_name": "Li Na 李娜"},
            {"user_id": 3, "username": "tom", "display_name": "Tom Becker"},
            {"user_id": 4, "username": "wang.lei", "display_name": "王磊"},
        ]

    def sign_in_advisor(self, username: str, pin: str) -> dict[str, Any]:
        from kiosk.services.server_client import ServerProblem

        if pin != "2026":
            wrong = {"type": "demo/pin-wrong", "tries_left": 4, "lock_minutes": 15}
            raise ServerProblem("request_refused", None, 403, wrong)  # type: ignore[arg-type]
        return next(a for a in self.advisors() if a["username"] == username)


class DemoNobodyServer(DemoTabletServer):
    def advisors(self) -> list[dict[str, Any]]:
        return []


def render_tablet(lang: str, out_dir: Path) -> list[Path]:
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
        with HeadlessApp(app, size=SIZE) as harness:
            harness.wait_until(lambda: app.sign_in_screen.loaded)
            shot(harness, "sign-in-nobody")
    with tempfile.TemporaryDirectory() as data_dir:
        store_with_cars(Path(data_dir))[0].close()
        DeviceStore(data_dir).save(settings)
        app = CheckinApp(
            store=DeviceStore(data_dir), client_factory=DemoTabletServer, start_sync=False
        )
        with HeadlessApp(app, size=SIZE) as harness:
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


def render_walkaround(lang: str, out_dir: Path) -> list[Path]:
    """Every walk-around screen of the advisor tablet, as an advisor walks a car with its
    customer: marks placed by touch, photos imported and pinned, the car's state, the
    belongings, the signature, the printed sheet, and a change after signing."""
    sys.path.insert(0, str(REPO / "tests"))
    from tablet_fixtures import (
        ADVISOR,
        TABLET_ID,
        diagram_point,
        make_photo,
        photo_point,
        seed_visit,
        sign_on,
        tap_at,
    )

    from kiosk.services.camera import FileImportCamera
    from kiosk.services.device_store import DeviceSettings, DeviceStore
    from kiosk.services.local_store import LocalStore
    from kiosk.services.printing import NoPrinter
    from kiosk.ui.app import CheckinApp
    from kiosk.ui.headless import HeadlessApp

    zh = lang == "zh_CN"
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as data_dir:
        data = Path(data_dir)
        with LocalStore(data, TABLET_ID) as local:
            visit_id = seed_visit(local)[0]
        store = DeviceStore(data)
        store.save(
            DeviceSettings(
                mode="tablet",
                role="tablet",
                token="demo",
                device_id=TABLET_ID,
                device_name="Advisor tablet 1",
                shop_name=SHOP,
                shop_timezone=SHOP_TIMEZONE,
                plate_region="CN",
                ticket_prefix="T",
                language=lang,
            )
        )
        pictures = data / "camera"
        pictures.mkdir()
        photos = [make_photo(pictures / f"IMG_00{n}.jpg", n) for n in (1, 2, 3)]
        app = CheckinApp(store=store, client_factory=DemoShopServer, start_sync=False)
        with HeadlessApp(app, size=SIZE) as harness:
            harness.wait_until(lambda: app.connection == "online")
            app.advisor = ADVISOR
            flow = app.walkaround
            flow.camera = FileImportCamera(photos)
            flow.printer = NoPrinter()
            flow.open(visit_id)
            harness.pump(3)

            def shot(name: str) -> None:
                written.append(harness.screenshot(out_dir / f"tablet-walkaround-{name}-{lang}.png"))

            # Damage: two marks by touch, one edited; the earlier visit's dent carried over.
            damage = flow.screen("damage")
            diagram = damage.ids.diagram
            tap_at(harness, *diagram_point(diagram, 0.36, 0.62))
            harness.tap(damage.severity_tiles[2])
            damage.ids.note.text = "驾驶员侧车门" if zh else "driver's door"
            damage.commit()
            shot("damage-editor")
            harness.tap(damage.ids.editor_done)
            tap_at(harness, *diagram_point(diagram, 0.8, 0.42))
            harness.tap(damage.type_tiles["U"])
            harness.tap(damage.ids.editor_done)
            harness.tap(damage.view_tiles["right"])
            tap_at(harness, *diagram_point(diagram, 0.7, 0.55))  # the grey ring
            shot("damage-earlier")
            harness.tap(damage.ids.carry_over)
            harness.tap(damage.ids.editor_done)
            harness.tap(damage.view_tiles["left"])
            shot("damage")

            # Photos: imported from files (no camera here), pinned to the marks.
            flow.show("photos")
            photos_screen = flow.screen("photos")
            for count in (1, 2, 3):
                harness.tap(photos_screen.ids.take)
                harness.wait_until(lambda n=count: len(flow.sheet.photos) == n)
            marks = flow.sheet.marks
            harness.tap(photos_screen.thumbs[flow.sheet.photos[0].image.sha256])
            harness.tap(photos_screen.mark_tiles[marks[0].id])
            tap_at(harness, *photo_point(photos_screen.ids.photo, 0.42, 0.45))
            harness.tap(photos_screen.mark_tiles[marks[1].id])
            shot("photos-pin")
            tap_at(harness, *photo_point(photos_screen.ids.photo, 0.7, 0.6))
            shot("photos")
            tap_at(harness, *photo_point(photos_screen.ids.photo, 0.2, 0.2))
            zoom = photos_screen.zoom_view
            harness.tap(zoom.ids.zoom_in)
            shot("photos-zoom")
            harness.tap(zoom.ids.close_zoom)
            flow.camera = FileImportCamera()  # nothing queued: the file chooser opens
            harness.tap(photos_screen.ids.take)
            chooser = flow.chooser
            chooser.show_folder(str(pictures))
            harness.tap(chooser.thumbs[photos[1].name])
            shot("photos-import")
            harness.tap(chooser.ids.cancel_import)

            # The car: a reading lower than last time is questioned; tread must be a number.
            harness.tap(photos_screen.ids.header.ids.tab_car)
            car = flow.screen("car")
            for key in "47900":
                harness.tap(car.ids.odometer_pad.key_buttons[key])
            harness.tap(car.ids.save_odometer)
            shot("car-warning")
            harness.tap(car.fuel_tiles[3])
            harness.tap(car.light_tiles["tyre_pressure"])
            harness.tap(car.light_tiles["engine"])
            car.ids.tread_fl.text = "3.2"
            car.commit_tread("fl")
            car.ids.tread_fr.text = "3,1mm"
            car.commit_tread("fr")
            car.ids.tread_rl.text = "deep"
            car.commit_tread("rl")
            shot("car-error")
            car.ids.tread_rl.text = "2.8"
            car.commit_tread("rl")
            shot("car")

            # Belongings and notes.
            harness.tap(car.ids.header.ids.tab_belongings)
            belongings = flow.screen("belongings")
            for name in ("spare_wheel", "documents", "valuables"):
                harness.tap(belongings.item_tiles[name])
            harness.tap(belongings.ids.more_keys)
            belongings.ids.other_note.text = "雨伞、太阳镜" if zh else "umbrella, sunglasses"
            belongings.ids.exterior_notes.text = (
                "车身较脏；车顶行李架" if zh else "Dusty; roof rack fitted"
            )
            belongings.ids.interior_notes.text = "后座有污渍" if zh else "Stain on the rear seat"
            belongings.commit()
            shot("belongings")

            # The summary, the signature (too little ink first), the printed sheet.
            harness.tap(belongings.ids.header.ids.tab_sign)
            sign = flow.screen("sign")
            shot("sign")
            tap_at(harness, *sign.ids.pad.to_window(*sign.ids.pad.center))
            harness.tap(sign.ids.sign)
            shot("sign-error")
            harness.tap(sign.ids.clear_pad)
            sign_on(harness, sign.ids.pad)
            harness.tap(sign.ids.sign)
            harness.tap(sign.ids.print_sheet)
            harness.wait_until(lambda: not flow.printing, timeout=60)
            shot("signed")

            # A change after signing: asked first, then a new version to sign.
            harness.tap(sign.ids.header.ids.tab_car)
            harness.tap(car.fuel_tiles[4])
            shot("changed-dialog")
            harness.tap(flow.dialog.ids.change)
            harness.tap(car.ids.header.ids.tab_sign)
            shot("changed")
    return written


def _entry(record: dict[str, Any]) -> dict[str, Any]:
    """A stored appointment as the server's snapshot sends it."""
    fields = {k: v for k, v in record.items() if k != "id"}
    return {"kind": "appointment", "id": record["id"], "fields": fields}


def _two_matches(app: Any) -> tuple[Any, str]:
    """A lookup that finds both demo appointments (for the "which one?" screen): both
    are given the first one's phone, as for a customer who booked two cars."""
    from kiosk.services.checkin_flow import LookupKind
    from shared.lookup import lookup_hash

    records = app.local_store.find("appointment")
    app.local_store.replace_snapshot(
        {"appointment"},
        [
            {
                "kind": "appointment",
                "id": record["id"],
                "fields": {
                    **{k: v for k, v in record.items() if k != "id"},
                    "phone_hash": lookup_hash(record["lookup_salt"], "phone", "+8613812345678"),
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
        if only in (None, "pairing"):
            written += render_welcome("kiosk", lang, out_dir)
        if only in (None, "tablet"):
            written += render_tablet(lang, out_dir)
        if only in (None, "kiosk"):
            written += render_checkin(lang, out_dir)
        if only in (None, "walkaround"):
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
        _prepare_kivy(kivy_home)
        for path in render(args.out, args.only):
            print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
