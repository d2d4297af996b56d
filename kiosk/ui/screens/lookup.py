"""Find today's appointment by the phone number or the plate it was booked with."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import OptionProperty

from kiosk.services.checkin_flow import LookupKind
from kiosk.ui.screens.step import StepScreen
from shared.validation import check_phone

# A Chinese mobile number is complete at 11 digits: the kiosk looks it up at once,
# without a touch on "Find my appointment".
CN_MOBILE_DIGITS = 11


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

    def phone_typed(self, digits: str) -> None:
        """A key on the phone pad: clear old messages; a complete number is looked up."""
        self.issues = []
        complete = (
            self.kind == "phone"
            and self.checkin.flow.setup.phone_region == "CN"
            and len(digits) == CN_MOBILE_DIGITS
            and check_phone(digits, "CN").ok
        )
        if complete:
            Clock.schedule_once(lambda _dt: self._find_if_unchanged(digits), 0)

    def _find_if_unchanged(self, digits: str) -> None:
        on_screen = self.manager is not None and self.manager.current == self.name
        if on_screen and self.kind == "phone" and self.ids.phone_pad.text == digits:
            self.find()

    def find(self) -> None:
        self.issues = self.checkin.look_up(LookupKind(self.kind), self.typed())
