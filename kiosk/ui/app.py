"""``CheckinApp``: the screens, the current language and the server status, wired up.

The app holds state in Kivy properties (``lang``, ``mode``, ``shop_name``,
``connection``) that the ``.kv`` files bind to; the work is done by ``kiosk.services``
in background threads.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock, ClockEvent
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager
from kivy.uix.widget import Widget

from kiosk.services.advisors import (
    Advisor,
    AdvisorBook,
    AdvisorSignIn,
    SignedIn,
    SignInRefused,
)
from kiosk.services.checkin_flow import CheckinFlow, CheckinReceipt, KioskSetup
from kiosk.services.connection import (
    CHECK_INTERVAL_S,
    ConnectionChecker,
    ConnectionReport,
    ConnectionState,
)
from kiosk.services.device_store import DeviceSettings, DeviceStore
from kiosk.services.idle import DEFAULT_COUNTDOWN_S, IdleState, IdleWatch
from kiosk.services.local_store import LocalStore
from kiosk.services.pairing import ClientFactory, PairingService
from kiosk.services.pairing_code import normalize_code
from kiosk.services.scanner import QrScanner, scanner
from kiosk.services.server_client import ServerClient, ServerProblem
from kiosk.services.staff_pin import verify_pin
from kiosk.services.sync import BackgroundSync, SyncEngine, SyncState, SyncTransport
from kiosk.services.sync_progress import SyncProgress
from kiosk.services.tablet_queue import QueueEntry, open_visits
from kiosk.ui import palette
from kiosk.ui.background import BackgroundWork
from kiosk.ui.checkin import CheckinController
from kiosk.ui.fonts import register_fonts
from kiosk.ui.keypads import Keypad, PlatePicker  # noqa: F401  (kv classes)
from kiosk.ui.overlays import IdleOverlay, StaffCorner, StaffPinOverlay
from kiosk.ui.screens.advisor_sign_in import AdvisorSignInScreen
from kiosk.ui.screens.code_entry import CodeScreen
from kiosk.ui.screens.concern import ConcernScreen
from kiosk.ui.screens.consent import ConsentScreen
from kiosk.ui.screens.contact import ContactScreen
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.lookup import LookupScreen
from kiosk.ui.screens.matches import MatchesScreen
from kiosk.ui.screens.pairing import PairingScreen
from kiosk.ui.screens.queue import QueueRow, QueueScreen, SyncBar  # noqa: F401  (kv classes)
from kiosk.ui.screens.scan import ScanScreen
from kiosk.ui.screens.signature import SignatureScreen
from kiosk.ui.screens.vehicle import VehicleScreen
from kiosk.ui.screens.walk_in import (
    WalkInCarScreen,
    WalkInContactScreen,
    WalkInPlateScreen,
    WalkInVinScreen,
)
from kiosk.ui.screens.welcome import WelcomeScreen
from kiosk.ui.signature_pad import SignaturePad  # noqa: F401  (kv class)
from kiosk.ui.walkaround_flow import WALKAROUND_KV_FILES, WalkaroundController
from kiosk.ui.widgets import Toast
from shared.i18n import LANGUAGES, N_, Text, normalize_language, translate
from shared.shop_time import shop_time_text, zone_or_local
from shared.validation import FieldIssue

log = logging.getLogger(__name__)

UI_DIR = Path(__file__).parent
KV_FILES: tuple[Path, ...] = (
    UI_DIR / "widgets.kv",
    UI_DIR / "keypads.kv",
    UI_DIR / "signature_pad.kv",
    UI_DIR / "overlays.kv",
    *(
        UI_DIR / "screens" / f"{name}.kv"
        for name in (
            "pairing",
            "welcome",
            "advisor_sign_in",
            "queue",
            "scan",
            "code_entry",
            "lookup",
            "matches",
            "walk_in",
            "vehicle",
            "concern",
            "contact",
            "consent",
            "signature",
            "done",
        )
    ),
    *WALKAROUND_KV_FILES,
)
# Every check-in step, by screen name (the welcome screen is the kiosk's home). They are
# built when first needed, or in idle frames after start, so the welcome screen is up
# and answering touches sooner.
CHECKIN_SCREENS: dict[str, type[Screen]] = {
    "scan": ScanScreen,
    "code": CodeScreen,
    "lookup": LookupScreen,
    "matches": MatchesScreen,
    "walkin_contact": WalkInContactScreen,
    "walkin_plate": WalkInPlateScreen,
    "walkin_vin": WalkInVinScreen,
    "walkin_car": WalkInCarScreen,
    "vehicle": VehicleScreen,
    "concern": ConcernScreen,
    "contact": ContactScreen,
    "consent": ConsentScreen,
    "signature": SignatureScreen,
    "done": DoneScreen,
}
PREBUILD_AFTER_S = 2.0
I18N_DOMAIN = "kiosk"
WINDOW_TITLE = N_("Service check-in")
# On exit, how long to wait for a request still running (they time out by themselves).
SHUTDOWN_WAIT_S = 5.0

WRONG_PIN = Text("That PIN is not right.", "kiosk")
NO_PIN_SET = Text(
    "No staff PIN is set. Start the app once with --staff-pin 1234 (your own digits).",
    "kiosk",
)
IDLE_CHECK_S = 0.25
# The tablet signs its advisor out after this long untouched on the queue (a shared
# device left on a counter); never in the middle of a walk-around.
ADVISOR_IDLE_S = 10 * 60
# Waiting times on the queue are redrawn this often.
QUEUE_TICK_S = 30.0
SIGNED_IN_OFFLINE = Text(
    "Signed in without the shop server (offline). Everything is kept on this tablet.",
    "kiosk",
)
SIGN_IN_FAILED = Text("Signing in did not work. Try again.", "kiosk")
SIGNED_OUT_IDLE = Text("Signed out after 10 minutes without use.", "kiosk")
DEVICE_UNPAIRED = Text(
    "This device was unpaired by the shop. Ask the service manager for a new pairing code.",
    "kiosk",
)

_kv_loaded = False


def load_kv_files() -> None:
    """Load the screens' rules, once per process however many apps are built.

    Loading a ``.kv`` file twice would apply its rules twice (every widget doubled).
    """
    global _kv_loaded
    if not _kv_loaded:
        for path in KV_FILES:
            Builder.load_file(str(path))
        _kv_loaded = True


class KioskRoot(FloatLayout):
    """The window's root: every touch anywhere counts as the customer still being there."""

    def on_touch_down(self, touch: Any) -> bool:
        app = App.get_running_app()
        if isinstance(app, CheckinApp):
            app.note_activity()
        return super().on_touch_down(touch)


