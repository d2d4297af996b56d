"""Confirm the car and the work booked, and type the odometer reading (optional)."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.ui.screens.step import StepScreen


class VehicleScreen(StepScreen):
    """What we know of the car, and the mileage on a number pad."""

    owner = StringProperty("")
    plate = StringProperty("")
    car = StringProperty("")
    work = StringProperty("")

    def reset(self) -> None:
        super().reset()
        self.ids.mileage_pad.text = ""

    def prepare(self) -> None:
        self.owner, self.plate, self.car, self.work = self.checkin.vehicle_summary()

    def submit(self) -> None:
        self.issues = self.checkin.confirm_vehicle(self.ids.mileage_pad.text)
