"""How the shop may contact the customer, and a separate, explicit yes to reminders."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk.ui.screens.step import StepScreen


class ContactScreen(StepScreen):
    """Channel tiles (one of three) and a reminders tile that is off unless touched."""

    channel = StringProperty("sms")
    reminders = BooleanProperty(False)

    def reset(self) -> None:
        super().reset()
        self.channel, self.reminders = "sms", False

    def prepare(self) -> None:
        flow = self.checkin.flow
        self.channel, self.reminders = flow.contact_channel.value, flow.reminders_opt_in

    def submit(self) -> None:
        self.checkin.set_contact_preferences(self.channel, self.reminders)
