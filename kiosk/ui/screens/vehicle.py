"""The odometer reading (optional), a detour from the confirm screen; the car beside it."""

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

    def on_pre_enter(self, *_args: object) -> None:
        mileage = self.checkin.flow.mileage_km
        if mileage is not None and not self.ids.mileage_pad.text:
            self.ids.mileage_pad.text = str(mileage)

    def prepare(self) -> None:
        self.owner, self.plate, self.car, self.work = self.checkin.vehicle_summary()

    def submit(self) -> None:
        self.issues = self.checkin.confirm_vehicle(self.ids.mileage_pad.text)
