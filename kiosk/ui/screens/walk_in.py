"""The walk-in form, one question per screen: contact, plate, VIN, car."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.properties import BooleanProperty
from kivy.uix.widget import Widget

from kiosk.services.checkin_flow import COMMON_MAKES
from kiosk.ui.screens.step import StepScreen


class WalkInContactScreen(StepScreen):
    """Mobile number on a number pad (required); name on the keyboard (optional)."""

    def reset(self) -> None:
        super().reset()
        self.ids.phone_pad.text = ""
        self.ids.name.text = ""

    def submit(self) -> None:
        self.issues = self.checkin.set_contact(self.ids.name.text, self.ids.phone_pad.text)


class WalkInPlateScreen(StepScreen):
    """The plate, by province tile and letter/digit pad (or a plain pad abroad)."""

    def reset(self) -> None:
        super().reset()
        self.ids.plate.set_text("")

    def prepare(self) -> None:
        self.ids.plate.region = self.checkin.plate_region

    def submit(self) -> None:
        self.issues = self.checkin.set_plate(self.ids.plate.text)


class WalkInVinScreen(StepScreen):
    """Optional VIN on a pad of the 33 characters a VIN may have; a check-digit mismatch
    is explained once and then the customer may go on."""

    warned = BooleanProperty(False)

    def edited(self) -> None:
        self.issues = []
        self.warned = False

    def reset(self) -> None:
        super().reset()
        self.warned = False
        self.ids.vin_pad.text = ""

    def submit(self) -> None:
        self.issues, self.warned = self.checkin.set_vin(self.ids.vin_pad.text, self.warned)


class WalkInCarScreen(StepScreen):
    """Make tiles, model (optional text) and year on a number pad."""

    def __init__(self, **kwargs: Any) -> None:
        self.make_tiles: dict[str, Widget] = {}
        super().__init__(**kwargs)

    def on_kv_post(self, base_widget: Widget) -> None:
        grid = self.ids.makes
        for make in COMMON_MAKES:
            tile = Factory.ToggleTile(text=make, value=make)
            tile.bind(on_release=self._choose_make)
            grid.add_widget(tile)
            self.make_tiles[make] = tile

    def _choose_make(self, chosen: Widget) -> None:
        for tile in self.make_tiles.values():
            tile.selected = tile is chosen and not tile.selected

    @property
    def make(self) -> str:
        return next((m for m, tile in self.make_tiles.items() if tile.selected), "")

    def reset(self) -> None:
        super().reset()
        self.ids.year_pad.text = ""
        self.ids.model.text = ""
        for tile in self.make_tiles.values():
            tile.selected = False

    def submit(self) -> None:
        self.issues = self.checkin.set_car(self.make, self.ids.model.text, self.ids.year_pad.text)
