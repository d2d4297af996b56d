"""The walk-in's screens: mobile number (unless typed on the welcome screen), plate,
then the car and the customer's name on one screen, all optional; the VIN is a detour
from that screen (its Continue comes back)."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.metrics import sp
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.services.car_makes import CAR_MAKES, find_make
from kiosk.services.checkin_flow import phone_complete, phone_prefix
from kiosk.ui import palette
from kiosk.ui.screens.step import StepScreen

# The tile for a make or model that is not in the list: typed on the keyboard.
OTHER = "other"


class WalkInContactScreen(StepScreen):
    """Mobile number on a number pad (required); a whole Chinese mobile number goes on
    without a touch on Continue (Back comes here with it kept)."""

    def reset(self) -> None:
        super().reset()
        self.ids.phone_pad.clear()

    def prepare(self) -> None:
        self.ids.phone_pad.prefix = phone_prefix(self.checkin.flow.setup.phone_region)

    def phone_typed(self, typed: str) -> None:
        self.issues = []
        if phone_complete(self.checkin.flow.setup.phone_region, typed):
            Clock.schedule_once(lambda _dt: self._submit_if_unchanged(typed), 0)

    def _submit_if_unchanged(self, typed: str) -> None:
        on_screen = self.manager is not None and self.manager.current == self.name
        if on_screen and self.ids.phone_pad.text == typed:
            self.submit()

    def submit(self) -> None:
        self.issues = self.checkin.set_contact("", self.ids.phone_pad.text)


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
    """Make tiles in the customer's language (or *Other*, typed), the model from the
    make's list (or typed), and the year on a number pad. All optional."""

    make_choice = StringProperty("")  # a make's stored name, OTHER, or "" (none chosen)
    typing_model = BooleanProperty(False)
    vin = StringProperty("")  # as kept by the VIN detour

    def __init__(self, **kwargs: Any) -> None:
        self.make_tiles: dict[str, Widget] = {}
        self.model_tiles: dict[str, Widget] = {}
        super().__init__(**kwargs)

    def on_kv_post(self, base_widget: Widget) -> None:
        grid = self.ids.makes
        for make in (*CAR_MAKES, None):
            value = make.name if make is not None else OTHER
            # A size smaller than other tiles: "Mercedes-Benz" must fit on one line.
            tile = Factory.ToggleTile(value=value, font_size=sp(palette.FONT_SMALL))
            tile.bind(on_release=self._choose_make)
            grid.add_widget(tile)
            self.make_tiles[value] = tile
        app: Any = App.get_running_app()
        app.bind(lang=lambda *_: self._label_tiles())
        self._label_tiles()

    def _label_tiles(self) -> None:
        app: Any = App.get_running_app()
        lang = app.lang
        for value, tile in self.make_tiles.items():
            make = find_make(value)
            tile.text = make.label(lang) if make is not None else app.tr("Other", lang)
        make = find_make(self.make_choice)
        for value, tile in self.model_tiles.items():
            model = make.model(value) if make is not None else None
            tile.text = model.label(lang) if model is not None else app.tr("Other model", lang)

    def _choose_make(self, chosen: Widget) -> None:
        self.issues = []
        self.make_choice = "" if chosen.selected else chosen.value
        for tile in self.make_tiles.values():
            tile.selected = tile.value == self.make_choice
        self.typing_model = self.make_choice == OTHER
        self.ids.model.text = ""
        self._show_models()

    def _show_models(self) -> None:
        grid = self.ids.models
        grid.clear_widgets()
        self.model_tiles = {}
        make = find_make(self.make_choice)
        if make is None:
            return
        for value in (*(model.name for model in make.models), OTHER):
            tile = Factory.ToggleTile(value=value)
            tile.bind(on_release=self._choose_model)
            grid.add_widget(tile)
            self.model_tiles[value] = tile
        self._label_tiles()

    def _choose_model(self, chosen: Widget) -> None:
        self.issues = []
        selected = not chosen.selected
        for tile in self.model_tiles.values():
            tile.selected = tile is chosen and selected
        self.typing_model = selected and chosen.value == OTHER
        if not self.typing_model:
            self.ids.model.text = ""

    @property
    def make(self) -> str:
        if self.make_choice == OTHER:
            return self.ids.other_make.text
        return self.make_choice

    @property
    def model(self) -> str:
        if self.typing_model:
            return self.ids.model.text
        return next((v for v, tile in self.model_tiles.items() if tile.selected and v != OTHER), "")

    def prepare(self) -> None:
        self.vin = self.checkin.flow.vin

    def reset(self) -> None:
        super().reset()
        self.vin = ""
        self.ids.name.text = ""
        self.ids.year_pad.text = ""
        self.ids.model.text = ""
        self.ids.other_make.text = ""
        self.make_choice = ""
        self.typing_model = False
        for tile in self.make_tiles.values():
            tile.selected = False
        self._show_models()

    def submit(self) -> None:
        self.issues = self.checkin.set_car(
            self.make, self.model, self.ids.year_pad.text, self.ids.name.text
        )
