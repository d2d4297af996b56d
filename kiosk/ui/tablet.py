"""The advisor tablet's home: who is signed in, and the queue of cars in the shop.

:class:`TabletController` is the tablet's part of ``CheckinApp``: the advisor sign-in
screen (the list of who may sign in, the PIN check online or offline) and the queue
(read from the local store on a worker thread, redrawn as waiting times grow and after
each sync round). The app keeps the state the ``.kv`` files bind to (``advisor_name``)
and the signed-in ``advisor``; this controller does the work.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from kivy.clock import Clock, ClockEvent

from kiosk.services.advisors import SignedIn, SignInRefused
from kiosk.services.server_client import ServerClient, ServerProblem
from kiosk.services.sync_progress import ProgressReading
from kiosk.services.tablet_queue import QueueEntry, open_visits
from kiosk.ui.screens.advisor_sign_in import AdvisorSignInScreen
from kiosk.ui.screens.queue import QueueScreen
from shared.i18n import Text

if TYPE_CHECKING:
    from kiosk.ui.app import CheckinApp

log = logging.getLogger(__name__)

# Waiting times on the queue are redrawn this often.
QUEUE_TICK_S = 30.0
SIGNED_IN_OFFLINE = Text(
    "Signed in without the shop server (offline). Everything is kept on this tablet.",
    "kiosk",
)
SIGN_IN_FAILED = Text("Signing in did not work. Try again.", "kiosk")


class TabletController:
    """Sign-in and queue of the tablet app (see the module docstring)."""

    def __init__(self, app: CheckinApp) -> None:
        self.app = app
        self.last_touch = time.monotonic()
        self._sign_in_screen: AdvisorSignInScreen | None = None
        self._queue_screen: QueueScreen | None = None
        self._queue_loading = False
        self._queue_again = False
        self._queue_event: ClockEvent | None = None

    # -- screens -----------------------------------------------------------------------

    @property
    def sign_in_screen(self) -> AdvisorSignInScreen:
        if self._sign_in_screen is None:
            screen = AdvisorSignInScreen()
            screen.bind(on_sign_in=self._on_sign_in, on_refresh=lambda *_: self.refresh_advisors())
            screen.advisors = _advisor_rows(self.app.advisor_sign_in.book.people())
            self.app.manager.add_widget(screen)
            self._sign_in_screen = screen
        return self._sign_in_screen

    def set_greeting_target(self, minutes: int) -> None:
        """The shop's greeting target (from the server's settings) for the queue."""
        if self._queue_screen is not None and self._queue_screen.greeting_target_minutes != minutes:
            self._queue_screen.greeting_target_minutes = minutes
            self.refresh_queue()

    @property
    def queue_screen(self) -> QueueScreen:
        if self._queue_screen is None:
            screen = QueueScreen()
            screen.greeting_target_minutes = self.app.settings.greeting_target_minutes
            screen.bind(on_search_request=lambda *_: self.refresh_queue())
            screen.show_sync(self.app.sync_progress.reading())
            self.app.manager.add_widget(screen)
            self._queue_screen = screen
        return self._queue_screen

    @property
    def home_screen(self) -> str:
        return self.sign_in_screen.name if self.app.advisor is None else self.queue_screen.name

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """A paired tablet: the advisor list, and the queue's clock."""
        if self.app.mode != "tablet":
            return
        self.refresh_advisors()
        if self._queue_event is None:
            self._queue_event = Clock.schedule_interval(
                lambda _dt: self._queue_tick(), QUEUE_TICK_S
            )

    def stop(self) -> None:
        if self._queue_event is not None:
            self._queue_event.cancel()
            self._queue_event = None

    def render(self, lang: str) -> None:
        """The language changed: redraw the queue in it."""
        if self._queue_screen is not None:
            self._queue_screen.render(lang)

    def show_sync(self, reading: ProgressReading, finished_round: bool) -> None:
        """The sync bar's new reading; a finished round may have brought new cars."""
        if self._queue_screen is None:
            return
        self._queue_screen.show_sync(reading)
        if finished_round and self.app.advisor is not None:
            self.refresh_queue()

    def show_home(self) -> None:
        """Back to the tablet's home (the queue once an advisor is signed in)."""
        self.app.manager.current = self.app.home_screen
        if self.app.advisor is not None:
            self.refresh_queue()

    # -- advisors ----------------------------------------------------------------------

    def advisor_client(self) -> ServerClient:
        settings = self.app.settings
        return self.app.client_factory(settings.server_url, token=settings.token)

    def refresh_advisors(self) -> None:
        """Ask the server who may sign in (the remembered list stands in when offline)."""
        app = self.app
        if app.work.closed or not app.settings.is_paired:
            return

        def done(people: list[Any]) -> None:
            screen = self.sign_in_screen
            screen.advisors = _advisor_rows(people)
            screen.loaded = True

        def failed(error: Exception) -> None:
            if isinstance(error, ServerProblem) and error.needs_pairing:
                app.link.unpaired_by_shop()
                return
            log.warning("Advisor list not refreshed: %r", error)
            self.sign_in_screen.loaded = True

        app.work.run(app.advisor_sign_in.refresh, done, failed, name="advisors")

    def _on_sign_in(self, screen: AdvisorSignInScreen, username: str, pin: str) -> None:
        screen.busy = True
        screen.message = None
        self.app.work.run(
            lambda: self.app.advisor_sign_in.sign_in(username, pin),
            self._signed_in,
            self._sign_in_failed,
            name="advisor-sign-in",
        )

    def _signed_in(self, result: SignedIn) -> None:
        self.app.advisor = result.advisor
        self.app.advisor_name = result.advisor.display_name
        self.last_touch = time.monotonic()
        self.sign_in_screen.reset()
        if result.offline:
            self.app.toast.show(SIGNED_IN_OFFLINE)
        self.show_home()

    def _sign_in_failed(self, error: Exception) -> None:
        if isinstance(error, SignInRefused):
            self.sign_in_screen.show_refusal(error.message)
        elif isinstance(error, ServerProblem) and error.needs_pairing:
            self.sign_in_screen.reset()
            self.app.link.unpaired_by_shop()
        else:
            log.error("Advisor sign-in failed: %r", error)
            self.sign_in_screen.show_refusal(SIGN_IN_FAILED)

    def sign_out(self, message: Text | None = None) -> None:
        """The advisor leaves the tablet: back to the sign-in screen."""
        app = self.app
        if app.advisor is not None:
            log.info("Advisor %s signed out", app.advisor.username)
        app.advisor = None
        app.advisor_name = ""
        if self._queue_screen is not None:
            self._queue_screen.clear_search()
            self._queue_screen.show([], app.lang)
            self._queue_screen.loaded = False
        self.sign_in_screen.reset()
        app.manager.current = self.sign_in_screen.name
        if message is not None:
            app.toast.show(message)
        self.refresh_advisors()

    # -- the queue ---------------------------------------------------------------------

    def refresh_queue(self) -> None:
        """Read the queue from the local store in the background and show it."""
        app = self.app
        if app.advisor is None or app.work.closed:
            return
        if self._queue_loading:
            self._queue_again = True  # one more read when this one is done
            return
        store = app.local_store
        screen = self.queue_screen
        if store is None:
            screen.show([], app.lang)
            return
        search = screen.search
        self._queue_loading = True
        app.work.run(
            lambda: open_visits(store, search),
            self._queue_read,
            self._queue_failed,
            name="queue",
        )

    def _queue_read(self, entries: list[QueueEntry]) -> None:
        self._queue_loading = False
        if self.app.advisor is not None:
            self.queue_screen.show(entries, self.app.lang)
        if self._queue_again:
            self._queue_again = False
            self.refresh_queue()

    def _queue_failed(self, error: Exception) -> None:
        self._queue_loading = False
        self._queue_again = False
        log.error("The queue could not be read: %r", error)

    def _queue_tick(self) -> None:
        if self._queue_screen is not None and self.app.advisor is not None:
            self._queue_screen.render(self.app.lang)
            self._queue_screen.show_sync(self.app.sync_progress.reading())

    def open_visit(self, visit_id: str) -> None:
        """The advisor tapped a car in the queue: its walk-around (which fetches its
        car's history in the background)."""
        self.app.walkaround.open(visit_id)


def _advisor_rows(people: list[Any]) -> list[dict[str, Any]]:
    return [{"username": p.username, "display_name": p.display_name} for p in people]
