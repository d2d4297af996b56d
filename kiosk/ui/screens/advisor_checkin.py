"""The screens of the advisor's check-in at the car (``kiosk/ui/advisor_checkin.py``):
today's arrivals, the car with its mileage and the concern, and the privacy promise
with the customer's signature."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk.services.advisor_checkin import Arrival
from kiosk.services.checkin_flow import CheckinFlow, CheckinPath
from kiosk.ui.fitting import FittedScreen
from shared.consent import CONSENT_VERSION, consent_text
from shared.shop_time import shop_time_text, zone_or_local


def _controller() -> Any:
    return App.get_running_app().advisor_checkin  # type: ignore[union-attr]


class ArrivalRow(ButtonBehavior, BoxLayout):
    """One expected customer: time, plate, car, name, VIP, the work booked."""

    appointment_id = StringProperty("")
    time = StringProperty("")
    plate = StringProperty("")
    car = StringProperty("")
    customer = StringProperty("")
    work = StringProperty("")
    vip = BooleanProperty(False)

    def on_release(self) -> None:
        if self.appointment_id:
            _controller().choose_arrival(self.appointment_id)


class ArrivalsScreen(FittedScreen):
    """Today's appointments not checked in yet, and the walk-in button."""

    page_min_dp = ((0, 620), (0, 800))  # dp: (wide, narrow); scrolls on a smaller window

    arrivals = ListProperty([])
    rows = ListProperty([])
    loaded = BooleanProperty(False)
    count = NumericProperty(0)

    def show(self, arrivals: list[Arrival], lang: str) -> None:
        self.arrivals = arrivals
        self.count = len(arrivals)
        app: Any = App.get_running_app()
        zone = zone_or_local(getattr(app, "shop_timezone", ""))
        self.rows = [
            {
                "appointment_id": a.appointment_id,
                "time": shop_time_text(a.expected_arrival, zone, "%H:%M"),
                "plate": a.plate or "—",
                "car": a.car,
                "customer": a.customer_name,
                "work": a.requested_work,
                "vip": a.vip,
            }
            for a in arrivals
        ]
        self.loaded = True


class AdvisorCarScreen(Screen):
    """Confirm the car and read the mileage; the concern in the customer's words. For a
    walk-in, the phone, name, plate and car as well."""

    issues = ListProperty([])
    walk_in = BooleanProperty(False)
    customer = StringProperty("")
    plate = StringProperty("")
    car = StringProperty("")
    last_mileage = StringProperty("")

    def prepare(self, arrival: Arrival | None, flow: CheckinFlow) -> None:
        self.clear()
        self.walk_in = flow.path is CheckinPath.walk_in
        if arrival is not None:
            self.customer = arrival.customer_name
            self.plate = arrival.plate
            self.car = arrival.car
            self.last_mileage = (
                f"{arrival.last_mileage_km:,}" if arrival.last_mileage_km is not None else ""
            )
        self.ids.concern.text = flow.concern_text

    def clear(self) -> None:
        self.issues = []
        self.customer = self.plate = self.car = self.last_mileage = ""
        for name in ("mileage", "concern", "phone", "name", "plate_input", "make", "model"):
            self.ids[name].text = ""

    def submit(self) -> None:
        walk_in = (
            {
                "phone": self.ids.phone.text,
                "name": self.ids.name.text,
                "plate": self.ids.plate_input.text,
                "make": self.ids.make.text,
                "model": self.ids.model.text,
            }
            if self.walk_in
            else None
        )
        self.issues = _controller().confirm_car(
            self.ids.mileage.text, self.ids.concern.text, walk_in
        )


class AdvisorSignScreen(Screen):
    """The privacy promise in the language the customer picks, and their signature."""

    issues = ListProperty([])
    version = StringProperty(CONSENT_VERSION)

    @staticmethod
    def text_for(lang: str) -> str:
        return consent_text(lang)

    def prepare(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.issues = []
        self.ids.pad.clear()

    def clear(self) -> None:
        self.ids.pad.clear()
        self.issues = []

    def agree_and_sign(self) -> None:
        app: Any = App.get_running_app()
        self.issues = _controller().sign(self.ids.pad.strokes, app.lang)
