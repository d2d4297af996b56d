"""``CheckinApp``: the screens, the current language and the server status, wired up.

The app holds state in Kivy properties (``lang``, ``mode``, ``shop_name``,
``connection``) that the ``.kv`` files bind to; the work is done by ``kiosk.services``
in background threads.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager
from kivy.uix.widget import Widget

from kiosk.services.advisors import Advisor, AdvisorBook, AdvisorSignIn
from kiosk.services.checkin_flow import CheckinFlow, CheckinReceipt
from kiosk.services.connection import CHECK_INTERVAL_S, ConnectionChecker, ConnectionState
from kiosk.services.device_store import DeviceSettings, DeviceStore
from kiosk.services.idle import DEFAULT_COUNTDOWN_S, IdleWatch
from kiosk.services.local_store import LocalStore
from kiosk.services.pairing import ClientFactory
from kiosk.services.pairing_code import normalize_code
from kiosk.services.scanner import QrScanner, scanner
from kiosk.services.server_client import ServerClient
from kiosk.services.sync import BackgroundSync, SyncState
from kiosk.services.sync_progress import SyncProgress
from kiosk.services.working_set import DeviceWorkingSet
from kiosk.ui import palette
from kiosk.ui.advisor_checkin import AdvisorCheckinController
from kiosk.ui.background import BackgroundWork
from kiosk.ui.checkin import CheckinController
from kiosk.ui.device_link import SHUTDOWN_WAIT_S, DeviceLink
from kiosk.ui.fitting import is_narrow, is_roomy, is_short
from kiosk.ui.fonts import register_fonts
from kiosk.ui.keyboard import OnScreenKeyboard
from kiosk.ui.keypads import Keypad, PlatePicker  # noqa: F401  (kv classes)
from kiosk.ui.overlays import IdleOverlay, StaffCorner, StaffPinOverlay
from kiosk.ui.screens.advisor_sign_in import AdvisorSignInScreen
from kiosk.ui.screens.code_entry import CodeScreen
from kiosk.ui.screens.concern import ConcernScreen
from kiosk.ui.screens.confirm import ConfirmScreen
from kiosk.ui.screens.contact import ContactScreen
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.lookup import LookupScreen
from kiosk.ui.screens.matches import MatchesScreen
from kiosk.ui.screens.pairing import PairingScreen
from kiosk.ui.screens.queue import QueueRow, QueueScreen, SyncBar  # noqa: F401  (kv classes)
from kiosk.ui.screens.scan import ScanScreen
from kiosk.ui.screens.vehicle import VehicleScreen
from kiosk.ui.screens.walk_in import (
    WalkInCarScreen,
    WalkInContactScreen,
    WalkInPlateScreen,
    WalkInVinScreen,
)
from kiosk.ui.screens.welcome import WelcomeScreen
from kiosk.ui.shared_screen import SharedScreenGuard
from kiosk.ui.signature_pad import SignaturePad  # noqa: F401  (kv class)
from kiosk.ui.tablet import TabletController
from kiosk.ui.walkaround_flow import WALKAROUND_KV_FILES, WalkaroundController
from kiosk.ui.widgets import Toast
from shared.i18n import LANGUAGES, N_, Text, normalize_language, translate, translate_plural
from shared.shop_time import shop_time_text, zone_or_local
from shared.validation import FieldIssue

log = logging.getLogger(__name__)

UI_DIR = Path(__file__).parent
KV_FILES: tuple[Path, ...] = (
    UI_DIR / "widgets.kv",
    UI_DIR / "keypads.kv",
    UI_DIR / "keyboard.kv",
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
            "confirm",
            "done",
            "advisor_arrivals",
            "advisor_car",
            "advisor_sign",
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
    "confirm": ConfirmScreen,
    "done": DoneScreen,
}
PREBUILD_AFTER_S = 2.0
I18N_DOMAIN = "kiosk"
WINDOW_TITLE = N_("Service check-in")

# The tablet signs its advisor out after this long untouched on the queue (a shared
# device left on a counter); never in the middle of a walk-around.
ADVISOR_IDLE_S = 10 * 60

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
    """The kiosk/tablet app: pairing until a token is stored, then the home screen.

    The app builds the screens and holds the state the ``.kv`` files bind to (``lang``,
    ``mode``, ``shop_name``, ``connection``, ``advisor_name``); the work is split by job:

    * :class:`CheckinController` — the lobby kiosk's check-in screens;
    * :class:`WalkaroundController` — the tablet's walk-around screens;
    * :class:`TabletController` (``tablet``) — advisor sign-in and the queue;
    * :class:`SharedScreenGuard` (``guard``) — idle timeout and the staff PIN;
    * :class:`DeviceLink` (``link``) — pairing, connection checks, the local store
      and background sync.

    ``scanner``, ``start_sync``, ``idle_timeout``, ``idle_countdown`` and
    ``done_seconds`` are there for tests and demos.
    """

    lang = StringProperty("en")
    mode = StringProperty("kiosk")
    shop_name = StringProperty("")
    shop_timezone = StringProperty("")  # the shop's clock, for every time shown here
    connection = StringProperty(ConnectionState.CHECKING.value)
    advisor_name = StringProperty("")
    # The window's shape (kiosk.ui.fitting): columns one above the other when narrow.
    narrow = BooleanProperty(False)
    roomy = BooleanProperty(True)
    short = BooleanProperty(False)

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
        self.qr_scanner = qr_scanner or scanner()
        self.start_sync = start_sync
        self.sync_interval = sync_interval
        self.done_seconds = done_seconds
        self.local_store: LocalStore | None = None
        self.advisor: Advisor | None = None
        self.sync: BackgroundSync | None = None
        self.working_set: DeviceWorkingSet | None = None
        self.sync_state: SyncState | None = None
        self.sync_progress = SyncProgress()
        self.flow = CheckinFlow()
        self.tablet = TabletController(self)
        self.advisor_sign_in = AdvisorSignIn(
            AdvisorBook(store.data_dir), self.tablet.advisor_client, time_text=self.shop_clock
        )
        self.idle = IdleWatch(
            idle_timeout if idle_timeout is not None else self.settings.idle_timeout_s,
            idle_countdown,
        )
        self.guard = SharedScreenGuard(self, lambda: ADVISOR_IDLE_S)
        self.link = DeviceLink(self)
        self.lang = normalize_language(self.settings.language)
        self.title = self.tr(WINDOW_TITLE)
        self.link.show_settings(self.settings)

    # -- i18n --------------------------------------------------------------------------

    def tr(self, message: str, lang: str | None = None, **params: Any) -> str:
        """``message`` in ``lang``; kv passes ``app.lang`` so the text follows the toggle."""
        return translate(message, lang or self.lang, I18N_DOMAIN, **params)

    def ntr(
        self, singular: str, plural: str, count: int, lang: str | None = None, **params: Any
    ) -> str:
        """A message with a count: "1 minute" / "2 minutes" (``params`` name the count)."""
        return translate_plural(singular, plural, count, lang or self.lang, I18N_DOMAIN, **params)

    def on_lang(self, _app: App, lang: str) -> None:
        self.title = self.tr(WINDOW_TITLE, lang)
        self.tablet.render(lang)

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
        self._fit_window()
        Window.bind(size=self._fit_window)
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
            history=self.link.fetch_history,
        )
        self.advisor_checkin = AdvisorCheckinController(self, on_saved=self._checked_in)
        self.link.open_local_store()
        self.welcome_screen = WelcomeScreen()
        self.welcome_screen.bind(on_choice=self.on_choice)
        self.manager.add_widget(self.welcome_screen)
        self.keyboard = OnScreenKeyboard(pan=self.manager)
        self.manager.bind(current=lambda *_: self.keyboard.close(keep_letters=False))
        self.toast = Toast()
        self.idle_overlay = IdleOverlay()
        self.staff_overlay = StaffPinOverlay()
        self.staff_corner = StaffCorner(size_hint=(None, None), size=(dp(96), dp(96)))
        self.staff_corner.pos_hint = {"x": 0, "top": 1}
        self.staff_corner.bind(on_long_press=lambda *_: self.open_staff_pin())
        root = KioskRoot()
        for layer in (
            self.manager,
            self.keyboard,
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

    def _fit_window(self, *_args: Any) -> None:
        self.narrow, self.roomy, self.short = is_narrow(), is_roomy(), is_short()

    @property
    def home_screen(self) -> str:
        """The home screen's name for this mode (tablet screens are built when needed)."""
        return "welcome" if self.mode != "tablet" else self.tablet.home_screen

    @property
    def pairing_screen(self) -> PairingScreen:
        return self.link.pairing_screen

    @property
    def sign_in_screen(self) -> AdvisorSignInScreen:
        return self.tablet.sign_in_screen

    @property
    def queue_screen(self) -> QueueScreen:
        return self.tablet.queue_screen

    def on_start(self) -> None:
        self.guard.start()
        if self.pair_code:
            code, self.pair_code = self.pair_code, None
            self.manager.current = self.pairing_screen.name
            self.pairing_screen.code = normalize_code(code)[:8]
            self.pairing_screen.submit()
        elif self.settings.is_paired:
            self.link.start_status_checks(check_now=True)
            self.link.start_background_sync()
            self.schedule_prebuild()
            self.tablet.start()

    def on_stop(self) -> None:
        self.link.stop_status_checks()
        self.tablet.stop()
        self.guard.stop()
        Window.unbind(on_request_close=self._on_request_close)
        Window.unbind(size=self._fit_window)
        self.link.release()
        if hasattr(self, "checkin"):
            self.checkin.stop_scanning()
            # Only stop the ticket's countdown here: changing widget properties during
            # on_stop would make kv's ``app`` proxy cache this stopping app for good.
            if self.manager.has_screen("done"):
                self.checkin.screen("done").stop_countdown()  # type: ignore[attr-defined]
        self.work.close(timeout=SHUTDOWN_WAIT_S)
        self.link.stop_background_sync()
        self.link.close_local_store()

    def schedule_prebuild(self) -> None:
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

    # -- what screens and tests call (each part does the work) -------------------------

    def on_choice(self, _screen: WelcomeScreen, choice: str) -> None:
        """A customer picked a way to check in."""
        self.checkin.begin(choice)

    def _checked_in(self, receipt: CheckinReceipt) -> None:
        log.info("Checked in %s; sending it now", receipt.ticket_number)
        self.link.push_now()

    def request_sync(self) -> None:
        self.link.request_sync()

    def _sync_state(self, state: SyncState) -> None:
        self.link.sync_state(state)

    def shop_clock(self, moment: datetime) -> str:
        """A time as the shop's clock shows it (the same as the back office)."""
        return shop_time_text(moment, zone_or_local(self.shop_timezone))

    def show_queue(self) -> None:
        self.tablet.show_home()

    def refresh_queue(self) -> None:
        self.tablet.refresh_queue()

    def open_visit(self, visit_id: str) -> None:
        self.tablet.open_visit(visit_id)

    def sign_out_advisor(self, message: Text | None = None) -> None:
        self.tablet.sign_out(message)

    def note_activity(self) -> None:
        self.guard.note_activity()

    def check_idle(self) -> None:
        self.guard.check_idle()

    def still_here(self) -> None:
        self.guard.still_here()

    def open_staff_pin(self) -> None:
        self.guard.open_staff_pin()

    def check_staff_pin(self, pin: str) -> None:
        self.guard.check_staff_pin(pin)

    def leave_kiosk_mode(self) -> None:
        self.guard.leave_kiosk_mode()

    def _on_request_close(self, *args: Any, **kwargs: Any) -> bool:
        # True keeps the window open: a lobby kiosk closes only through the staff PIN.
        return self.guard.keep_open(*args, **kwargs)
