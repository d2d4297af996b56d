"""What the walk-around controller does off the UI thread: its saves that the customer
waits for (signed, finished), the car's history fetched when a sheet opens, and the
printed sheet; and the camera, printer and worker threads it uses.

A mixin of :class:`kiosk.ui.walkaround_flow.WalkaroundController` (which holds the
state these read: ``sheet``, ``saving``, ``printing`` …).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from kivy.app import App

from kiosk.services.camera import Camera, camera
from kiosk.services.deferred_work import DeferredItem, read_deferred_work
from kiosk.services.printing import Printer, PrintOutcome, print_checkin_sheet, printer
from kiosk.services.walkaround import WalkaroundSheet
from kiosk.ui.background import BackgroundWork
from shared.i18n import Text

log = logging.getLogger(__name__)

PRINTED = Text("The check-in sheet went to the printer. It is also kept at {path}", "kiosk")
SAVED_ONLY = Text("No printer on this tablet: the check-in sheet is saved at {path}", "kiosk")
PRINT_FAILED = Text("The printer did not take the sheet ({error}). It is saved at {path}", "kiosk")
NOT_RENDERED = Text("The check-in sheet could not be made: {error}", "kiosk")

T = TypeVar("T")


class WalkaroundWork:
    """Work off the UI thread for the walk-around controller (see the module)."""

    sheet: WalkaroundSheet | None
    deferred_items: list[DeferredItem] | None
    deferred_count: int
    history: Callable[[str], int] | None
    camera: Camera | None
    printer: Printer | None
    _work: BackgroundWork | None
    saving: bool
    printing: bool
    print_message: Text | None
    last_print: PrintOutcome | None
    local_store: Callable[[], Any]

    def _fetch_history(self, vehicle_id: object) -> None:
        """The car's earlier visits from the server, in the background: the sheet shows
        what this tablet has now, and the rest once it comes (offline, the cache)."""
        fetch, sheet = self.history, self.sheet
        if fetch is None or sheet is None or not isinstance(vehicle_id, str) or not vehicle_id:
            return
        self._worker().run(
            lambda: fetch(vehicle_id),
            lambda changed: self._history_came(sheet, changed),
            lambda error: log.info("History of car %s not fetched: %r", vehicle_id, error),
            name="car-history",
        )

    def _history_came(self, sheet: WalkaroundSheet, changed: int) -> None:
        if self.sheet is not sheet or not changed or self.saving:
            return
        try:
            sheet.reload_history()
            self._read_deferred(self.local_store())
        except (OSError, sqlite3.Error, ValueError):
            log.exception("the car's history could not be read")
            return
        self._changed()

    def _read_deferred(self, store: Any) -> None:
        """The open car's deferred work as this tablet last fetched it (memory-sized:
        one meta row)."""
        visit = store.get("visit", self.sheet.walkaround.visit_id) if store and self.sheet else None
        vehicle_id = visit.get("vehicle_id") if visit else None
        cached = store.cached_deferred_work(vehicle_id) if store and vehicle_id else None
        self.deferred_items = None if cached is None else read_deferred_work(cached)
        self.deferred_count = len(self.deferred_items or [])

    def _in_background(
        self,
        save: Callable[[], T],
        done: Callable[[T], None],
        failed: Callable[[Exception], None],
        name: str,
    ) -> None:
        """Run a save of the sheet on a worker thread, ``saving`` meanwhile (no change
        to the sheet is taken until it is done); ``done``/``failed`` on the UI thread."""
        self.saving = True

        def finished(result: T) -> None:
            self.saving = False
            done(result)

        def not_finished(error: Exception) -> None:
            self.saving = False
            failed(error)

        self._worker().run(save, finished, not_finished, name=name)

    # -- the printed sheet -------------------------------------------------------------

    def print_sheet(self, lang: str) -> None:
        """Draw the check-in sheet from this tablet's records, keep it, print it."""
        sheet, store = self.sheet, self.local_store()
        if sheet is None or store is None or self.printing:
            return
        self._commit_current()
        if self.asking:
            return
        if sheet.unsaved:
            self._save()
        app: Any = App.get_running_app()
        shop_name = str(getattr(app, "shop_name", "") or "")
        shop_timezone = str(getattr(app, "shop_timezone", "") or "")
        folder = store.data_dir / "sheets"
        visit_id = sheet.walkaround.visit_id
        device_printer = self._printer()
        self.printing = True
        self.print_message = None
        self._worker().run(
            lambda: print_checkin_sheet(
                store,
                visit_id,
                lang,
                shop_name=shop_name,
                folder=folder,
                device_printer=device_printer,
                shop_timezone=shop_timezone,
            ),
            self._printed,
            self._print_failed,
            name="walkaround-print",
        )

    def _printed(self, outcome: PrintOutcome) -> None:
        self.printing = False
        self.last_print = outcome
        path = str(outcome.path)
        if outcome.printed:
            self.print_message = replace(PRINTED, params={"path": path})
        elif outcome.error:
            params = {"path": path, "error": outcome.error}
            self.print_message = replace(PRINT_FAILED, params=params)
        else:
            self.print_message = replace(SAVED_ONLY, params={"path": path})

    def _print_failed(self, error: Exception) -> None:
        self.printing = False
        log.error("the check-in sheet could not be drawn: %r", error)
        self.print_message = replace(NOT_RENDERED, params={"error": str(error)})

    def _camera(self) -> Camera:
        if self.camera is None:
            self.camera = camera()
        return self.camera

    def _printer(self) -> Printer:
        if self.printer is None:
            self.printer = printer()
        return self.printer

    def _worker(self) -> BackgroundWork:
        if self._work is None:
            app: Any = App.get_running_app()
            self._work = getattr(app, "work", None) or BackgroundWork()
        return self._work
