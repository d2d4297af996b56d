"""The walk-around's *Deferred* tab on the tablet, for review: work the customer declined
at the car's earlier visits (one of it overdue), as the advisor sees it at the car:
``docs/screenshots/tablet-walkaround-deferred-<lang>.png``. Called by
``render_screenshots.py`` (``--only deferred``), which prepares a headless Kivy first."""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZE = (1280, 800)


def render_deferred(lang: str, out_dir: Path) -> list[Path]:
    sys.path.insert(0, str(REPO / "tests"))
    from screenshot_shop import SHOP, SHOP_TIMEZONE, DemoShopServer
    from tablet_fixtures import ADVISOR, TABLET_ID, seed_visit

    from kiosk.services.device_store import DeviceSettings, DeviceStore
    from kiosk.services.local_store import LocalStore
    from kiosk.ui.app import CheckinApp
    from kiosk.ui.headless import HeadlessApp

    zh = lang == "zh_CN"
    # What the advisor typed on the quote in May, in the shop's own words.
    lines = [
        ("Front brake pads", "前刹车片", "BP-2231", "yellow", date(2026, 5, 12), date(2026, 8, 10)),
        ("Rear wiper blade", "后雨刮片", "WB-450", "green", date(2026, 5, 12), date(2026, 11, 8)),
        ("Cabin air filter", "空调滤芯", "", "green", date(2026, 9, 2), date(2027, 3, 1)),
    ]
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as data_dir:
        data = Path(data_dir)
        with LocalStore(data, TABLET_ID) as local:
            visit_id = seed_visit(local)[0]
            vehicle_id = local.get("visit", visit_id)["vehicle_id"]
            local.cache_vehicle_history(
                vehicle_id,
                [],
                [
                    {
                        "visit_id": visit_id, "line_id": f"line-{n}",
                        "description": zh_text if zh else en_text, "part_number": part,
                        "urgency": urgency, "declined_on": declined.isoformat(),
                        "due_on": due.isoformat(),
                    }
                    for n, (en_text, zh_text, part, urgency, declined, due) in enumerate(lines)
                ],
            )  # fmt: skip
        store = DeviceStore(data)
        store.save(
            DeviceSettings(
                mode="tablet", role="tablet", token="demo", device_id=TABLET_ID,
                device_name="Advisor tablet 1", shop_name=SHOP, shop_timezone=SHOP_TIMEZONE,
                plate_region="CN", ticket_prefix="T", language=lang,
            )
        )  # fmt: skip
        app = CheckinApp(store=store, client_factory=DemoShopServer, start_sync=False)
        with HeadlessApp(app, size=SIZE) as harness:
            harness.wait_until(lambda: app.connection == "online")
            app.advisor = ADVISOR
            flow = app.walkaround
            flow.open(visit_id)
            harness.pump(3)
            harness.tap(flow.screen("damage").ids.header.ids.tab_deferred)
            harness.pump(3)
            path = out_dir / f"tablet-walkaround-deferred-{lang}.png"
            written.append(harness.screenshot(path))
            flow.close()
    return written
