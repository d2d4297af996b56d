"""What every check-in step screen shares: its field messages and the controller."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.app import App
from kivy.properties import ListProperty
from kivy.uix.screenmanager import Screen

if TYPE_CHECKING:
    from kiosk.ui.checkin import CheckinController


class StepScreen(Screen):
    """A step of the check-in; ``issues`` are the field messages it shows."""

    issues = ListProperty()

    @property
    def checkin(self) -> CheckinController:
        app: Any = App.get_running_app()
        return app.checkin

    def reset(self) -> None:
        """Forget what was typed here (the next customer must not see it)."""
        self.issues = []

    def prepare(self) -> None:
        """Called before the screen is shown: fill it from the check-in so far."""
