"""Every walk-around screen of the advisor tablet, as an advisor walks a car with its
customer: ``docs/screenshots/tablet-walkaround-*-<lang>.png``. Called by
``render_screenshots.py`` (``--only walkaround``), which prepares a headless Kivy first."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from screenshot_shop import REPO, SHOP, SHOP_TIMEZONE, SIZE, DemoShopServer


def render_walkaround(lang: str, out_dir: Path, size: tuple[int, int] = SIZE) -> list[Path]:
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
        with HeadlessApp(app, size=size) as harness:
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
            harness.reach(diagram)
            tap_at(harness, *diagram_point(diagram, 0.36, 0.62))
            harness.tap(damage.severity_tiles[2])
            damage.ids.note.text = "驾驶员侧车门" if zh else "driver's door"
            damage.commit()
            shot("damage-editor")
            harness.tap(damage.ids.editor_done)
            harness.reach(diagram)
            tap_at(harness, *diagram_point(diagram, 0.8, 0.42))
            harness.tap(damage.type_tiles["U"])
            harness.tap(damage.ids.editor_done)
            harness.tap(damage.view_tiles["right"])
            harness.reach(diagram)
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
            harness.reach(photos_screen.ids.photo)
            tap_at(harness, *photo_point(photos_screen.ids.photo, 0.42, 0.45))
            harness.tap(photos_screen.mark_tiles[marks[1].id])
            shot("photos-pin")
            harness.reach(photos_screen.ids.photo)
            tap_at(harness, *photo_point(photos_screen.ids.photo, 0.7, 0.6))
            shot("photos")
            harness.reach(photos_screen.ids.photo)
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
            harness.reach(sign.ids.pad)
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
