"""Find today's appointment by the phone number or the plate it was booked with."""

from __future__ import annotations

from kivy.properties import OptionProperty

from kiosk.services.checkin_flow import LookupKind
from kiosk.ui.screens.step import StepScreen


class LookupScreen(StepScreen):
    """Phone on a number pad, or plate on the plate picker."""

    kind = OptionProperty("phone", options=("phone", "plate"))

    def reset(self) -> None:
        super().reset()
        self.kind = "phone"
        self.ids.phone_pad.text = ""
        self.ids.plate.set_text("")

    def prepare(self) -> None:
        self.ids.plate.region = self.checkin.plate_region

    def typed(self) -> str:
        return self.ids.phone_pad.text if self.kind == "phone" else self.ids.plate.text

    def find(self) -> None:
        self.issues = self.checkin.look_up(LookupKind(self.kind), self.typed())
