"""The car: odometer on a number pad, fuel gauge in eighths, warning lights on the
dashboard, and (optional) tyre tread depth."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import DictProperty, NumericProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.services.walkaround import WARNING_LIGHTS
from kiosk.ui.screens.walkaround_common import WalkaroundStepScreen
from shared.domain import TYRE_POSITIONS
from shared.i18n import Text

PREVIOUS_KM = Text("Last recorded for this car: {km} km", "kiosk")
FUEL_EMPTY = Text("Empty", "kiosk")
FUEL_FULL = Text("Full", "kiosk")
FUEL_NOT_READ = Text("Not read yet", "kiosk")
# The customer's own mileage from the kiosk, when the advisor's reading differs.
KIOSK_KM_LOWER = Text("Kiosk: {kiosk} km ({difference} km less). This reading is kept.", "kiosk")
KIOSK_KM_HIGHER = Text("Kiosk: {kiosk} km ({difference} km more). This reading is kept.", "kiosk")


class WalkaroundCarScreen(WalkaroundStepScreen):
    """The odometer on the left; fuel, warning lights and tread on the right."""

    page_min_dp = ((0, 760), (0, 1450))  # one column when narrow: taller

    fuel = NumericProperty(-1)  # eighths; -1 while not read
    fuel_text = StringProperty("")
    previous_km = StringProperty("")
    saved_km = StringProperty("")  # the reading on the sheet, shown until one is typed
    kiosk_km_note = StringProperty("")  # the kiosk's mileage, when it differs
    fuel_tiles = DictProperty()
    light_tiles = DictProperty()

    def on_kv_post(self, base_widget: Widget) -> None:
        for eighths in range(9):
            tile = Factory.FuelSegment(value=str(eighths))
            tile.bind(on_release=lambda _t, e=eighths: self.set_fuel(e))
            self.ids.fuel_row.add_widget(tile)
            self.fuel_tiles[eighths] = tile
        for code in WARNING_LIGHTS:
            tile = Factory.LightTile(value=code)
            tile.bind(on_release=lambda _t, c=code: self.toggle_light(c))
            self.ids.light_grid.add_widget(tile)
            self.light_tiles[code] = tile
        app: Any = App.get_running_app()
        if app is not None:
            app.bind(lang=lambda *_: self.refresh())

    @property
    def tread_inputs(self) -> dict[str, Any]:
        return {position: self.ids[f"tread_{position}"] for position in TYRE_POSITIONS}

    # -- what the advisor does ---------------------------------------------------------

    def save_odometer(self) -> None:
        flow, typed = self.controller, self.ids.odometer_pad.text
        if not typed:
            return
        flow.edit(lambda: flow.sheet.set_odometer(typed), screen=self, done=self._odometer_saved)

    def _odometer_saved(self, warnings: list[Any]) -> None:
        self.ids.odometer_pad.text = ""  # the saved reading shows in its place
        self.issues = warnings  # (clearing the pad cleared them)

    def set_fuel(self, eighths: int) -> None:
        flow = self.controller
        flow.edit(lambda: flow.sheet.set_fuel(eighths), screen=self)

    def toggle_light(self, code: str) -> None:
        flow = self.controller
        lights = set(flow.sheet.walkaround.warning_lights) ^ {code}
        flow.edit(lambda: flow.sheet.set_warning_lights(lights), screen=self)

    def commit_tread(self, position: str) -> None:
        flow = self.controller
        if flow is None or flow.sheet is None:
            return
        field = self.ids[f"tread_{position}"]
        saved = flow.sheet.walkaround.tyre_tread_mm.get(position)
        typed = field.text.strip()
        if typed == _tread_text(saved):
            return
        flow.edit(
            lambda: flow.sheet.set_tyre_tread(position, typed),
            screen=self,
            cancelled=lambda: setattr(field, "text", _tread_text(saved)),
        )

    def commit(self) -> None:
        flow = self.controller
        if flow is None or flow.sheet is None:
            return
        for position in TYRE_POSITIONS:
            self.commit_tread(position)
        if self.ids.odometer_pad.text:
            self.save_odometer()  # typed but not saved yet: keep it (a wrong one stays typed)

    def reset(self) -> None:
        super().reset()
        self.ids.odometer_pad.text = ""
        for field in self.tread_inputs.values():
            field.text = ""

    # -- showing -----------------------------------------------------------------------

    def on_pre_enter(self, *args: Any) -> None:
        sheet = self.controller.sheet
        if sheet is not None:
            self.ids.odometer_pad.text = ""
            for position, field in self.tread_inputs.items():
                field.text = _tread_text(sheet.walkaround.tyre_tread_mm.get(position))
        super().on_pre_enter(*args)

    def refresh(self) -> None:
        flow = self.controller
        if flow is None or flow.sheet is None:
            return
        sheet, lang = flow.sheet, _lang()
        walkaround = sheet.walkaround
        self.fuel = -1 if walkaround.fuel_eighths is None else walkaround.fuel_eighths
        if walkaround.fuel_eighths is None:
            self.fuel_text = FUEL_NOT_READ.render(lang)
        else:
            self.fuel_text = f"{walkaround.fuel_eighths}/8"
        for eighths, tile in self.fuel_tiles.items():
            tile.filled = 0 < eighths <= self.fuel
            tile.selected = eighths == self.fuel
            if eighths == 0:
                tile.text = FUEL_EMPTY.render(lang)
            elif eighths == 8:
                tile.text = FUEL_FULL.render(lang)
            else:
                tile.text = f"{eighths}/8"
        for code, tile in self.light_tiles.items():
            tile.text = WARNING_LIGHTS[code].render(lang)
            tile.selected = code in walkaround.warning_lights
        odometer = walkaround.odometer_km
        self.saved_km = "" if odometer is None else f"{odometer:,} km"
        difference = sheet.odometer_difference
        if difference is None or sheet.kiosk_km is None:
            self.kiosk_km_note = ""
        else:
            note = KIOSK_KM_LOWER if difference > 0 else KIOSK_KM_HIGHER
            params = {"kiosk": f"{sheet.kiosk_km:,}", "difference": f"{abs(difference):,}"}
            self.kiosk_km_note = replace(note, params=params).render(lang)
        previous = sheet.previous_km
        last = replace(PREVIOUS_KM, params={"km": f"{previous:,}"}) if previous else None
        self.previous_km = last.render(lang) if last is not None else ""
        for position, field in self.tread_inputs.items():
            if not field.focus:
                field.text = _tread_text(walkaround.tyre_tread_mm.get(position))


def _tread_text(depth: float | None) -> str:
    return "" if depth is None else f"{depth:.1f}"


def _lang() -> str:
    app: Any = App.get_running_app()
    return str(app.lang) if app is not None else "en"
