"""Kiosk welcome screen: greeting, language, and the three ways to check in.

Each choice dispatches ``on_choice(name)``; the app opens that check-in flow
(``kiosk.ui.checkin.CheckinController.begin``).
"""

from __future__ import annotations

from kivy.uix.screenmanager import Screen

SCAN_APPOINTMENT_QR = "scan_appointment_qr"
PHONE_OR_PLATE = "phone_or_plate"
NEW_VISIT = "new_visit"
CHOICES: tuple[str, ...] = (SCAN_APPOINTMENT_QR, PHONE_OR_PLATE, NEW_VISIT)


class WelcomeScreen(Screen):
    """The lobby kiosk's first screen once paired."""

    __events__ = ("on_choice",)

    def choose(self, choice: str) -> None:
        if choice not in CHOICES:
            raise ValueError(f"unknown choice {choice!r}")
        self.dispatch("on_choice", choice)

    def on_choice(self, choice: str) -> None:
        """Event: a customer touched one of :data:`CHOICES`."""
