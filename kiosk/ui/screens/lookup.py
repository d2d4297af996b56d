"""Find today's appointment by the phone number or the plate it was booked with."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import OptionProperty

from kiosk.services.checkin_flow import LookupKind, phone_complete, phone_prefix
from kiosk.ui.screens.step import StepScreen


class LookupScreen(StepScreen):
    """The plate on the plate picker (the welcome screen has the phone pad), or the phone."""

    kind = OptionProperty("plate", options=("phone", "plate"))

    def reset(self) -> None:
        super().reset()
        self.kind = "plate"
        self.ids.phone_pad.clear()
        self.ids.plate.set_text("")

    def prepare(self) -> None:
        self.ids.plate.region = self.checkin.plate_region
        self.ids.phone_pad.prefix = phone_prefix(self.checkin.flow.setup.phone_region)

    def typed(self) -> str:
        return self.ids.phone_pad.text if self.kind == "phone" else self.ids.plate.text

    def phone_typed(self, digits: str) -> None:
        """A key on the phone pad: clear old messages; a complete number is looked up."""
        self.issues = []
        if self.kind == "phone" and phone_complete(self.checkin.flow.setup.phone_region, digits):
            Clock.schedule_once(lambda _dt: self._find_if_unchanged(digits), 0)

    def _find_if_unchanged(self, digits: str) -> None:
        on_screen = self.manager is not None and self.manager.current == self.name
        if on_screen and self.kind == "phone" and self.ids.phone_pad.text == digits:
            self.find()

    def find(self) -> None:
        self.issues = self.checkin.look_up(LookupKind(self.kind), self.typed())
