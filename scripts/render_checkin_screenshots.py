"""Every check-in screen of the lobby kiosk, as a customer walks through them:
``docs/screenshots/kiosk-*-<lang>.png``. Called by ``render_screenshots.py``
(``--only kiosk``), which prepares a headless Kivy first."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from screenshot_shop import REPO, SIZE, DemoShopServer, lobby_kiosk


@contextlib.contextmanager
def held_save(store: Any) -> Iterator[Callable[[], None]]:
    """Hold the store's next ``save_many`` until the callable given is called."""
    gate = threading.Event()
    real = store.save_many

    def held(*args: Any, **kwargs: Any) -> Any:
        gate.wait(30)
        return real(*args, **kwargs)

    store.save_many = held
    try:
        yield gate.set
    finally:
        gate.set()
        del store.save_many


SIGNATURE = [(0.1, 0.6), (0.25, 0.3), (0.4, 0.7), (0.55, 0.3), (0.7, 0.65), (0.9, 0.4)]


def render_checkin(lang: str, out_dir: Path) -> list[Path]:
    """Every check-in screen of the lobby kiosk, as a customer walks through them."""
    sys.path.insert(0, str(REPO / "tests"))

    from kiosk.services.scanner import DummyScanner
    from kiosk.ui.app import CheckinApp
    from kiosk.ui.headless import HeadlessApp

    written: list[Path] = []
    with tempfile.TemporaryDirectory() as data_dir:
        store = lobby_kiosk(data_dir, lang)
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
            matches = app.flow.find_appointments(app.local_store, *two_matches(app))
            screen("matches").show(matches.matches)
            app.checkin.go("matches")
            shot("matches")
            app.checkin.start_over()
            app.local_store.replace_snapshot({"appointment"}, [snapshot_entry(r) for r in booked])

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
            with held_save(app.local_store) as release:
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


def snapshot_entry(record: dict[str, Any]) -> dict[str, Any]:
    """A stored appointment as the server's snapshot sends it."""
    fields = {k: v for k, v in record.items() if k != "id"}
    return {"kind": "appointment", "id": record["id"], "fields": fields}


def two_matches(app: Any) -> tuple[Any, str]:
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
