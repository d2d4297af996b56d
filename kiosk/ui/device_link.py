"""The device's link to the shop: pairing, connection checks and background sync.

:class:`DeviceLink` is that part of ``CheckinApp``: the pairing screen and what follows a
pairing, the periodic "does the server still know this device?" check (a refused token
sends the device back to pairing), the device's local store, and the background sync
with its working set (cars' histories in, finished visits out). Everything that talks to
the server runs on a worker thread; the UI thread only gets the results.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kivy.clock import Clock, ClockEvent

from kiosk.services.checkin_flow import KioskSetup
from kiosk.services.connection import ConnectionReport, ConnectionState
from kiosk.services.device_store import DeviceSettings
from kiosk.services.live_events import LiveEvents, LiveNotice
from kiosk.services.local_store import LocalStore
from kiosk.services.pairing import PairingService
from kiosk.services.sync import (
    BackgroundSync,
    ServerUnreachable,
    SyncEngine,
    SyncState,
    SyncTransport,
)
from kiosk.services.sync_progress import clock_offset_words
from kiosk.services.working_set import DeviceWorkingSet
from kiosk.ui.screens.pairing import PairingScreen
from shared.i18n import Text

if TYPE_CHECKING:
    from kiosk.ui.app import CheckinApp

log = logging.getLogger(__name__)

# On exit, how long to wait for a request still running (they time out by themselves).
SHUTDOWN_WAIT_S = 5.0
DEVICE_UNPAIRED = Text(
    "This device was unpaired by the shop. Ask the service manager for a new pairing code.",
    "kiosk",
)


class DeviceLink:
    """Pairing, connection checks, the local store and background sync of the app."""

    def __init__(self, app: CheckinApp) -> None:
        self.app = app
        self._status_event: ClockEvent | None = None
        self._checking = False
        self._pairing_screen: PairingScreen | None = None
        self.live_events: LiveEvents | None = None

    # -- pairing -----------------------------------------------------------------------

    @property
    def pairing_screen(self) -> PairingScreen:
        """The pairing screen, built when first needed (a paired kiosk rarely needs it)."""
        if self._pairing_screen is None:
            app = self.app
            screen = PairingScreen(server_url=app.settings.server_url)
            screen.pairing = PairingService(app.store, app.client_factory)
            screen.work = app.work
            screen.bind(on_paired=self.on_paired)
            app.manager.add_widget(screen)
            self._pairing_screen = screen
        return self._pairing_screen

    def on_paired(self, _screen: PairingScreen, settings: DeviceSettings) -> None:
        app = self.app
        self.show_settings(settings)
        app.connection = ConnectionState.ONLINE.value
        app.manager.current = app.home_screen
        self.open_local_store()
        self.start_status_checks(check_now=False)
        self.start_background_sync()
        app.schedule_prebuild()
        app.tablet.start()

    def show_pairing(self, message: Text | None = None) -> None:
        """Back to pairing (the token was refused), saying why."""
        app = self.app
        self.stop_status_checks()
        self.stop_background_sync()
        app.checkin.clear()
        app.connection = ConnectionState.NOT_PAIRED.value
        self.pairing_screen.code = ""
        self.pairing_screen.message = message
        app.manager.current = self.pairing_screen.name

    def unpaired_by_shop(self) -> None:
        """The server refused this device's token: forget it, sign out, back to pairing."""
        app = self.app
        log.warning("The server refused this device's token; pairing again")
        app.store.forget_pairing(token=app.settings.token)
        app.settings = app.store.load()
        app.advisor = None
        app.advisor_name = ""
        self.show_pairing(DEVICE_UNPAIRED)

    def show_settings(self, settings: DeviceSettings) -> None:
        app = self.app
        app.settings = settings
        app.mode = settings.mode
        app.shop_name = settings.shop_name
        app.shop_timezone = settings.shop_timezone
        app.tablet.set_greeting_target(settings.greeting_target_minutes)
        app.flow.setup = KioskSetup(
            device_id=settings.device_id or "",
            ticket_prefix=settings.ticket_prefix or "K",
            plate_region=settings.plate_region,
            phone_region="CN",
            server_url=settings.server_url,
            status_link_key=settings.status_link_key,
        )

    def release(self) -> None:
        if self._pairing_screen is not None:
            self._pairing_screen.release_keyboard()

    # -- connection checks -------------------------------------------------------------

    def start_status_checks(self, check_now: bool = True) -> None:
        self.stop_status_checks()
        self._status_event = Clock.schedule_interval(
            lambda _dt: self.check_connection(), self.app.status_interval
        )
        if check_now:
            self.check_connection()

    def stop_status_checks(self) -> None:
        if self._status_event is not None:
            self._status_event.cancel()
            self._status_event = None

    def check_connection(self) -> None:
        """Ask the server in the background whether it still knows this device."""
        app = self.app
        if self._checking or app.work.closed:
            return
        self._checking = True
        app.work.run(app.checker.check, self._on_report, self._on_check_failed, name="status")

    def _on_report(self, report: ConnectionReport) -> None:
        app = self.app
        self._checking = False
        if report.state is ConnectionState.NOT_PAIRED:
            app.settings = app.store.load()
            self.show_pairing(DEVICE_UNPAIRED)
            return
        app.connection = report.state.value
        if report.device is not None:
            self.show_settings(app.store.load())

    def _on_check_failed(self, error: Exception) -> None:
        # Not a server answer (e.g. the disk refused a save): keep going, say offline.
        self._checking = False
        log.warning("Status check failed: %r", error)
        self.app.connection = ConnectionState.OFFLINE.value

    # -- local store and sync ----------------------------------------------------------

    def open_local_store(self) -> None:
        """The device's local database, once this device knows its id (paired)."""
        app = self.app
        settings = app.settings
        if app.local_store is not None or not settings.is_paired or not settings.device_id:
            return
        try:
            app.local_store = LocalStore(app.store.data_dir, settings.device_id)
        except Exception:
            log.exception("The local store in %s cannot be opened", app.store.data_dir)
            return
        app.checkin.store = app.local_store

    def close_local_store(self) -> None:
        app = self.app
        if app.local_store is not None:
            app.local_store.close()
            app.local_store = None
            app.checkin.store = None

    def start_background_sync(self) -> None:
        """Sync the local store with the server on a background thread (paired devices)."""
        app = self.app
        settings = app.settings
        if not app.start_sync or app.sync is not None or app.local_store is None:
            return
        if not settings.token:
            return
        transport = SyncTransport(settings.server_url, settings.token)
        engine = SyncEngine(app.local_store, transport)
        app.working_set = DeviceWorkingSet(
            settings.keep_finished_days, kiosk=settings.mode != "tablet"
        )
        engine.after_pull = app.working_set
        app.sync = BackgroundSync(
            engine,
            interval_s=app.sync_interval,
            on_state=lambda state: Clock.schedule_once(lambda _dt: self._round_told(state)),
        )
        app.sync.start()
        if settings.mode == "tablet":
            # The shop's changes as they happen: each one starts a round at once (the
            # queue is redrawn after it); the periodic round stays the fallback.
            self.live_events = LiveEvents(settings.server_url, settings.token, self._heard)
            self.live_events.start()

    def _heard(self, _notice: LiveNotice) -> None:
        """A live event (on the listener's thread): pull what changed now."""
        if self.app.sync is not None:
            self.app.sync.request_sync()

    def stop_background_sync(self) -> None:
        app = self.app
        if self.live_events is not None:
            self.live_events.stop(timeout=SHUTDOWN_WAIT_S)
            self.live_events = None
        if app.sync is not None:
            app.sync.stop(timeout=SHUTDOWN_WAIT_S)
            app.sync.engine.transport.close()
            app.sync = None

    def _round_told(self, state: SyncState) -> None:
        """A background round's state, once the UI thread gets to it: dropped when the
        sync was stopped meanwhile (the app is closing; its screens may be gone)."""
        if self.app.sync is not None:
            self.sync_state(state)

    def sync_state(self, state: SyncState) -> None:
        """A sync round's state, on the UI thread: the sync bar, and the queue after a
        round (it may have pulled new check-ins or changes from other devices)."""
        app = self.app
        before = app.sync_state
        finished_round = before is not None and before.running and not state.running
        app.sync_state = state
        if state.clock_warning and not (before is not None and before.clock_warning):
            offset = clock_offset_words(state.clock_offset_ms or 0)
            log.warning("This device's clock is %s off the shop server's: set it right", offset)
        app.tablet.show_sync(app.sync_progress.update(state), finished_round)

    def fetch_history(self, vehicle_id: str) -> int:
        """A car's history from the server now, cached in the local store (a worker
        thread calls this when a walk-around opens); how many records changed here.
        ``SyncError`` when the server cannot be asked: the next round fetches it, and
        meanwhile the cache serves."""
        app = self.app
        store, settings = app.local_store, app.settings
        if store is None or not settings.token:
            raise ServerUnreachable("this device is not paired")
        # The working set notes the car fetched (or, offline, due in the next round).
        working_set = app.working_set or DeviceWorkingSet(settings.keep_finished_days)
        with SyncTransport(settings.server_url, settings.token) as transport:
            return working_set.fetch_history(store, transport, vehicle_id)

    def request_sync(self) -> None:
        """Something was saved locally: ask the background sync to send it soon."""
        if self.app.sync is not None:
            self.app.sync.request_sync()

    def push_now(self) -> None:
        """A check-in was saved: send it at once (not at the next round), in the
        background, so it shows on the shop's boards and tablets within a second."""
        if self.app.sync is not None:
            self.app.sync.push_now()
