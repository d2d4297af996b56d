"""Kiosk welcome screen: greeting, language, the phone pad and the other ways in.

The phone pad is on this screen so a customer with an appointment starts typing at
once: a whole mobile number is looked up without a further touch (found: on to the
details and signature; not found: the message, and *New visit* takes the number along).
The other choices dispatch ``on_choice(name)``; the app opens that check-in flow
(``kiosk.ui.checkin.CheckinController.begin``).
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import ListProperty

from kiosk.services.checkin_flow import LookupKind, phone_complete, phone_prefix
from kiosk.ui.fitting import FittedScreen

SCAN_APPOINTMENT_QR = "scan_appointment_qr"
PHONE_OR_PLATE = "phone_or_plate"
NEW_VISIT = "new_visit"
CHOICES: tuple[str, ...] = (SCAN_APPOINTMENT_QR, PHONE_OR_PLATE, NEW_VISIT)


class WelcomeScreen(FittedScreen):
    """The lobby kiosk's first screen once paired."""

    page_min_dp = ((0, 700), (0, 1000))  # dp: (wide, narrow); scrolls on a smaller window

    __events__ = ("on_choice",)
    issues = ListProperty()

    def choose(self, choice: str) -> None:
        if choice not in CHOICES:
            raise ValueError(f"unknown choice {choice!r}")
        self.dispatch("on_choice", choice)

    def on_choice(self, choice: str) -> None:
        """Event: a customer touched one of :data:`CHOICES`."""

    @property
    def has_input(self) -> bool:
        """Something of a customer is on screen (the idle timeout wipes it)."""
        return bool(self.ids.phone_pad.typed or self.issues)

    @property
    def _checkin(self) -> Any:
        return getattr(App.get_running_app(), "checkin", None)

    def on_kv_post(self, base_widget: Any) -> None:
        self.on_pre_enter()

    def on_pre_enter(self, *_args: Any) -> None:
        checkin = self._checkin
        if checkin is not None:
            self.ids.phone_pad.prefix = phone_prefix(checkin.flow.setup.phone_region)

    def reset(self) -> None:
        self.issues = []
        self.ids.phone_pad.clear()

    def phone_typed(self, typed: str) -> None:
        """A key on the phone pad: old messages go; a whole number is looked up."""
        self.issues = []
        checkin = self._checkin
        if checkin is not None and phone_complete(checkin.flow.setup.phone_region, typed):
            Clock.schedule_once(lambda _dt: self._find_if_unchanged(typed), 0)

    def _find_if_unchanged(self, typed: str) -> None:
        on_screen = self.manager is not None and self.manager.current == self.name
        if on_screen and self.ids.phone_pad.text == typed:
            self.issues = self._checkin.look_up(LookupKind.phone, typed)
