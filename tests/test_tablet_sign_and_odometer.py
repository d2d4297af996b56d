"""The tablet's signing screen and odometer, as the advisor and the customer use them:
the customer signs a report they can read whole (its version, not a hash), and a
kiosk mileage that differs from the walk-around's reading is pointed out to the advisor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tablet_fixtures import (
    TabletVisit,
    start_tablet_fixture,  # noqa: F401
    tablet_data_fixture,  # noqa: F401
)

from kiosk.ui.headless import HeadlessApp

pytestmark = pytest.mark.ui


def all_text(widget: Any) -> str:
    return "\n".join(str(getattr(w, "text", "")) for w in widget.walk())


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_signing_screen_shows_the_version_and_the_whole_report(
    start_tablet: Callable[..., HeadlessApp], lang: str
) -> None:
    harness = start_tablet()
    app, flow = harness.app, harness.app.walkaround
    app.set_language(lang)
    for index in range(9):  # a car with many marks: a long report
        flow.sheet.add_mark("left", 0.1 + index * 0.08, 0.5, "A", 2, note="door")
    flow.sheet.set_notes(exterior="Dirty body; roof rack", interior="Stain on the back seat")
    harness.tap(flow.screen("damage").ids.header.ids.tab_sign)
    sign = flow.screen("sign")
    harness.pump(25)  # the report shrinks a size a frame until it fits
    digest = flow.sheet.report_sha256()
    shown = all_text(sign)
    assert digest[:12] not in shown and "ingerprint" not in shown and "指纹" not in shown
    title = sign.ids.report_title.text
    assert title == ("Condition report, version 1" if lang == "en" else "车况报告（第 1 版）")
    rows = sign.ids.summary.children
    assert len(rows) >= 15
    view = sign.ids.summary_view
    assert sign.summary_fits, (sign.ids.summary.minimum_height, view.height)
    view_bottom = view.to_window(view.x, view.y)[1]
    for row in rows:  # every row is inside the visible card: nothing to scroll
        assert row.to_window(row.x, row.y)[1] >= view_bottom - 1, row.label


def test_a_kiosk_mileage_that_differs_is_shown_and_the_walkarounds_reading_kept(
    start_tablet: Callable[..., HeadlessApp], tablet_data: TabletVisit
) -> None:
    harness = start_tablet()
    flow, store = harness.app.walkaround, harness.app.local_store
    harness.tap(flow.screen("damage").ids.header.ids.tab_car)
    car = flow.screen("car")
    assert car.ids.odometer.placeholder == "52,340 km"  # typed at the kiosk
    assert car.ids.kiosk_km.text == ""  # nothing differs yet
    for key in "52420":
        harness.tap(car.ids.odometer_pad.key_buttons[key])
    harness.tap(car.ids.save_odometer)
    assert car.ids.kiosk_km.text == "Kiosk: 52,340 km (80 km less). This reading is kept."
    (walkaround,) = store.find("walkaround", visit_id=tablet_data.visit_id)
    assert walkaround["odometer_km"] == 52420
    assert store.get("visit", tablet_data.visit_id)["mileage_in_km"] == 52340  # as typed
    harness.tap(car.ids.header.ids.language.children[0])  # 简体中文
    assert "少 80 km" in car.ids.kiosk_km.text and "以本次读数为准" in car.ids.kiosk_km.text
    for key in "52300":
        harness.tap(car.ids.odometer_pad.key_buttons[key])
    harness.tap(car.ids.save_odometer)
    assert "多 40 km" in car.ids.kiosk_km.text
