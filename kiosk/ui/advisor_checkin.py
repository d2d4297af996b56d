"""The advisor's check-in at the car: today's arrivals, the car and concern, then the
customer reads the privacy promise and signs — and the walk-around of the new visit
opens at once.

A thin layer over :mod:`kiosk.services.advisor_checkin` and the lobby kiosk's own
:class:`~kiosk.services.checkin_flow.CheckinFlow` (one check-in, two ways in): every
field is checked by the flow, the save is the flow's single local transaction, and the
sync sends it when the shop's server is reachable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from kiosk.services.advisor_checkin import (
    Arrival,
    advisor_flow,
    begin_arrival,
    begin_walk_in,
    todays_arrivals,
)
from kiosk.services.checkin_flow import CheckinFlow, CheckinPath
from kiosk.services.checkin_history import CheckinReceipt
from kiosk.ui.screens.advisor_checkin import (
    AdvisorCarScreen,
    AdvisorSignScreen,
    ArrivalsScreen,
)
from shared.i18n import Text
from shared.shop_time import zone_or_local
from shared.validation import FieldIssue, check_mileage

if TYPE_CHECKING:
    from kiosk.ui.app import CheckinApp

log = logging.getLogger(__name__)

NOT_SAVED = Text("The check-in could not be saved on this tablet. Try again.", "kiosk")
READ_ODOMETER = Text("Read the odometer and enter the mileage.", "kiosk")
CHECKED_IN = Text("{ticket} checked in. The walk-around follows.", "kiosk")


class AdvisorCheckinController:
    """Arrivals → car and concern → privacy promise and signature → walk-around."""

    def __init__(self, app: CheckinApp, on_saved: Callable[[CheckinReceipt], None]) -> None:
        self.app = app
        self.on_saved = on_saved
        self.flow: CheckinFlow = advisor_flow(app.flow.setup, None)
        self.arrival: Arrival | None = None
        self._screens: dict[str, object] = {}
        self._saving = False

    # -- screens -----------------------------------------------------------------------

    def _screen(self, name: str, kind: type) -> object:
        if name not in self._screens:
            screen = kind()
            self.app.manager.add_widget(screen)
            self._screens[name] = screen
        return self._screens[name]

    @property
    def arrivals_screen(self) -> ArrivalsScreen:
        return self._screen("advisor_arrivals", ArrivalsScreen)  # type: ignore[return-value]

    @property
    def car_screen(self) -> AdvisorCarScreen:
        return self._screen("advisor_car", AdvisorCarScreen)  # type: ignore[return-value]

    @property
    def sign_screen(self) -> AdvisorSignScreen:
        return self._screen("advisor_sign", AdvisorSignScreen)  # type: ignore[return-value]

    # -- steps -------------------------------------------------------------------------

    def open_arrivals(self) -> None:
        """The queue's "Check in a customer": today's arrivals, read in the background."""
        app = self.app
        screen = self.arrivals_screen
        screen.loaded = False
        app.manager.current = screen.name
        store = app.local_store
        if store is None:
            screen.show([], app.lang)
            return
        zone = zone_or_local(app.shop_timezone)
        app.work.run(
            lambda: todays_arrivals(store, zone),
            lambda arrivals: screen.show(arrivals, app.lang),
            self._read_failed,
            name="arrivals",
        )

    def _read_failed(self, error: Exception) -> None:
        log.error("Today's arrivals could not be read: %r", error)
        self.arrivals_screen.show([], self.app.lang)

    def _fresh_flow(self) -> CheckinFlow:
        advisor = self.app.advisor
        self.flow = advisor_flow(self.app.flow.setup, advisor.user_id if advisor else None)
        return self.flow

    def choose_arrival(self, appointment_id: str) -> None:
        arrival = next(
            (a for a in self.arrivals_screen.arrivals if a.appointment_id == appointment_id), None
        )
        if arrival is None:
            return
        self.arrival = arrival
        begin_arrival(self._fresh_flow(), arrival)
        self.car_screen.prepare(arrival, self.flow)
        self.app.manager.current = self.car_screen.name

    def start_walk_in(self) -> None:
        self.arrival = None
        begin_walk_in(self._fresh_flow())
        self.car_screen.prepare(None, self.flow)
        self.app.manager.current = self.car_screen.name

    def confirm_car(
        self,
        mileage: str,
        concern: str,
        walk_in: dict[str, str] | None = None,
    ) -> list[FieldIssue]:
        """The car, its mileage (read now, required) and the concern; for a walk-in also
        the phone, name, plate and car. Every field is checked by the kiosk's flow."""
        flow = self.flow
        issues: list[FieldIssue] = []
        if flow.path is CheckinPath.walk_in and walk_in is not None:
            issues += flow.set_contact(walk_in.get("name", ""), walk_in.get("phone", ""))
            issues += flow.set_plate(walk_in.get("plate", ""))
            issues += flow.set_car(walk_in.get("make", ""), walk_in.get("model", ""), "")
        if not mileage.strip():
            issues.append(FieldIssue("mileage_km", "mileage_missing", READ_ODOMETER))
        else:
            previous = self.arrival.last_mileage_km if self.arrival else None
            issues += list(check_mileage(mileage, previous, field="mileage_km").issues)
            issues += [i for i in flow.set_mileage(mileage) if i.severity == "error"]
        issues += flow.set_concerns(flow.concern_codes, concern)
        if any(issue.severity == "error" for issue in issues):
            return issues
        self.sign_screen.prepare()
        self.app.manager.current = self.sign_screen.name
        return [i for i in issues if i.severity != "error"]

    def sign(self, strokes: list, lang: str) -> list[FieldIssue]:
        """The customer agreed to the promise shown in ``lang`` and signed: save the
        check-in (one local transaction), then open the walk-around of the visit."""
        flow = self.flow
        issues = flow.set_signature(strokes)
        if issues:
            return issues
        flow.accept_consent(lang)
        store = self.app.local_store
        if store is None or self._saving:
            return [FieldIssue("signature", "no_store", NOT_SAVED)]
        self._saving = True
        try:
            receipt = flow.check_in(store)
        except (OSError, ValueError) as error:
            log.exception("Advisor check-in not saved: %r", error)
            return [FieldIssue("signature", "not_saved", NOT_SAVED)]
        finally:
            self._saving = False
        flow.reset()
        self.arrival = None
        self.sign_screen.reset()
        self.app.toast.show(replace(CHECKED_IN, params={"ticket": receipt.ticket_number}))
        self.on_saved(receipt)
        self.app.open_visit(receipt.visit_id)
        return []

    def cancel(self) -> None:
        """Leave without saving: nothing of this customer stays on the screens."""
        self.flow.reset()
        self.arrival = None
        self.car_screen.clear()
        self.sign_screen.reset()
        self.app.show_queue()
