"""The walk-around screens on the advisor tablet, driven by a ``WalkaroundSheet``.

:class:`WalkaroundController` opens a visit's walk-around (环车检查) and moves the advisor
between its steps — damage, photos, car, belongings, the car's deferred work to offer
again, summary with the customer's signature and the printed sheet — one screen each
(``kiosk/ui/screens/walkaround_*``), built the first time it is shown. The screens hand
every change to :meth:`edit`, which asks ``kiosk.services.walkaround.WalkaroundSheet``
to make it and then saves: the sheet is durable in the local store before the header
says "saved", and only then is the background sync asked to send it (``on_saved``).

A sheet the customer signed is locked: the first change asks the advisor, since it
makes a new version of the sheet that the customer must sign again. Slow work (reading
a camera picture, drawing the PDF, saving the signed or finished sheet, fetching the
car's history) runs on a worker thread (``kiosk/ui/walkaround_work.py``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from kivy.app import App
from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import ScreenManager

from kiosk.services.advisors import Advisor
from kiosk.services.camera import Camera, FileImportCamera
from kiosk.services.deferred_work import DeferredItem
from kiosk.services.local_store import LocalStore
from kiosk.services.photos import PhotoUnreadable, PreparedPhoto, prepare_photo
from kiosk.services.printing import Printer
from kiosk.services.walkaround import SheetRefused, VisitHeader, WalkaroundSheet, visit_header
from kiosk.ui.background import BackgroundWork
from kiosk.ui.diagram import load_kv as load_diagram_kv
from kiosk.ui.photo_widgets import PhotoFileChooser
from kiosk.ui.screens.walkaround_belongings import WalkaroundBelongingsScreen
from kiosk.ui.screens.walkaround_car import WalkaroundCarScreen
from kiosk.ui.screens.walkaround_common import SignedSheetDialog, WalkaroundStepScreen
from kiosk.ui.screens.walkaround_damage import WalkaroundDamageScreen
from kiosk.ui.screens.walkaround_deferred import WalkaroundDeferredScreen
from kiosk.ui.screens.walkaround_photos import WalkaroundPhotosScreen
from kiosk.ui.screens.walkaround_sign import WalkaroundSignScreen
from kiosk.ui.walkaround_work import WalkaroundWork
from shared.domain import StrokePoint
from shared.i18n import Text
from shared.shop_time import shop_time_text, zone_or_local
from shared.validation import FieldIssue

log = logging.getLogger(__name__)

UI_DIR = Path(__file__).parent
WALKAROUND_KV_FILES: tuple[Path, ...] = (
    UI_DIR / "photo_widgets.kv",
    *(
        UI_DIR / "screens" / f"walkaround_{name}.kv"
        for name in ("common", "damage", "photos", "car", "belongings", "deferred", "sign")
    ),
)
# The steps in the order of the tabs, and the screen of each.
STEPS: dict[str, type[WalkaroundStepScreen]] = {
    "damage": WalkaroundDamageScreen,
    "photos": WalkaroundPhotosScreen,
    "car": WalkaroundCarScreen,
    "belongings": WalkaroundBelongingsScreen,
    "deferred": WalkaroundDeferredScreen,
    "sign": WalkaroundSignScreen,
}
SCREEN_NAMES = frozenset(f"walkaround_{step}" for step in STEPS)

NOT_SAVED = Text(
    "This change could not be saved on the tablet. Nothing is lost on the screen: "
    "try again, and tell the service manager if it happens again.",
    "kiosk",
)
NO_STORE = Text("This tablet's records cannot be opened. Pair it again or restart it.", "kiosk")
NO_VISIT = Text(
    "This visit is not on this tablet yet. Wait for the next sync, then open it again.", "kiosk"
)
PHOTO_UNREADABLE = Text("That file is not a photo this tablet can read (JPEG or PNG).", "kiosk")
NO_PHOTO = Text("No photo was taken.", "kiosk")
FINISHED = Text("Walk-around {ticket} finished and saved.", "kiosk")

T = TypeVar("T")


class WalkaroundController(WalkaroundWork, EventDispatcher):
    """Opens a visit's walk-around on the tablet and walks the advisor through it.

    ``camera``, ``printer`` and ``work`` default to this machine's camera and printer
    and the app's worker threads; tests pass their own.
    """

    # What the header shows; the screens bind to these.
    # rebind: kv rules read through these (``flow.print_message.render``), see Kivy's
    # ObjectProperty.rebind.
    header = ObjectProperty(None, allownone=True, rebind=True)
    title = StringProperty("")
    step = StringProperty("damage")
    state = StringProperty("unsigned")
    version = NumericProperty(1)
    locked = BooleanProperty(False)
    revision = NumericProperty(0)  # goes up with every change shown
    saved_at = StringProperty("")
    save_failed = BooleanProperty(False)
    busy = BooleanProperty(False)  # a photo is being read
    saving = BooleanProperty(False)  # signed or finished: being saved on a worker thread
    printing = BooleanProperty(False)
    print_message = ObjectProperty(None, allownone=True, rebind=True)
    last_print = ObjectProperty(None, allownone=True, rebind=True)
    deferred_count = NumericProperty(0)  # the car's deferred work, on its tab

    def __init__(
        self,
        manager: ScreenManager,
        *,
        local_store: Callable[[], LocalStore | None],
        advisor: Callable[[], Advisor | None],
        on_closed: Callable[[], None],
        on_saved: Callable[[], None],
        camera: Camera | None = None,
        printer: Printer | None = None,
        work: BackgroundWork | None = None,
        history: Callable[[str], int] | None = None,
    ) -> None:
        super().__init__()
        self.manager = manager
        self.local_store = local_store
        self.advisor = advisor
        self.on_closed = on_closed
        self.on_saved = on_saved
        self.camera = camera
        self.printer = printer
        self._work = work
        # Fetches a car's history from the server and caches it (worker thread); how
        # many records changed (``SyncError`` offline: the cache serves).
        self.history = history
        self.sheet: WalkaroundSheet | None = None
        # The car's deferred work (None: not fetched to this tablet yet).
        self.deferred_items: list[DeferredItem] | None = None
        # After the first change to a signed sheet was confirmed, until it is signed again.
        self._unlocked = False
        self.dialog: SignedSheetDialog | None = None
        self.chooser: PhotoFileChooser | None = None

    # -- the interface the app uses ----------------------------------------------------

    @property
    def in_progress(self) -> bool:
        """A walk-around is open on screen."""
        return self.sheet is not None and self.manager.current in SCREEN_NAMES

    def open(self, visit_id: str) -> None:
        """Show the walk-around of ``visit_id`` (a new sheet, or the one saved before)."""
        if self.saving:
            return  # the last walk-around is still being saved
        store = self.local_store()
        if store is None:
            _toast(NO_STORE)
            return
        visit = store.get("visit", visit_id)
        if visit is None:
            _toast(NO_VISIT)
            return
        if self.sheet is not None:  # another visit's walk-around is open: keep what it has
            self._commit_current()
            if self.sheet.unsaved:
                self._save()
        self.sheet = WalkaroundSheet.open(store, visit_id)
        self.header = visit_header(store, visit_id)
        self._read_deferred(store)
        self.title = _title(self.header)
        self._unlocked = False
        self.saved_at = ""
        self.save_failed = False
        self.print_message = None
        self.last_print = None
        for name in SCREEN_NAMES:
            if self.manager.has_screen(name):
                self.manager.get_screen(name).reset()  # type: ignore[attr-defined]
        if self.sheet.unsaved:
            self._save()  # a new sheet (odometer from the check-in) exists from now on
        self._changed()
        self.show("damage")
        self._fetch_history(visit.get("vehicle_id"))

    # -- moving around -----------------------------------------------------------------

    def screen(self, step: str) -> WalkaroundStepScreen:
        """The screen of ``step``, built now if it was not yet."""
        name = f"walkaround_{step}"
        if not self.manager.has_screen(name):
            load_diagram_kv()
            self.manager.add_widget(STEPS[step](flow=self))
        return self.manager.get_screen(name)  # type: ignore[return-value]

    def show(self, step: str) -> None:
        if self.sheet is None:
            return
        target = self.screen(step)
        self.step = step
        self.manager.current = target.name

    def close(self) -> None:
        """Back to the queue; everything is saved already (what is typed, now)."""
        if self.saving:
            return  # signed or finished and being saved: the screen says so
        self._commit_current()
        if self.asking:
            return  # typed on a signed sheet: the advisor says first whether it changes
        if self.sheet is not None and self.sheet.unsaved:
            self._save()
        self.sheet = None
        self.header = None
        self.on_closed()

    def finish(self, screen: WalkaroundStepScreen) -> None:
        """The customer signed: the walk-around is done, the visit moves on (saved on
        a worker thread; a second tap meanwhile does nothing)."""
        sheet = self.sheet
        if sheet is None or self.saving:
            return
        self._commit_current()
        if self.asking:
            return
        self._in_background(
            sheet.complete,
            lambda moved: self._finished(sheet, moved),
            lambda error: self._not_finished(error, screen),
            name="walkaround-finish",
        )

    def _not_finished(self, error: Exception, screen: WalkaroundStepScreen) -> None:
        if isinstance(error, SheetRefused):
            screen.issues = error.issues
            return
        log.error("the walk-around could not be completed: %r", error)
        self.save_failed = True
        screen.issues = [FieldIssue("walkaround", "not_saved", NOT_SAVED)]

    def _finished(self, sheet: WalkaroundSheet, moved: bool) -> None:
        if self.sheet is not sheet:
            return
        visit_id = sheet.walkaround.visit_id
        log.info("walk-around of %s finished (visit moved on: %s)", visit_id, moved)
        self.on_saved()
        ticket = self.header.ticket_number if self.header else ""
        _toast(replace(FINISHED, params={"ticket": ticket}))
        self.close()

    # -- changing the sheet ------------------------------------------------------------

    def edit(
        self,
        change: Callable[[], T],
        *,
        screen: WalkaroundStepScreen,
        done: Callable[[T], None] | None = None,
        cancelled: Callable[[], None] | None = None,
    ) -> None:
        """Make ``change`` to the sheet and save it; ``done(result)`` after it is saved.

        A refused change shows its messages on ``screen`` and changes nothing. On a sheet
        the customer signed, the advisor is asked first (``cancelled`` if they keep it).
        """
        if self.sheet is None:
            return
        if self.saving:
            screen.refresh()  # signed or finished and being saved: this change waits
            return
        if self.locked:
            self._ask_new_version(lambda: self._apply(change, screen, done), screen, cancelled)
            return
        self._apply(change, screen, done)

    def sign(
        self,
        strokes: list[list[StrokePoint]],
        signer_name: str,
        done: Callable[[list[FieldIssue]], None],
    ) -> None:
        """The customer signed under the summary: bind it to the sheet as it is now,
        saved on a worker thread; ``done(messages)`` after (no messages: saved). A
        second tap meanwhile does nothing; a failed save keeps the sheet and the pad."""
        sheet = self.sheet
        if sheet is None or self.saving:
            return
        self._commit_current(but_not="sign")
        strokes = [list(stroke) for stroke in strokes]

        def signed(_signature: object) -> None:
            if self.sheet is sheet:
                self._unlocked = False
                self._saved()
                self._changed()
            done([])

        def refused(error: Exception) -> None:
            if isinstance(error, SheetRefused):
                done(error.issues)
                return
            log.error("the signature could not be saved: %r", error)
            self.save_failed = True
            done([FieldIssue("signature", "not_saved", NOT_SAVED)])

        self._in_background(
            lambda: sheet.sign(strokes, signer_name), signed, refused, name="walkaround-sign"
        )

    # -- photos ------------------------------------------------------------------------

    def take_photo(self, screen: WalkaroundStepScreen) -> None:
        """A photo from the camera, or from a file where there is no camera."""
        device_camera = self._camera()
        queued = isinstance(device_camera, FileImportCamera) and device_camera.pending > 0
        if device_camera.has_camera or queued:
            device_camera.take_picture(
                lambda path: Clock.schedule_once(lambda _dt: self.add_picture(path, screen))
            )
            return
        self.choose_photo_file(screen)

    def choose_photo_file(self, screen: WalkaroundStepScreen) -> PhotoFileChooser:
        """A file chooser for photos copied to this device (desktops, tablets without camera)."""
        if self.chooser is None:
            self.chooser = PhotoFileChooser()
        self.chooser.ask(lambda path: self.add_picture(path, screen))
        return self.chooser

    def add_picture(self, path: Path | None, screen: WalkaroundStepScreen) -> None:
        """Read the picture on a worker thread, then put it on the sheet."""
        sheet = self.sheet
        if sheet is None:
            return
        if path is None:
            screen.issues = [FieldIssue("photo", "no_photo", NO_PHOTO, severity="warning")]
            return
        self.busy = True
        settings = sheet.photo_settings
        self._worker().run(
            lambda: prepare_photo(path, settings),
            lambda prepared: self._photo_ready(prepared, sheet, screen),
            lambda error: self._photo_failed(error, screen),
            name="walkaround-photo",
        )

    def _photo_ready(
        self, prepared: PreparedPhoto, sheet: WalkaroundSheet, screen: WalkaroundStepScreen
    ) -> None:
        self.busy = False
        if self.sheet is not sheet:
            return  # closed (or another visit opened) while the photo was read
        self.edit(
            lambda: sheet.add_photo(prepared),
            screen=screen,
            done=lambda photo: screen.show_photo(photo.image.sha256),  # type: ignore[attr-defined]
        )

    def _photo_failed(self, error: Exception, screen: WalkaroundStepScreen) -> None:
        self.busy = False
        if isinstance(error, PhotoUnreadable | OSError):
            log.info("photo refused: %s", error)
            screen.issues = [FieldIssue("photo", "unreadable", PHOTO_UNREADABLE)]
            return
        log.error("reading a photo failed: %r", error)
        screen.issues = [FieldIssue("photo", "unreadable", PHOTO_UNREADABLE)]

    # -- what the header and the screens show ------------------------------------------

    def concern(self, lang: str, header: VisitHeader | None = None) -> str:
        header = header or self.header
        return header.concern(lang) if header is not None else ""

    @property
    def asking(self) -> bool:
        """The "change the signed sheet?" question is open."""
        return self.dialog is not None and self.dialog.shown

    @property
    def has_camera(self) -> bool:
        """Whether photos come from a camera here (else from files)."""
        return self._camera().has_camera

    def photo_file(self, sha256: str) -> Path | None:
        store = self.local_store()
        return store.blob_file(sha256) if store is not None else None

    # -- inside ------------------------------------------------------------------------

    def _apply(
        self,
        change: Callable[[], T],
        screen: WalkaroundStepScreen,
        done: Callable[[T], None] | None,
    ) -> None:
        try:
            result = change()
        except SheetRefused as refused:
            screen.issues = refused.issues
            return
        if not self._save():
            screen.issues = [FieldIssue("walkaround", "not_saved", NOT_SAVED)]
            self._changed()
            return
        warnings = (
            [issue for issue in result if isinstance(issue, FieldIssue)]
            if isinstance(result, list)
            else []
        )
        screen.issues = warnings
        self.print_message = self.last_print = None  # a sheet printed before is out of date
        self._changed()
        if done is not None:
            done(result)

    def _save(self) -> bool:
        """``WalkaroundSheet.save``, then ask the sync to send it; False if the disk refused."""
        assert self.sheet is not None
        try:
            self.sheet.save()
        except (OSError, sqlite3.Error, ValueError):
            log.exception("the walk-around could not be saved")
            self.save_failed = True
            return False
        self._saved()
        return True

    def _saved(self) -> None:
        self.save_failed = False
        zone = str(getattr(App.get_running_app(), "shop_timezone", "") or "")
        self.saved_at = shop_time_text(datetime.now(UTC), zone_or_local(zone), "%H:%M:%S")
        self.on_saved()

    def _changed(self) -> None:
        sheet = self.sheet
        if sheet is None:
            return
        self.state = sheet.signature_state.value
        self.version = sheet.walkaround.version
        self.locked = sheet.is_signed and not self._unlocked
        self.revision += 1
        current = self.manager.current
        if current in SCREEN_NAMES and self.manager.has_screen(current):
            self.manager.get_screen(current).refresh()  # type: ignore[attr-defined]

    def _ask_new_version(
        self,
        change: Callable[[], None],
        screen: WalkaroundStepScreen,
        cancelled: Callable[[], None] | None,
    ) -> None:
        assert self.sheet is not None
        if self.asking:
            return  # the open question covers it (a field left, then "back", say)
        if self.dialog is None:
            self.dialog = SignedSheetDialog()

        sheet = self.sheet

        def go_ahead() -> None:
            if self.sheet is not sheet:
                return  # that walk-around is not open any more
            self._unlocked = True
            self.locked = False
            change()

        def keep() -> None:
            if cancelled is not None:
                cancelled()
            screen.refresh()  # a drag let go on a locked sheet goes back where it was

        self.dialog.ask(self.sheet.walkaround.version + 1, go_ahead, keep)

    def _commit_current(self, but_not: str = "") -> None:
        current = self.manager.current
        if current in SCREEN_NAMES and current != f"walkaround_{but_not}":
            self.manager.get_screen(current).commit()  # type: ignore[attr-defined]


def _title(header: VisitHeader) -> str:
    parts = [header.ticket_number, header.plate, header.first_name, header.car]
    return " · ".join(part for part in parts if part)


def _toast(message: Text) -> None:
    app: Any = App.get_running_app()
    toast = getattr(app, "toast", None)
    if toast is not None:
        toast.show(message)
