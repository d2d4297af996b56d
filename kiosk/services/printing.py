"""The check-in sheet (接车单) printed from the advisor tablet, with or without the server.

The tablet draws the same PDF as the server (``shared.checkin_sheet``) from its own
records — the visit, customer and car it pulled, the walk-around and signature it
saved — so the customer gets their copy even while the shop's Wi-Fi is down. The file
is kept in ``DATA_DIR/sheets/`` (written atomically) and handed to the system printer.

The printer sits behind a plyer-style facade: :meth:`Printer.print_file` calls the
private ``_print_file`` of a backend. :class:`LpPrinter` uses CUPS's ``lp`` (Linux,
macOS; also what a print server for Android tablets offers); :class:`NoPrinter` is the
dummy for devices without one: the sheet is only saved, and the screen says where.
:func:`printer` picks the backend for this machine. No Kivy here.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from kiosk.services.local_store import LocalStore
from kiosk.services.photos import PhotoUnreadable, make_thumbnail
from kiosk.services.walkaround import WalkaroundSheet, visit_header
from shared.atomic_file import write_atomically
from shared.checkin_sheet import SheetContent, render_sheet_pdf
from shared.checkin_words import SHEET_WORDS, sheet_labels
from shared.domain import Consent
from shared.shop_time import zone_or_local
from shared.wire import WireError, from_wire

log = logging.getLogger(__name__)

SHEETS_DIR = "sheets"
# Photos on the sheet are 44 mm wide: 480 px is about 280 dpi, sharp on paper.
SHEET_PHOTO_EDGE = 480
LP_TIMEOUT_S = 30.0

# -- what goes on the sheet --------------------------------------------------------------


def sheet_content(
    store: LocalStore,
    visit_id: str,
    shop_name: str,
    *,
    shop_contact: str = "",
    timezone: tzinfo | None = None,
) -> SheetContent:
    """The visit's sheet as this tablet holds it now (everything read from ``store``)."""
    header = visit_header(store, visit_id)
    visit = store.get("visit", visit_id) or {}
    customer = store.get("customer", str(visit.get("customer_id", ""))) or {}
    vehicle = store.get("vehicle", str(visit.get("vehicle_id", ""))) or {}
    recorded = bool(store.find("walkaround", visit_id=visit_id))
    sheet = WalkaroundSheet.open(store, visit_id) if recorded else None
    consent = _latest_consent(store, visit_id)
    signature = None
    state = "unsigned"
    signature_image: str | None = None
    if sheet is not None:
        # Put together as the server puts it together (shared.walkaround_report): marks
        # in the order they were drawn, photos in the order they were taken.
        state = sheet.signature_state.value
        signature = sheet.latest_signature
    if signature is not None and signature.image is not None:
        path = store.blob_file(signature.image.sha256)
        signature_image = str(path) if path.exists() else None

    def photo_image(sha256: str) -> io.BytesIO | None:
        path = store.blob_file(sha256)
        try:
            return io.BytesIO(make_thumbnail(path, SHEET_PHOTO_EDGE))
        except PhotoUnreadable:
            log.warning("photo %s is not readable on this tablet", sha256[:12])
            return None

    checked_in_at = _time(visit.get("checked_in_at"))
    return SheetContent(
        shop_name=shop_name,
        shop_contact=shop_contact,
        ticket_number=header.ticket_number,
        checked_in_at=checked_in_at,
        customer_name=header.customer_name,
        customer_phone=str(customer.get("phone", "") or ""),
        plate=str(vehicle.get("plate", "") or ""),
        car=header.car,
        vin=str(vehicle.get("vin", "") or ""),
        concern_codes=header.concern_codes,
        concern_text=header.concern_text,
        walkaround=sheet.walkaround if sheet is not None else None,
        photos=list(sheet.photos) if sheet is not None else [],
        earlier_marks=[item.mark for item in sheet.earlier] if sheet is not None else [],
        signature=signature,
        state=state,  # type: ignore[arg-type]
        consent_version=consent.text_version if consent is not None else "",
        consent_accepted_at=consent.accepted_at if consent is not None else None,
        timezone=timezone or _local_zone(),
        photo_image=photo_image,
        signature_image=signature_image,
    )