class CheckinApp(App):
    """The kiosk/tablet app: pairing until a token is stored, then the welcome screen.

    On a paired kiosk it opens the device's :class:`LocalStore`, runs
    :class:`BackgroundSync` for it, and wires the welcome choices to the check-in
    screens (:class:`CheckinController`). ``scanner``, ``start_sync``, ``idle_timeout``,
    ``idle_countdown`` and ``done_seconds`` are there for tests and demos.
    """

    lang = StringProperty("en")
    mode = StringProperty("kiosk")
    shop_name = StringProperty("")
    shop_timezone = StringProperty("")  # the shop's clock, for every time shown here
    connection = StringProperty(ConnectionState.CHECKING.value)
    advisor_name = StringProperty("")

    def __init__(
        self,
        store: DeviceStore,
        settings: DeviceSettings | None = None,
        client_factory: ClientFactory = ServerClient,
        pair_code: str | None = None,
        status_interval: float = CHECK_INTERVAL_S,
        *,
        qr_scanner: QrScanner | None = None,
        start_sync: bool = True,
        sync_interval: float = 15.0,
        idle_timeout: float | None = None,
        idle_countdown: float = DEFAULT_COUNTDOWN_S,
        done_seconds: float = 20.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.settings = settings if settings is not None else store.load()
        self.client_factory = client_factory
        self.pair_code = pair_code
        self.status_interval = status_interval
        self.work = BackgroundWork()
        self.checker = ConnectionChecker(store, client_factory)
        self._status_event: ClockEvent | None = None
        self._checking = False
        self.qr_scanner = qr_scanner or scanner()
        self.start_sync = start_sync
        self.sync_interval = sync_interval
        self.done_seconds = done_seconds
        self.local_store: LocalStore | None = None
        self.advisor: Advisor | None = None
        self.advisor_sign_in = AdvisorSignIn(
            AdvisorBook(store.data_dir), self._advisor_client, time_text=self._shop_clock
        )
        self.sync_progress = SyncProgress()
        self._sign_in_screen: AdvisorSignInScreen | None = None
        self._queue_screen: QueueScreen | None = None
        self._queue_loading = False
        self._queue_again = False
        self._queue_event: ClockEvent | None = None
        self._last_touch = time.monotonic()
        self.sync: BackgroundSync | None = None
        self.sync_state: SyncState | None = None
        self.flow = CheckinFlow()
        self.idle = IdleWatch(
            idle_timeout if idle_timeout is not None else self.settings.idle_timeout_s,
            idle_countdown,
        )
        self._idle_event: ClockEvent | None = None
        self._may_close = False
        self._pairing_screen: PairingScreen | None = None
        self.lang = normalize_language(self.settings.language)
        self.title = self.tr(WINDOW_TITLE)
        self._show_settings(self.settings)

    # -- i18n --------------------------------------------------------------------------

    def tr(self, message: str, lang: str | None = None, **params: Any) -> str:
        """``message`` in ``lang``; kv passes ``app.lang`` so the text follows the toggle."""
        return translate(message, lang or self.lang, I18N_DOMAIN, **params)

    def on_lang(self, _app: App, lang: str) -> None:
        self.title = self.tr(WINDOW_TITLE, lang)
        if self._queue_screen is not None:
            self._queue_screen.render(lang)

    def set_language(self, lang: str) -> None:
        lang = normalize_language(lang)
        if lang in LANGUAGES:
            self.lang = lang

    @staticmethod
    def render_issues(issues: list[FieldIssue], lang: str) -> str:
        """Field messages, one a line, in ``lang``."""
        return "\n".join(issue.message.render(lang) for issue in issues)

    @staticmethod
    def has_error(issues: list[FieldIssue]) -> bool:
        return any(issue.severity == "error" for issue in issues)

    # -- building ----------------------------------------------------------------------

    def load_kv(self, filename: str | None = None) -> bool:
        load_kv_files()
        return True

    def build(self) -> Widget:
        register_fonts()
        Window.clearcolor = palette.BACKGROUND
        self.manager = ScreenManager(transition=NoTransition())
        self.checkin = CheckinController(
            self.manager,
            self.flow,
            None,
            self.qr_scanner,
            screens=CHECKIN_SCREENS,
            done_seconds=self.done_seconds,
            on_saved=self._checked_in,
        )
        self.walkaround = WalkaroundController(
            self.manager,
            local_store=lambda: self.local_store,
            advisor=lambda: self.advisor,
            on_closed=self.show_queue,
            on_saved=self.request_sync,
        )
        self._open_local_store()
        self.welcome_screen = WelcomeScreen()
        self.welcome_screen.bind(on_choice=self.on_choice)
        self.manager.add_widget(self.welcome_screen)
        self.toast = Toast()
        self.idle_overlay = IdleOverlay()
        self.staff_overlay = StaffPinOverlay()
        self.staff_corner = StaffCorner(size_hint=(None, None), size=(dp(96), dp(96)))
        self.staff_corner.pos_hint = {"x": 0, "top": 1}
        self.staff_corner.bind(on_long_press=lambda *_: self.open_staff_pin())
        root = KioskRoot()
        for layer in (
            self.manager,
            self.toast,
            self.idle_overlay,
            self.staff_corner,
            self.staff_overlay,
        ):
            root.add_widget(layer)
        if not self.settings.is_paired:
            self.manager.current = self.pairing_screen.name
        else:
            self.manager.current = self.home_screen
        Window.bind(on_request_close=self._on_request_close)
        return root

    @property
    def pairing_screen(self) -> PairingScreen:
        """The pairing screen, built when first needed (a paired kiosk rarely needs it)."""
        if self._pairing_screen is None:
            screen = PairingScreen(server_url=self.settings.server_url)
            screen.pairing = PairingService(self.store, self.client_factory)
            screen.work = self.work
            screen.bind(on_paired=self.on_paired)
            self.manager.add_widget(screen)
            self._pairing_screen = screen
        return self._pairing_screen

    @property
    def home_screen(self) -> str:
        """The home screen's name for this mode (tablet screens are built when needed)."""
        if self.mode != "tablet":
            return "welcome"
        if self.advisor is None:
            return self.sign_in_screen.name
        return self.queue_screen.name

    @property
    def sign_in_screen(self) -> AdvisorSignInScreen:
        if self._sign_in_screen is None:
            screen = AdvisorSignInScreen()
            screen.bind(on_sign_in=self._on_sign_in, on_refresh=lambda *_: self.refresh_advisors())
            screen.advisors = self._advisor_rows(self.advisor_sign_in.book.people())
            self.manager.add_widget(screen)
            self._sign_in_screen = screen
        return self._sign_in_screen

    @property
    def queue_screen(self) -> QueueScreen:
        if self._queue_screen is None:
            screen = QueueScreen()
            screen.bind(on_search_request=lambda *_: self.refresh_queue())
            screen.show_sync(self.sync_progress.reading())
            self.manager.add_widget(screen)
            self._queue_screen = screen
        return self._queue_screen

    def on_start(self) -> None:
        self._idle_event = Clock.schedule_interval(lambda _dt: self.check_idle(), IDLE_CHECK_S)
        if self.pair_code:
            code, self.pair_code = self.pair_code, None
            self.manager.current = self.pairing_screen.name
            self.pairing_screen.code = normalize_code(code)[:8]
            self.pairing_screen.submit()
        elif self.settings.is_paired:
            self.start_status_checks(check_now=True)
            self.start_background_sync()
            self._schedule_prebuild()
            self._start_tablet()

    def on_stop(self) -> None:
        self.stop_status_checks()
        if self._queue_event is not None:
            self._queue_event.cancel()
            self._queue_event = None
        if self._idle_event is not None:
            self._idle_event.cancel()
            self._idle_event = None
        Window.unbind(on_request_close=self._on_request_close)
        if self._pairing_screen is not None:
            self._pairing_screen.release_keyboard()
        if hasattr(self, "checkin"):
            self.checkin.stop_scanning()
            # Only stop the ticket's countdown here: changing widget properties during
            # on_stop would make kv's ``app`` proxy cache this stopping app for good.
            if self.manager.has_screen("done"):
                self.checkin.screen("done").stop_countdown()  # type: ignore[attr-defined]
        self.work.close(timeout=SHUTDOWN_WAIT_S)
        self.stop_background_sync()
        if self.local_store is not None:
            self.local_store.close()
            self.local_store = None
            self.checkin.store = None

    def _schedule_prebuild(self) -> None:
        if self.mode == "kiosk":
            Clock.schedule_once(lambda _dt: self._prebuild_next_screen(), PREBUILD_AFTER_S)

    def _prebuild_next_screen(self) -> None:
        """Build one check-in screen per frame while the kiosk waits for a customer."""
        if self.work.closed:
            return
        for name in CHECKIN_SCREENS:
            if not self.manager.has_screen(name):
                self.checkin.screen(name)
                Clock.schedule_once(lambda _dt: self._prebuild_next_screen(), 0)
                return

    # -- local store and sync ----------------------------------------------------------

    def _open_local_store(self) -> None:
        """The check-ins' local database, once this device knows its id (paired)."""
        settings = self.settings
        if self.local_store is not None or not settings.is_paired or not settings.device_id:
            return
        try:
            self.local_store = LocalStore(self.store.data_dir, settings.device_id)
        except Exception:
            log.exception("The local store in %s cannot be opened", self.store.data_dir)
            return
        self.checkin.store = self.local_store

    def start_background_sync(self) -> None:
        """Sync the local store with the server on a background thread (paired devices)."""
        settings = self.settings
        if not self.start_sync or self.sync is not None or self.local_store is None:
            return
        if not settings.token:
            return
        transport = SyncTransport(settings.server_url, settings.token)
        self.sync = BackgroundSync(
            SyncEngine(self.local_store, transport),
            interval_s=self.sync_interval,
            on_state=lambda state: Clock.schedule_once(lambda _dt: self._sync_state(state)),
        )
        self.sync.start()

    def stop_background_sync(self) -> None:
        if self.sync is not None:
            self.sync.stop(timeout=SHUTDOWN_WAIT_S)
            self.sync.engine.transport.close()
            self.sync = None

    def _sync_state(self, state: SyncState) -> None:
        before = self.sync_state
        finished_round = before is not None and before.running and not state.running
        self.sync_state = state
        reading = self.sync_progress.update(state)
        if self._queue_screen is not None:
            self._queue_screen.show_sync(reading)
            if finished_round and self.advisor is not None:
                # A round may have pulled new check-ins or changes from other devices.
                self.refresh_queue()

    def _checked_in(self, receipt: CheckinReceipt) -> None:
        log.info("Checked in %s; asking the sync to send it", receipt.ticket_number)
        self.request_sync()

    def request_sync(self) -> None:
        """Something was saved locally: ask the background sync to send it soon."""
        if self.sync is not None:
            self.sync.request_sync()

    def show_queue(self) -> None:
        """Back to the tablet's home (the queue once an advisor is signed in)."""
        self.manager.current = self.home_screen
        if self.advisor is not None:
            self.refresh_queue()

    # -- tablet: advisors and the queue ------------------------------------------------

    def _start_tablet(self) -> None:
        if self.mode != "tablet":
            return
        self.refresh_advisors()
        if self._queue_event is None:
            self._queue_event = Clock.schedule_interval(
                lambda _dt: self._queue_tick(), QUEUE_TICK_S
            )

    def _advisor_client(self) -> ServerClient:
        settings = self.settings
        return self.client_factory(settings.server_url, token=settings.token)

    @staticmethod
    def _advisor_rows(people: list[Any]) -> list[dict[str, Any]]:
        return [{"username": p.username, "display_name": p.display_name} for p in people]

    def refresh_advisors(self) -> None:
        """Ask the server who may sign in (the remembered list stands in when offline)."""
        if self.work.closed or not self.settings.is_paired:
            return

        def done(people: list[Any]) -> None:
            screen = self.sign_in_screen
            screen.advisors = self._advisor_rows(people)
            screen.loaded = True

        def failed(error: Exception) -> None:
            if isinstance(error, ServerProblem) and error.needs_pairing:
                self._unpaired_by_shop()
                return
            log.warning("Advisor list not refreshed: %r", error)
            self.sign_in_screen.loaded = True

        self.work.run(self.advisor_sign_in.refresh, done, failed, name="advisors")

    def _on_sign_in(self, screen: AdvisorSignInScreen, username: str, pin: str) -> None:
        screen.busy = True
        screen.message = None
        self.work.run(
            lambda: self.advisor_sign_in.sign_in(username, pin),
            self._signed_in,
            self._sign_in_failed,
            name="advisor-sign-in",
        )

    def _signed_in(self, result: SignedIn) -> None:
        self.advisor = result.advisor
        self.advisor_name = result.advisor.display_name
        self._last_touch = time.monotonic()
        self.sign_in_screen.reset()
        if result.offline:
            self.toast.show(SIGNED_IN_OFFLINE)
        self.show_queue()

    def _sign_in_failed(self, error: Exception) -> None:
        if isinstance(error, SignInRefused):
            self.sign_in_screen.show_refusal(error.message)
        elif isinstance(error, ServerProblem) and error.needs_pairing:
            self.sign_in_screen.reset()
            self._unpaired_by_shop()
        else:
            log.error("Advisor sign-in failed: %r", error)
            self.sign_in_screen.show_refusal(SIGN_IN_FAILED)

    def _unpaired_by_shop(self) -> None:
        """The server refused this tablet's token: forget it, sign out, back to pairing."""
        log.warning("The server refused this device's token; pairing again")
        self.store.forget_pairing(token=self.settings.token)
        self.settings = self.store.load()
        self.advisor = None
        self.advisor_name = ""
        self.show_pairing(DEVICE_UNPAIRED)

    def sign_out_advisor(self, message: Text | None = None) -> None:
        """The advisor leaves the tablet: back to the sign-in screen."""
        if self.advisor is not None:
            log.info("Advisor %s signed out", self.advisor.username)
        self.advisor = None
        self.advisor_name = ""
        if self._queue_screen is not None:
            self._queue_screen.clear_search()
            self._queue_screen.show([], self.lang)
            self._queue_screen.loaded = False
        self.sign_in_screen.reset()
        self.manager.current = self.sign_in_screen.name
        if message is not None:
            self.toast.show(message)
        self.refresh_advisors()

    def refresh_queue(self) -> None:
        """Read the queue from the local store in the background and show it."""
        if self.advisor is None or self.work.closed:
            return
        if self._queue_loading:
            self._queue_again = True  # one more read when this one is done
            return
        store = self.local_store
        screen = self.queue_screen
        if store is None:
            screen.show([], self.lang)
            return
        search = screen.search
        self._queue_loading = True
        self.work.run(
            lambda: open_visits(store, search),
            self._queue_read,
            self._queue_failed,
            name="queue",
        )

    def _queue_read(self, entries: list[QueueEntry]) -> None:
        self._queue_loading = False
        if self.advisor is not None:
            self.queue_screen.show(entries, self.lang)
        if self._queue_again:
            self._queue_again = False
            self.refresh_queue()

    def _queue_failed(self, error: Exception) -> None:
        self._queue_loading = False
        self._queue_again = False
        log.error("The queue could not be read: %r", error)

    def _queue_tick(self) -> None:
        if self._queue_screen is not None and self.advisor is not None:
            self._queue_screen.render(self.lang)
            self._queue_screen.show_sync(self.sync_progress.reading())

    def open_visit(self, visit_id: str) -> None:
        """The advisor tapped a car in the queue: its walk-around."""
        self.walkaround.open(visit_id)

    # -- shared screen: idle timeout and staff PIN -------------------------------------

    def note_activity(self) -> None:
        self.idle.touched()
        self._last_touch = time.monotonic()

    def check_idle(self) -> None:
        """Ask "Are you still there?" after the idle time, and wipe the check-in after it.

        On the tablet: sign the advisor out after ``ADVISOR_IDLE_S`` untouched, except
        during a walk-around (the customer may be reading the sheet).
        """
        if self.mode == "tablet":
            idle_for = time.monotonic() - self._last_touch
            if (
                self.advisor is not None
                and idle_for > ADVISOR_IDLE_S
                and not self.walkaround.in_progress
            ):
                self.sign_out_advisor(SIGNED_OUT_IDLE)
            return
        if not self.checkin.in_progress:
            self.idle.touched()
            self.idle_overlay.shown = False
            return
        reading = self.idle.reading()
        if reading.state is IdleState.active:
            self.idle_overlay.shown = False
        elif reading.state is IdleState.asking:
            self.idle_overlay.seconds_left = reading.seconds_left
            self.idle_overlay.shown = True
        else:
            log.info("Nobody touched the kiosk: check-in wiped")
            self.idle_overlay.shown = False
            self.staff_overlay.close()
            self.checkin.start_over()

    def still_here(self) -> None:
        self.idle.touched()
        self.idle_overlay.shown = False

    def open_staff_pin(self) -> None:
        self.staff_overlay.open()
        if not self.store.load().staff_pin_hash:
            self.staff_overlay.message = NO_PIN_SET

    def check_staff_pin(self, pin: str) -> None:
        stored = self.store.load().staff_pin_hash
        if not stored:
            self.staff_overlay.message = NO_PIN_SET
        elif verify_pin(pin, stored):
            self.staff_overlay.message = None
            self.staff_overlay.unlocked = True
        else:
            self.staff_overlay.message = WRONG_PIN
            self.staff_overlay.ids.pin_pad.text = ""

    def leave_kiosk_mode(self) -> None:
        """Staff unlocked with the PIN: the app may close now."""
        if not self.staff_overlay.unlocked:
            return
        log.info("Staff left kiosk mode with the PIN")
        self._may_close = True
        self.stop()

    def _on_request_close(self, *_args: Any, **_kwargs: Any) -> bool:
        # True keeps the window open: a lobby kiosk closes only through the staff PIN.
        return self.mode == "kiosk" and self.settings.is_paired and not self._may_close

    # -- pairing and status ------------------------------------------------------------

    def on_paired(self, _screen: PairingScreen, settings: DeviceSettings) -> None:
        self._show_settings(settings)
        self.connection = ConnectionState.ONLINE.value
        self.manager.current = self.home_screen
        self._open_local_store()
        self.start_status_checks(check_now=False)
        self.start_background_sync()
        self._schedule_prebuild()
        self._start_tablet()

    def show_pairing(self, message: Text | None = None) -> None:
        """Back to pairing (the token was refused), saying why."""
        self.stop_status_checks()
        self.stop_background_sync()
        self.checkin.clear()
        self.connection = ConnectionState.NOT_PAIRED.value
        self.pairing_screen.code = ""
        self.pairing_screen.message = message
        self.manager.current = self.pairing_screen.name

    def start_status_checks(self, check_now: bool = True) -> None:
        self.stop_status_checks()
        self._status_event = Clock.schedule_interval(
            lambda _dt: self.check_connection(), self.status_interval
        )
        if check_now:
            self.check_connection()

    def stop_status_checks(self) -> None:
        if self._status_event is not None:
            self._status_event.cancel()
            self._status_event = None

    def check_connection(self) -> None:
        """Ask the server in the background whether it still knows this device."""
        if self._checking or self.work.closed:
            return
        self._checking = True
        self.work.run(self.checker.check, self._on_report, self._on_check_failed, name="status")

    def _on_report(self, report: ConnectionReport) -> None:
        self._checking = False
        if report.state is ConnectionState.NOT_PAIRED:
            self.settings = self.store.load()
            self.show_pairing(DEVICE_UNPAIRED)
            return
        self.connection = report.state.value
        if report.device is not None:
            self._show_settings(self.store.load())

    def _on_check_failed(self, error: Exception) -> None:
        # Not a server answer (e.g. the disk refused a save): keep going, say offline.
        self._checking = False
        log.warning("Status check failed: %r", error)
        self.connection = ConnectionState.OFFLINE.value

    def _shop_clock(self, moment: datetime) -> str:
        """A time as the shop's clock shows it (the same as the back office)."""
        return shop_time_text(moment, zone_or_local(self.shop_timezone))

    def _show_settings(self, settings: DeviceSettings) -> None:
        self.settings = settings
        self.mode = settings.mode
        self.shop_name = settings.shop_name
        self.shop_timezone = settings.shop_timezone
        self.flow.setup = KioskSetup(
            device_id=settings.device_id or "",
            ticket_prefix=settings.ticket_prefix or "K",
            plate_region=settings.plate_region,
            phone_region="CN",
            server_url=settings.server_url,
        )

    # -- welcome -----------------------------------------------------------------------

    def on_choice(self, _screen: WelcomeScreen, choice: str) -> None:
        """A customer picked a way to check in."""
        self.checkin.begin(choice)
