"""``CheckinController``: moves the customer through the check-in screens.

The screens are thin: they hand what was typed to this controller, which asks the
Kivy-free :class:`kiosk.services.checkin_flow.CheckinFlow` to check and keep it, and
shows the next screen or the messages. Nothing here waits on the network: lookups use
the appointments already synced to the kiosk, and the check-in is saved locally; the
background sync is only told to hurry.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kivy.clock import Clock

from kiosk.services.checkin_flow import (
    AppointmentMatch,
    CheckinFlow,
    CheckinPath,
    CheckinReceipt,
    LookupKind,
    phone_complete,
    shop_region,
)
from kiosk.services.local_store import LocalStore
from kiosk.services.scanner import QrScanner
from kiosk.ui.background import BackgroundWork
from shared.domain import StrokePoint
from shared.i18n import Text
from shared.masking import mask_name, mask_phone
from shared.validation import FieldIssue, format_plate

if TYPE_CHECKING:
    from kivy.uix.screenmanager import Screen, ScreenManager

    from kiosk.ui.screens.step import StepScreen

log = logging.getLogger(__name__)

DONE_SECONDS = 20
NOT_SAVED = Text(
    "Your check-in could not be saved on this kiosk. Please go to the service desk; "
    "we are sorry for the trouble.",
    "kiosk",
)
# The walk-in's steps after the phone: plate, then the car and name (one screen, all
# optional; the VIN a detour from it), what to do, then details and signature on one
# screen. Mileage, concerns and contact preferences are changed from that last screen.
FIRST_STEP = {
    "scan_appointment_qr": "scan",
    "phone_or_plate": "lookup",
    "new_visit": "walkin_contact",
}


class CheckinController:
    """One customer's way from the welcome screen to the ticket."""

    def __init__(
        self,
        manager: ScreenManager,
        flow: CheckinFlow,
        store: LocalStore | None,
        scanner: QrScanner,
        screens: Mapping[str, Callable[[], Screen]] | None = None,
        home: str = "welcome",
        done_seconds: float = DONE_SECONDS,
        on_saved: Callable[[CheckinReceipt], None] | None = None,
        work: BackgroundWork | None = None,
    ) -> None:
        self.manager = manager
        self.flow = flow
        self.store = store
        self.scanner = scanner
        self.screens = dict(screens or {})
        self.home = home
        self.done_seconds = done_seconds
        self.on_saved = on_saved
        self.history: list[str] = []
        self.receipt: CheckinReceipt | None = None
        self.work = work  # the app's worker threads unless given
        self.saving = False  # a check-in is being saved on a worker thread

    # -- navigation --------------------------------------------------------------------

    @property
    def has_camera(self) -> bool:
        return self.scanner.has_camera

    @property
    def plate_region(self) -> str:
        return shop_region(self.flow.setup.plate_region)

    def screen(self, name: str) -> StepScreen:
        """The screen called ``name``, built now if it was not yet."""
        if not self.manager.has_screen(name) and name in self.screens:
            self.manager.add_widget(self.screens[name]())
        return self.manager.get_screen(name)  # type: ignore[return-value]

    def go(self, name: str) -> None:
        target = self.screen(name)
        if hasattr(target, "prepare"):
            target.prepare()
        self.history.append(self.manager.current)
        self.manager.current = name

    def go_or_return(self, name: str) -> None:
        """Go on to ``name``, or back to it when this step was a detour from it (the
        confirm screen's "Change" buttons): Back then goes where it went before."""
        if name not in self.history:
            self.go(name)
            return
        while self.history.pop() != name:
            pass
        target = self.screen(name)
        if hasattr(target, "prepare"):
            target.prepare()
        self.manager.current = name

    def back(self) -> None:
        previous = self.history.pop() if self.history else self.home
        self.manager.current = previous

    def begin(self, choice: str) -> None:
        """A choice on the welcome screen (or "new visit" from the lookup screen). A
        phone number typed on the welcome screen goes with a new visit: complete, the
        walk-in starts at the plate."""
        typed = self._home_phone()
        if self.manager.current == self.home:
            self.clear()
            self._set_home_phone(typed)  # Back from the next step finds it still there
        if choice == "new_visit":
            self.flow.start_walk_in()
            self.screen("walkin_contact").ids.phone_pad.text = typed
            region = self.flow.setup.phone_region
            if phone_complete(region, typed) and not self.flow.set_contact("", typed):
                self.go("walkin_plate")
                return
        if choice == "phone_or_plate":
            self.screen("lookup").kind = "plate"  # the phone is typed on the welcome screen
        self.go(FIRST_STEP[choice])

    def _home_phone(self) -> str:
        home = self.manager.get_screen(self.home) if self.manager.has_screen(self.home) else None
        pad = getattr(home, "ids", {}).get("phone_pad") if home is not None else None
        return pad.text if pad is not None else ""

    def _set_home_phone(self, typed: str) -> None:
        if self.manager.has_screen(self.home):
            pad = self.manager.get_screen(self.home).ids.get("phone_pad")
            if pad is not None:
                pad.text = typed

    def clear(self) -> None:
        """Wipe everything entered, on every screen."""
        self.flow.reset()
        self.receipt = None
        self.history.clear()
        for screen in self.manager.screens:
            reset = getattr(screen, "reset", None)
            if callable(reset):
                reset()

    def start_over(self) -> None:
        """Back to welcome with nothing of this customer left on any screen."""
        self.clear()
        self.manager.current = self.home

    @property
    def in_progress(self) -> bool:
        """A customer is checking in: on a step, or typing on the welcome screen."""
        current = self.manager.current
        if current == self.home:
            return bool(getattr(self.manager.get_screen(current), "has_input", False))
        return current != "pairing"

    # -- identify ----------------------------------------------------------------------

    def start_scanning(self) -> None:
        self.scanner.start(self._scanned)

    def stop_scanning(self) -> None:
        self.scanner.stop()

    def _scanned(self, code: str) -> None:
        # Backends call from their own thread; the UI is touched on Kivy's.
        Clock.schedule_once(lambda _dt: self._look_up_scanned(code))

    def _look_up_scanned(self, code: str) -> None:
        if self.manager.current != "scan":
            return
        self.screen("scan").issues = self.look_up(LookupKind.code, code)

    def look_up(self, kind: LookupKind, typed: str) -> list[FieldIssue]:
        """Find today's appointment; go on when found, else return the messages."""
        if self.store is None:
            return [FieldIssue("code", "no_store", NOT_SAVED)]
        result = self.flow.find_appointments(self.store, kind, typed)
        if not result.found:
            return list(result.issues)
        if len(result.matches) == 1:
            self.choose(result.matches[0])
        else:
            self.screen("matches").show(result.matches)  # type: ignore[attr-defined]
            self.go("matches")
        return []

    def choose(self, match: AppointmentMatch) -> None:
        """The customer's appointment: straight to the details and signature (the car
        and the work booked are known; mileage, concerns and contact are changed there)."""
        self.flow.choose_appointment(match)
        self.go("confirm")

    def vehicle_summary(self) -> tuple[str, str, str, str]:
        """(owner, plate, car, work booked) for the confirm screen. For a booking the
        kiosk knows no name or plate: it shows what the customer typed, masked."""
        flow = self.flow
        if flow.path is CheckinPath.appointment and flow.appointment is not None:
            match = flow.appointment
            return (
                match.phone_masked or match.code,
                match.plate_masked,
                match.vehicle,
                match.requested_work,
            )
        car = " ".join(str(part) for part in (flow.make, flow.model, flow.year or "") if part)
        owner = mask_name(flow.name) if flow.name else mask_phone(flow.phone)
        return owner, format_plate(flow.plate), car, ""

    # -- walk-in -----------------------------------------------------------------------

    def set_contact(self, name: str, phone: str) -> list[FieldIssue]:
        return self._step(self.flow.set_contact(name, phone), "walkin_plate")

    def set_plate(self, plate: str) -> list[FieldIssue]:
        return self._step(self.flow.set_plate(plate), "walkin_car")

    def set_vin(self, vin: str, warned: bool = False) -> tuple[list[FieldIssue], bool]:
        """The VIN, a detour from the car screen. Returns (messages, warned): a warning
        stops once; "Continue anyway" goes back to the car."""
        issues = self.flow.set_vin(vin)
        errors = [issue for issue in issues if issue.severity == "error"]
        if errors or (issues and not warned):
            return issues, bool(issues) and not errors
        self.go_or_return("walkin_car")
        return [], False

    def set_car(self, make: str, model: str, year: str, name: str = "") -> list[FieldIssue]:
        issues = [*self.flow.set_name(name), *self.flow.set_car(make, model, year)]
        if any(issue.severity == "error" for issue in issues):
            return issues
        self.go_or_return("concern")
        return []

    # -- both ways ---------------------------------------------------------------------

    def confirm_vehicle(self, mileage: str) -> list[FieldIssue]:
        return self._step(self.flow.set_mileage(mileage), "confirm")

    def set_concerns(self, codes: Sequence[str], text: str) -> list[FieldIssue]:
        return self._step(self.flow.set_concerns(codes, text), "confirm")

    def set_contact_preferences(self, channel: str, reminders: bool) -> None:
        self.flow.set_contact_preferences(channel, reminders)
        self.go_or_return("confirm")

    def accept_consent(self) -> None:
        """The customer touched "I agree — check in" under the privacy promise shown in
        the language on screen: that text's version and hash are what is stored."""
        self.flow.accept_consent(getattr(_app(), "lang", "en"))

    def finish(self, strokes: Sequence[Sequence[StrokePoint]]) -> list[FieldIssue]:
        """Check the signature, then save the whole check-in on a worker thread; the
        ticket shows once it is saved (:meth:`_saved`). While it saves, the confirm
        screen shows so (``saving``) and a second tap saves nothing more."""
        if self.saving:
            return []
        issues = self.flow.set_signature(strokes)
        if issues:
            return issues
        store = self.store
        if store is None:
            return [FieldIssue("signature", "no_store", NOT_SAVED)]
        # The worker saves a copy: nothing the screens do meanwhile can change it, and
        # what the customer entered stays here if the save fails.
        entered = copy.deepcopy(self.flow)
        self._set_saving(True)
        self._worker().run(
            lambda: entered.check_in(store),
            self._saved,
            self._not_saved,
            name="checkin-save",
        )
        return []

    def _saved(self, receipt: CheckinReceipt) -> None:
        self._set_saving(False)
        self.receipt = receipt
        if self.on_saved is not None:
            self.on_saved(receipt)
        if self.manager.current != "confirm":
            return  # started over meanwhile (idle timeout): saved, nothing to show
        done = self.screen("done")
        done.show(receipt, self.done_seconds)  # type: ignore[attr-defined]
        self.history.clear()
        self.manager.current = "done"

    def _not_saved(self, error: Exception) -> None:
        self._set_saving(False)
        log.error("Check-in not saved: %r", error)
        if self.manager.has_screen("confirm"):
            self.screen("confirm").issues = [FieldIssue("signature", "not_saved", NOT_SAVED)]

    def _set_saving(self, saving: bool) -> None:
        self.saving = saving
        if self.manager.has_screen("confirm"):
            self.screen("confirm").saving = saving  # type: ignore[attr-defined]

    def _worker(self) -> BackgroundWork:
        if self.work is None:
            self.work = getattr(_app(), "work", None) or BackgroundWork()
        return self.work

    def _step(self, issues: list[FieldIssue], next_screen: str) -> list[FieldIssue]:
        if any(issue.severity == "error" for issue in issues):
            return issues
        self.go_or_return(next_screen)
        return []


def _app() -> Any:
    from kivy.app import App

    return App.get_running_app()
