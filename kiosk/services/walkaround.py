"""The advisor's walk-around (环车检查) of one visit, on the tablet: the check-in sheet.

:class:`WalkaroundSheet` is the working state behind the walk-around screens: odometer,
fuel, warning lights, belongings, notes, tyre tread, damage marks on the car diagram,
photos pinned to marks, and the customer's signature under a summary. No Kivy here; the
screens call these methods and show what they return.

How it is kept (docs/sync.md):

* The walk-around record carries its own fields only. Each damage mark and each photo
  is a record of its own (``damage_mark`` with ``walkaround_id``, ``photo`` with
  ``visit_id`` and ``walkaround_id``), so two tablets' marks merge by union. A mark
  taken back is kept with ``deleted: true`` (a tombstone).
* :meth:`WalkaroundSheet.save` writes every changed record in one transaction
  (``LocalStore.save_many``), the walk-around before its marks and photos, each photo's
  file (and a signature's picture) already in the blob store.
* The signature is bound to the report: ``signed_sha256`` is
  ``Walkaround.report_sha256()`` of exactly what the customer saw. Any edit after the
  customer signed raises the sheet's ``version`` first, so the old signature visibly no
  longer covers it and the customer is asked to sign the new version.
* Damage recorded at earlier visits of the same car is loaded from the records the
  tablet pulled, as :class:`EarlierMark`, for the diagram to show differently. It is not
  part of this sheet unless the advisor carries it over (:meth:`carry_over`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from kiosk.services.local_store import LocalStore, RecordChange
from kiosk.services.local_store.blobs import UnfinishedSave
from kiosk.services.photos import (
    DEFAULT_SETTINGS,
    PhotoSettings,
)
from kiosk.services.signature_image import IMAGE_HEIGHT, IMAGE_WIDTH, render_signature_png

# Names the screens and the tests import from here; each is defined once elsewhere.
from kiosk.services.walkaround_marks import MarksAndPhotos, SheetRefused, record_fields, refuse
from kiosk.services.walkaround_summary import SummaryLine, TreadDepth, sheet_summary
from kiosk.services.walkaround_visit import (
    EarlierMark,
    VisitHeader,
    earlier_damage,
    read_records,
    signed_sheet_states,
    visit_header,
)
from shared.checkin_words import BELONGINGS, TYRES, WARNING_LIGHTS
from shared.domain import (
    TYRE_POSITIONS,
    DamageMark,
    DiagramView,
    ImageType,
    PhotoPin,
    PhotoRef,
    Signature,
    SignaturePurpose,
    StrokePoint,
    VisitPhoto,
    Walkaround,
    utcnow,
)
from shared.i18n import Text
from shared.validation import FieldIssue, check_mileage
from shared.visit_status import VisitStatus
from shared.walkaround_report import (
    SignatureState,
    WalkaroundReport,
    assemble,
    newest,
    signature_state,
)

__all__ = [
    "BELONGINGS",
    "TYRES",
    "WARNING_LIGHTS",
    "EarlierMark",
    "SheetRefused",
    "SignatureState",
    "SummaryLine",
    "TreadDepth",
    "VisitHeader",
    "WalkaroundSheet",
    "signature_state",
    "signed_sheet_states",
    "visit_header",
]

TOO_LITTLE_INK = Text("Please sign with your name; a dot or a tap is not enough.", "kiosk")
UNKNOWN_LIGHT = Text("Unknown warning light.", "kiosk")
BAD_FUEL = Text("The fuel level is given in eighths, from 0 (empty) to 8 (full).", "kiosk")
BAD_TREAD = Text("Tread depth is between 0 and 30 mm.", "kiosk")
NOT_A_DEPTH = Text("Type the tread depth in millimetres as a number, e.g. 3.5.", "kiosk")
BAD_KEYS = Text("The number of keys cannot be negative.", "kiosk")
NOT_SIGNED = Text(
    "The customer has not signed this version of the sheet yet: ask them to sign first.",
    "kiosk",
)


class WalkaroundSheet(MarksAndPhotos):
    """The walk-around of ``visit_id`` being filled in on this tablet.

    Open it with :meth:`open` (it loads what this tablet has for the visit: an earlier
    save, another tablet's marks pulled from the server, earlier visits' damage).
    """

    def __init__(
        self,
        store: LocalStore,
        walkaround: Walkaround,
        *,
        photos: Sequence[VisitPhoto] = (),
        signatures: Sequence[Signature] = (),
        earlier: Sequence[EarlierMark] = (),
        previous_km: int | None = None,
        photo_settings: PhotoSettings = DEFAULT_SETTINGS,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.walkaround = walkaround
        self.photos: list[VisitPhoto] = list(photos)
        self.signatures: list[Signature] = list(signatures)
        self.earlier: list[EarlierMark] = list(earlier)
        self.previous_km = previous_km
        self.photo_settings = photo_settings
        self._now = now
        # Everything a mark ever was on this sheet, tombstones included, by id.
        self._all_marks: dict[str, DamageMark] = {mark.id: mark for mark in walkaround.marks}
        self._refresh_marks()
        self._dirty: dict[tuple[str, str], dict[str, Any]] = {}
        # The mileage the customer typed at the kiosk, if any (compared, never kept here).
        self.kiosk_km: int | None = None
        self._blob_refs: dict[tuple[str, str], list[str]] = {}
        self._holding: UnfinishedSave | None = None

    # -- opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, store: LocalStore, visit_id: str, **options: Any) -> WalkaroundSheet:
        """The sheet of ``visit_id`` as this tablet knows it (a new one if there is none),
        put together from its records as the server does (``shared.walkaround_report``)."""
        stored = read_records("walkaround", store.find("walkaround", visit_id=visit_id))
        fresh = not stored
        walkaround = newest(stored) or Walkaround(visit_id=visit_id)
        report = assemble(
            visit_id,
            [walkaround],
            read_records("damage_mark", store.find("damage_mark", walkaround_id=walkaround.id)),
            read_records("photo", store.find("photo", visit_id=visit_id)),
            read_records("signature", store.find("signature", visit_id=visit_id)),
        )
        visit = store.get("visit", visit_id) or {}
        earlier, previous_km = earlier_damage(store, visit_id, visit.get("vehicle_id"))
        sheet = cls(
            store,
            walkaround,
            photos=report.photos,
            signatures=report.signatures,
            earlier=earlier,
            previous_km=previous_km,
            **options,
        )
        if isinstance(visit.get("mileage_in_km"), int):
            sheet.kiosk_km = visit["mileage_in_km"]
        if fresh:
            if sheet.kiosk_km is not None:
                sheet.walkaround.odometer_km = sheet.kiosk_km
            sheet._touch_walkaround(*record_fields(sheet.walkaround).keys())
        return sheet

    # -- what the screens show ---------------------------------------------------------

    @property
    def marks(self) -> list[DamageMark]:
        """This sheet's damage marks (not the ones taken back), oldest first."""
        return list(self.walkaround.marks)

    def marks_on(self, view: DiagramView | str) -> list[DamageMark]:
        return [mark for mark in self.walkaround.marks if mark.view == DiagramView(view)]

    def reload_history(self) -> None:
        """Read the earlier visits' damage and odometer again (the car's history came)."""
        visit = self.store.get("visit", self.walkaround.visit_id) or {}
        self.earlier, self.previous_km = earlier_damage(
            self.store, self.walkaround.visit_id, visit.get("vehicle_id")
        )

    def earlier_on(self, view: DiagramView | str) -> list[EarlierMark]:
        return [item for item in self.earlier if item.mark.view == DiagramView(view)]

    def report_sha256(self) -> str:
        return self.walkaround.report_sha256()

    @property
    def signature_state(self) -> SignatureState:
        return signature_state(self.walkaround, self.signatures)

    @property
    def latest_signature(self) -> Signature | None:
        """The customer's latest check-in sheet signature on this visit, if any."""
        return WalkaroundReport(
            self.walkaround.visit_id, self.walkaround, self.photos, self.signatures
        ).latest_signature

    @property
    def is_signed(self) -> bool:
        return self.signature_state == SignatureState.signed_unchanged

    def photos_waiting_to_upload(self) -> set[str]:
        """Hashes of this sheet's photos not on the server yet (the screen shows a clock)."""
        waiting = {blob.sha256 for blob in self.store.pending_blobs()}
        return {photo.image.sha256 for photo in self.photos} & waiting

    @property
    def unsaved(self) -> bool:
        return bool(self._dirty)

    def summary(self) -> list[SummaryLine]:
        """What the customer reads above the signature pad, line by line."""
        return sheet_summary(self.walkaround, len(self.photos))

    def photo(self, sha256: str) -> VisitPhoto | None:
        return next((photo for photo in self.photos if photo.image.sha256 == sha256), None)

    def pins_on(self, sha256: str) -> list[tuple[DamageMark, PhotoPin]]:
        """The marks pinned to a photo, each with where on the photo its damage is."""
        return [
            (mark, pin) for mark in self.walkaround.marks for pin in mark.pins
            if pin.photo_sha256 == sha256
        ]  # fmt: skip

    # -- the car's state ---------------------------------------------------------------

    @property
    def odometer_difference(self) -> int | None:
        """The walk-around's reading minus what the customer typed at the kiosk, when
        both are there and differ (the walk-around's reading is the one kept)."""
        reading = self.walkaround.odometer_km
        if reading is None or self.kiosk_km is None or reading == self.kiosk_km:
            return None
        return reading - self.kiosk_km

    def set_odometer(self, raw: int | str | None) -> list[FieldIssue]:
        """Take the odometer reading; returns warnings (lower than last time, say)."""
        checked = check_mileage(raw, self.previous_km, field="odometer_km")
        if not checked.ok:
            raise SheetRefused(checked.errors)
        self._edit("odometer_km", checked.value)
        return list(checked.warnings)

    def set_fuel(self, eighths: int | None) -> None:
        if eighths is not None and not (isinstance(eighths, int) and 0 <= eighths <= 8):
            raise refuse("fuel_eighths", "out_of_range", BAD_FUEL)
        self._edit("fuel_eighths", eighths)

    def set_warning_lights(self, codes: Iterable[str]) -> None:
        chosen = sorted(set(codes))
        for code in chosen:
            if code not in WARNING_LIGHTS:
                raise refuse("warning_lights", "unknown_value", UNKNOWN_LIGHT)
        self._edit("warning_lights", chosen)

    def set_belongings(self, **items: bool | int | str) -> None:
        """Tick items: ``spare_wheel``, ``jack``, ``documents``, ``valuables``,
        ``child_seat`` (bool), ``keys_count`` (int), ``other_note`` (text)."""
        if int(items.get("keys_count", 0)) < 0:
            raise refuse("belongings.keys_count", "out_of_range", BAD_KEYS)
        self._edit("belongings", replace(self.walkaround.belongings, **items))  # type: ignore[arg-type]

    def set_notes(self, *, exterior: str | None = None, interior: str | None = None) -> None:
        if exterior is not None:
            self._edit("exterior_notes", exterior.strip())
        if interior is not None:
            self._edit("interior_notes", interior.strip())

    def set_tyre_tread(self, position: str, depth_mm: float | str | None) -> None:
        """Tread depth of one tyre in mm (typed text is read too; empty: not measured)."""
        if position not in TYRE_POSITIONS:
            raise refuse("tyre_tread_mm", "unknown_value", BAD_TREAD)
        if isinstance(depth_mm, str):
            typed = depth_mm.strip().replace(",", ".").removesuffix("mm").strip()
            try:
                depth_mm = float(typed) if typed else None
            except ValueError:
                raise refuse("tyre_tread_mm", "not_a_number", NOT_A_DEPTH) from None
        if depth_mm is not None and not math.isfinite(depth_mm):
            raise refuse("tyre_tread_mm", "not_a_number", NOT_A_DEPTH)
        tread = dict(self.walkaround.tyre_tread_mm)
        if depth_mm is None:
            tread.pop(position, None)
        elif 0 <= depth_mm <= 30:
            tread[position] = round(float(depth_mm), 1)
        else:
            raise refuse("tyre_tread_mm", "out_of_range", BAD_TREAD)
        self._edit("tyre_tread_mm", tread)

    # -- the customer's signature ------------------------------------------------------

    def sign(self, strokes: Sequence[Sequence[StrokePoint]], signer_name: str = "") -> Signature:
        """The customer signed under the summary: bind the signature to this very sheet.

        Saves the sheet first (what is signed is on disk), then the signature with its
        PNG, in the blob store before the record that refers to it.
        """
        signature = Signature(
            visit_id=self.walkaround.visit_id,
            purpose=SignaturePurpose.checkin_sheet,
            strokes=[list(stroke) for stroke in strokes],
            signed_sha256=self.walkaround.report_sha256(),
            signer_name=signer_name.strip(),
            signed_at=self._now(),
        )
        if not signature.has_enough_ink():
            raise refuse("signature", "too_little_ink", TOO_LITTLE_INK)
        png = render_signature_png(signature.strokes)
        self._hold_photos()
        blob = self.store.put_blob(png, ImageType.png.value)
        signature.image = PhotoRef(
            sha256=blob.sha256,
            size_bytes=blob.size,
            content_type=ImageType.png,
            width=IMAGE_WIDTH,
            height=IMAGE_HEIGHT,
        )
        # The sheet as signed and the signature: one transaction.
        self.save(
            extra=[RecordChange("signature", signature.id, record_fields(signature), [blob.sha256])]
        )
        self.signatures.append(signature)
        return signature

    def complete(self) -> bool:
        """The walk-around is done: move the visit on to "walk-around done".

        Only a sheet the customer signed as it is now completes it (else
        :class:`SheetRefused`). Returns False when the visit had moved on already (a
        second tablet, or the desk), True when this tablet moved it.
        """
        visit = self.store.get("visit", self.walkaround.visit_id) or {}
        if not self.is_signed or visit.get("status") != VisitStatus.checked_in.value:
            self.save()
            if not self.is_signed:
                raise refuse("signature", "not_signed", NOT_SIGNED)
            return False
        done = {"status": VisitStatus.walkaround_done.value}
        self.save(extra=[RecordChange("visit", self.walkaround.visit_id, done)])
        return True

    # -- keeping it --------------------------------------------------------------------

    def save(self, extra: Sequence[RecordChange] = ()) -> int:
        """Write every changed record durably (queued for the server); returns how many.

        **One** transaction: the walk-around first, then photos, then marks (whose pins
        name photos), then ``extra`` (a signature): after a crash either all of it is
        on the tablet with its outbox entries, or none of it and the sheet still holds
        the edits.
        """
        order = {"walkaround": 0, "photo": 1, "damage_mark": 2}
        changes = [
            RecordChange(kind, record_id, self._dirty[(kind, record_id)],
                         self._blob_refs.get((kind, record_id), ()))
            for kind, record_id in sorted(self._dirty, key=lambda item: order.get(item[0], 3))
        ]  # fmt: skip
        changes += extra
        self.store.save_many(changes)
        self._dirty.clear()
        self._blob_refs.clear()
        if self._holding is not None:
            self._holding.end()  # every photo taken is referred to by a saved record now
            self._holding = None
        return len(changes)

    def _hold_photos(self) -> None:
        """A photo is about to be kept before its record is saved: keep it safe from
        ``LocalStore.remove_leftovers`` until :meth:`save`."""
        if self._holding is None:
            self._holding = self.store.unfinished_save()

    # -- inside ------------------------------------------------------------------------

    def _before_edit(self) -> None:
        """An edit of a signed sheet starts its next version, to be signed again."""
        if self.is_signed:
            self.walkaround.version += 1
            self._touch_walkaround("version")

    def _edit(self, name: str, value: Any) -> None:
        if getattr(self.walkaround, name) == value:
            return
        self._before_edit()
        setattr(self.walkaround, name, value)
        self._touch_walkaround(name)

    def _touch_walkaround(self, *names: str) -> None:
        fields = record_fields(self.walkaround)
        entry = self._dirty.setdefault(("walkaround", self.walkaround.id), {})
        for name in names:
            if name not in ("marks", "photos", "id"):
                entry[name] = fields[name]

    def _touch_mark(self, mark: DamageMark, *names: str) -> None:
        fields = record_fields(mark)
        key = ("damage_mark", mark.id)
        entry = self._dirty.setdefault(key, {})
        for name in names:
            if name != "id":
                entry[name] = fields[name]
        self._blob_refs[key] = sorted({pin.photo_sha256 for pin in mark.pins})

    def _refresh_marks(self) -> None:
        self.walkaround.marks = [mark for mark in self._all_marks.values() if not mark.deleted]
