"""The advisor's check-in at the car on the tablet, for review: today's arrivals, the car
and concern (an appointment, and a walk-in with a wrong phone number), the privacy
promise with a signature, and the queue with a customer not greeted in time:
``docs/screenshots/tablet-advisor-*-<lang>.png``. Called by ``render_screenshots.py``
(``--only advisor``), which prepares a headless Kivy first."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZE = (1280, 800)


def render_advisor_checkin(lang: str, out_dir: Path) -> list[Path]:
    sys.path.insert(0, str(REPO / "tests"))
    from advisor_checkin_fixtures import store_with_arrivals
    from screenshot_shop import DemoTabletServer
    from tablet_fixtures import ADVISOR, SIGNATURE_WAVE

    from kiosk.ui.app import CheckinApp
    from kiosk.ui.headless import HeadlessApp

    written: list[Path] = []
    with tempfile.TemporaryDirectory() as data_dir:
        devices = store_with_arrivals(Path(data_dir), language=lang)
        app = CheckinApp(store=devices, client_factory=DemoTabletServer, start_sync=False)
        with HeadlessApp(app, size=SIZE) as harness:

            def shot(name: str) -> None:
                harness.pump(3)
                path = out_dir / f"tablet-advisor-{name}-{lang}.png"
                written.append(harness.screenshot(path))

            app.advisor, app.advisor_name = ADVISOR, ADVISOR.display_name
            app.show_queue()
            queue = app.queue_screen
            harness.wait_until(lambda: queue.loaded)
            harness.pump(2)
            queue.ids.list.scroll_y = 0  # the customer waiting longest is at the bottom
            shot("queue-not-greeted")
            harness.tap(queue.ids.check_in)
            arrivals = app.advisor_checkin.arrivals_screen
            harness.wait_until(lambda: arrivals.loaded)
            shot("arrivals")
            harness.pump(2)
            row = next(w for w in arrivals.ids.list.layout_manager.children if w.appointment_id)
            harness.tap(row)
            car = app.advisor_checkin.car_screen
            harness.tap(car.ids.next)
            shot("car-no-mileage")
            car.ids.mileage.text = "52300"
            harness.tap(car.ids.next)
            sign = app.advisor_checkin.sign_screen
            harness.drag(sign.ids.pad, SIGNATURE_WAVE)
            shot("sign")
            harness.tap(sign.ids.cancel)
            harness.tap(queue.ids.check_in)
            harness.wait_until(lambda: arrivals.loaded)
            harness.tap(arrivals.ids.walk_in)
            for name, text in (
                ("phone", "12345"),
                ("plate_input", "粤B88K22"),
                ("make", "BYD"),
                ("model", "Seal"),
                ("mileage", "8000"),
                ("concern", "Warning light on"),
            ):
                car.ids[name].text = text
            harness.tap(car.ids.next)
            shot("walk-in-error")
    return written
