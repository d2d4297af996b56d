"""``CheckinApp``: the screens, the current language and the server status, wired up.

The app holds state in Kivy properties (``lang``, ``mode``, ``shop_name``,
``connection``) that the ``.kv`` files bind to; the work is done by ``kiosk.services``
in background threads.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock, ClockEvent
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager
from kivy.uix.widget import Widget

from kiosk.services.connection import (
    CHECK_INTERVAL_S,
    ConnectionChecker,
    ConnectionReport,
    ConnectionState,
)
from kiosk.services.device_store import DeviceSettings, DeviceStore
from kiosk.services.pairing import ClientFactory, PairingService
from kiosk.services.pairing_code import normalize_code
from kiosk.services.server_client import ServerClient
from kiosk.ui import palette
from kiosk.ui.background import BackgroundWork
from kiosk.ui.fonts import register_fonts
from kiosk.ui.screens.pairing import PairingScreen
from kiosk.ui.screens.tablet_welcome import TabletWelcomeScreen
from kiosk.ui.screens.welcome import WelcomeScreen
from kiosk.ui.widgets import Toast
from shared.i18n import LANGUAGES, N_, Text, normalize_language, translate

log = logging.getLogger(__name__)

UI_DIR = Path(__file__).parent
KV_FILES: tuple[Path, ...] = (
    UI_DIR / "widgets.kv",
    UI_DIR / "screens" / "pairing.kv",
    UI_DIR / "screens" / "welcome.kv",
    UI_DIR / "screens" / "tablet_welcome.kv",
)
I18N_DOMAIN = "kiosk"
WINDOW_TITLE = N_("Service check-in")
# On exit, how long to wait for a request still running (they time out by themselves).
SHUTDOWN_WAIT_S = 5.0

BEING_SET_UP = Text("This kiosk is being set up — please see the service desk.", "kiosk")
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


class CheckinApp(App):
    """The kiosk/tablet app: pairing until a token is stored, then the welcome screen."""

    lang = StringProperty("en")
    mode = StringProperty("kiosk")
    shop_name = StringProperty("")
    connection = StringProperty(ConnectionState.CHECKING.value)

    def __init__(
        self,
        store: DeviceStore,
        settings: DeviceSettings | None = None,
        client_factory: ClientFactory = ServerClient,
        pair_code: str | None = None,
        status_interval: float = CHECK_INTERVAL_S,
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
        self.lang = normalize_language(self.settings.language)
        self.title = self.tr(WINDOW_TITLE)
        self._show_settings(self.settings)

    # -- i18n --------------------------------------------------------------------------

    def tr(self, message: str, lang: str | None = None, **params: Any) -> str:
        """``message`` in ``lang``; kv passes ``app.lang`` so the text follows the toggle."""
        return translate(message, lang or self.lang, I18N_DOMAIN, **params)

    def on_lang(self, _app: App, lang: str) -> None:
        self.title = self.tr(WINDOW_TITLE, lang)

    def set_language(self, lang: str) -> None:
        lang = normalize_language(lang)
        if lang in LANGUAGES:
            self.lang = lang

    # -- building ----------------------------------------------------------------------

    def load_kv(self, filename: str | None = None) -> bool:
        load_kv_files()
        return True

    def build(self) -> Widget:
        register_fonts()
        Window.clearcolor = palette.BACKGROUND
        self.manager = ScreenManager(transition=NoTransition())
        self.pairing_screen = PairingScreen(server_url=self.settings.server_url)
        self.pairing_screen.pairing = PairingService(self.store, self.client_factory)
        self.pairing_screen.work = self.work
        self.pairing_screen.bind(on_paired=self.on_paired)
        self.welcome_screen = WelcomeScreen()
        self.welcome_screen.bind(on_choice=self.on_choice)
        self.tablet_screen = TabletWelcomeScreen()
        for screen in (self.pairing_screen, self.welcome_screen, self.tablet_screen):
            self.manager.add_widget(screen)
        self.toast = Toast()
        root = FloatLayout()
        root.add_widget(self.manager)
        root.add_widget(self.toast)
        self.manager.current = self.home_screen if self.settings.is_paired else "pairing"
        return root

    @property
    def home_screen(self) -> str:
        return "tablet_welcome" if self.mode == "tablet" else "welcome"

    def on_start(self) -> None:
        if self.pair_code:
            code, self.pair_code = self.pair_code, None
            self.manager.current = "pairing"
            self.pairing_screen.code = normalize_code(code)[:8]
            self.pairing_screen.submit()
        elif self.settings.is_paired:
            self.start_status_checks(check_now=True)

    def on_stop(self) -> None:
        self.stop_status_checks()
        if hasattr(self, "pairing_screen"):
            self.pairing_screen.release_keyboard()
        self.work.close(timeout=SHUTDOWN_WAIT_S)

    # -- pairing and status ------------------------------------------------------------

    def on_paired(self, _screen: PairingScreen, settings: DeviceSettings) -> None:
        self._show_settings(settings)
        self.connection = ConnectionState.ONLINE.value
        self.manager.current = self.home_screen
        self.start_status_checks(check_now=False)

    def show_pairing(self, message: Text | None = None) -> None:
        """Back to pairing (the token was refused), saying why."""
        self.stop_status_checks()
        self.connection = ConnectionState.NOT_PAIRED.value
        self.pairing_screen.code = ""
        self.pairing_screen.message = message
        self.manager.current = "pairing"

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

    def _show_settings(self, settings: DeviceSettings) -> None:
        self.settings = settings
        self.mode = settings.mode
        self.shop_name = settings.shop_name

    # -- welcome -----------------------------------------------------------------------

    def on_choice(self, _screen: WelcomeScreen, choice: str) -> None:
        """A customer picked a way to check in; the flows arrive in a later issue."""
        log.info("Choice %s touched; check-in flows are not installed yet", choice)
        self.toast.show(BEING_SET_UP)