def render_tablet_sheet(
    store: LocalStore, visit_id: str, lang: str, shop_name: str, shop_timezone: str = ""
) -> bytes:
    """The check-in sheet PDF of ``visit_id`` in ``lang``, from this tablet's records,
    its times on the shop's clock (``shop_timezone``), as the back office prints them."""
    content = sheet_content(store, visit_id, shop_name, timezone=zone_or_local(shop_timezone))
    return render_sheet_pdf(content, sheet_labels(lang), lang)


# -- printers ----------------------------------------------------------------------------


class PrintFailed(RuntimeError):
    """The printer did not take the job (``lp`` said why)."""


class Printer:
    """Facade: ``print_file(path, title)`` hands a PDF to a printer; returns the job."""

    #: Whether this backend reaches a printer (else the sheet is only saved).
    has_printer = False

    def print_file(self, path: str | os.PathLike[str], title: str = "") -> str:
        return self._print_file(Path(path), title)

    def _print_file(self, path: Path, title: str) -> str:
        raise NotImplementedError


class NoPrinter(Printer):
    """No printer on this device: nothing is printed (the sheet stays saved)."""

    def _print_file(self, path: Path, title: str) -> str:
        raise PrintFailed("no printer on this device")


class LpPrinter(Printer):
    """The system printer through CUPS's ``lp`` (the default one, or ``destination``)."""

    has_printer = True

    def __init__(self, command: str | Sequence[str] = "lp", destination: str | None = None) -> None:
        self.command = [command] if isinstance(command, str) else list(command)
        self.destination = destination

    def _print_file(self, path: Path, title: str) -> str:
        args = [*self.command]
        if self.destination:
            args += ["-d", self.destination]
        if title:
            args += ["-t", title]
        args += ["--", str(path)]
        try:
            done = subprocess.run(
                args, capture_output=True, text=True, timeout=LP_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PrintFailed(str(error)) from None
        if done.returncode != 0:
            raise PrintFailed((done.stderr or done.stdout).strip() or f"lp exit {done.returncode}")
        return done.stdout.strip()


def printer(destination: str | None = None) -> Printer:
    """The printer backend for this machine: ``lp`` where CUPS is installed, else none."""
    command = shutil.which("lp")
    if command is None:
        return NoPrinter()
    return LpPrinter(command, destination)


# -- print = render, keep, hand over -----------------------------------------------------


@dataclass(frozen=True)
class PrintOutcome:
    """What happened: where the PDF is kept, and whether a printer took it."""

    path: Path
    printed: bool
    job: str = ""
    error: str = ""


def print_checkin_sheet(
    store: LocalStore,
    visit_id: str,
    lang: str,
    *,
    shop_name: str,
    folder: str | os.PathLike[str],
    device_printer: Printer,
    shop_timezone: str = "",
) -> PrintOutcome:
    """Render the sheet from local records, keep it in ``folder``, print it if possible.

    The file is written before the printer is asked, so the sheet is never lost to a
    printer error; the outcome says which happened.
    """
    pdf = render_tablet_sheet(store, visit_id, lang, shop_name, shop_timezone)
    ticket = visit_header(store, visit_id).ticket_number or visit_id[:8]
    name = f"checkin-sheet-{_safe(ticket)}-{lang}.pdf"
    path = write_atomically(Path(folder) / name, pdf)
    if not device_printer.has_printer:
        return PrintOutcome(path, printed=False)
    title = f"{SHEET_WORDS['title'].render(lang)} {ticket}"
    try:
        job = device_printer.print_file(path, title)
    except PrintFailed as error:
        log.warning("the check-in sheet %s was not printed: %s", path.name, error)
        return PrintOutcome(path, printed=False, error=str(error))
    log.info("check-in sheet %s sent to the printer: %s", path.name, job)
    return PrintOutcome(path, printed=True, job=job)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "visit"


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _local_zone() -> tzinfo:
    """The tablet's own time zone (it stands in the shop)."""
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None  # astimezone() always sets one
    return zone


def _latest_consent(store: LocalStore, visit_id: str) -> Consent | None:
    consents = []
    for fields in store.find("consent", visit_id=visit_id):
        try:
            consents.append(from_wire("consent", fields))
        except WireError:
            continue
    return max(consents, key=lambda c: c.accepted_at) if consents else None
