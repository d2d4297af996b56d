"""The damage marks and photos of a walk-around sheet: where and what, and the pins.

:class:`MarksAndPhotos` is a part of ``kiosk.services.walkaround.WalkaroundSheet``:
adding, moving, editing and taking back damage marks on the car diagram, carrying
damage over from an earlier visit, and taking photos and pinning them to marks. Every
edit of a signed sheet starts its next version first (``_before_edit``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from kiosk.services.local_store import LocalStore
from kiosk.services.local_store.blobs import UnfinishedSave
from kiosk.services.photos import (
    PhotoSettings,
    PreparedPhoto,
    StoredPhoto,
    store_photo,
    take_photo_into,
)
from kiosk.services.walkaround_visit import EarlierMark
from shared.domain import DamageMark, DamageType, DiagramView, PhotoPin, VisitPhoto, Walkaround
from shared.i18n import Text
from shared.validation import FieldIssue
from shared.wire import to_wire

NOT_FOUND = Text("This damage mark is not on the sheet any more.", "kiosk")
BAD_SPOT = Text("The spot must be on the drawing or the photo.", "kiosk")
BAD_SEVERITY = Text("The grade is 1 (light), 2 (clearly visible) or 3 (severe).", "kiosk")


class SheetRefused(ValueError):
    """An edit the sheet cannot take; ``issues`` says why, in both languages."""

    def __init__(self, issues: Sequence[FieldIssue]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(f"{i.field}: {i.message.render('en')}" for i in self.issues))


def refuse(field: str, code: str, message: Text) -> SheetRefused:
    """The refusal of one edit, naming the field and saying why."""
    return SheetRefused([FieldIssue(field=field, code=code, message=message)])


def record_fields(record: Any) -> dict[str, Any]:
    """A record's fields as a change carries them (its id is the change's own member)."""
    data = to_wire(record)
    data.pop("id", None)
    return data


class MarksAndPhotos:
    """Marks and photos of the sheet (see the module docstring)."""

    # Kept by WalkaroundSheet.
    store: LocalStore
    walkaround: Walkaround
    photos: list[VisitPhoto]
    photo_settings: PhotoSettings
    _now: Callable[[], datetime]
    _all_marks: dict[str, DamageMark]
    _dirty: dict[tuple[str, str], dict[str, Any]]
    _blob_refs: dict[tuple[str, str], list[str]]
    _holding: UnfinishedSave | None

    def _before_edit(self) -> None:
        raise NotImplementedError

    def _hold_photos(self) -> None:
        raise NotImplementedError

    def _touch_mark(self, mark: DamageMark, *names: str) -> None:
        raise NotImplementedError

    def _refresh_marks(self) -> None:
        raise NotImplementedError

    def mark(self, mark_id: str) -> DamageMark:
        mark = self._all_marks.get(mark_id)
        if mark is None or mark.deleted:
            raise refuse("marks", "mark_unknown", NOT_FOUND)
        return mark

    # -- damage marks ------------------------------------------------------------------

    def add_mark(
        self,
        view: DiagramView | str,
        x: float,
        y: float,
        damage_type: DamageType | str,
        severity: int = 1,
        note: str = "",
    ) -> DamageMark:
        """A new mark where the advisor tapped the drawing (x, y: 0..1, y down)."""
        _check_spot(x, y)
        _check_severity(severity)
        self._before_edit()
        mark = DamageMark(
            walkaround_id=self.walkaround.id,
            view=DiagramView(view),
            x=_spot(x),
            y=_spot(y),
            damage_type=DamageType(damage_type),
            severity=severity,
            note=note.strip(),
            created_at=self._now(),
        )
        self._all_marks[mark.id] = mark
        self._refresh_marks()
        self._touch_mark(mark, *record_fields(mark).keys())
        return mark

    def move_mark(self, mark_id: str, x: float, y: float) -> DamageMark:
        """Put a mark somewhere else on its drawing (the end of a drag)."""
        mark = self.mark(mark_id)
        _check_spot(x, y)
        if (_spot(x), _spot(y)) == (mark.x, mark.y):
            return mark
        self._before_edit()
        mark.x, mark.y = _spot(x), _spot(y)
        self._touch_mark(mark, "x", "y")
        return mark

    def edit_mark(
        self,
        mark_id: str,
        *,
        damage_type: DamageType | str | None = None,
        severity: int | None = None,
        note: str | None = None,
        view: DiagramView | str | None = None,
    ) -> DamageMark:
        mark = self.mark(mark_id)
        changes: dict[str, Any] = {}
        if damage_type is not None and DamageType(damage_type) != mark.damage_type:
            changes["damage_type"] = DamageType(damage_type)
        if severity is not None and severity != mark.severity:
            _check_severity(severity)
            changes["severity"] = severity
        if note is not None and note.strip() != mark.note:
            changes["note"] = note.strip()
        if view is not None and DiagramView(view) != mark.view:
            changes["view"] = DiagramView(view)
        if changes:
            self._before_edit()
            for name, value in changes.items():
                setattr(mark, name, value)
            self._touch_mark(mark, *changes)
        return mark

    def delete_mark(self, mark_id: str) -> None:
        """Take a mark back: it stays as a tombstone, so every device forgets it too."""
        mark = self.mark(mark_id)
        self._before_edit()
        mark.deleted = True
        self._refresh_marks()
        self._touch_mark(mark, "deleted")

    def carry_over(self, earlier: EarlierMark) -> DamageMark:
        """The damage seen at an earlier visit is still there: put it on this sheet."""
        old = earlier.mark
        return self.add_mark(old.view, old.x, old.y, old.damage_type, old.severity, old.note)

    # -- photos ------------------------------------------------------------------------

    def add_photo(
        self, source: bytes | str | os.PathLike[str] | PreparedPhoto, caption: str = ""
    ) -> VisitPhoto:
        """Keep a camera picture (resized, upright) as a photo of this walk-around.

        ``source`` may be a picture already prepared by ``photos.prepare_photo`` (the
        screens do the decoding on a worker thread, then hand the result over here).
        """
        self._hold_photos()
        stored: StoredPhoto = (
            store_photo(self.store, source)
            if isinstance(source, PreparedPhoto)
            else take_photo_into(self.store, source, self.photo_settings)
        )
        existing = next(
            (photo for photo in self.photos if photo.image.sha256 == stored.ref.sha256), None
        )
        if existing is not None:
            return existing  # the same picture twice is one photo
        self._before_edit()
        photo = VisitPhoto(
            visit_id=self.walkaround.visit_id,
            walkaround_id=self.walkaround.id,
            image=stored.ref,
            caption=caption.strip(),
            taken_at=self._now(),
        )
        self.photos.append(photo)
        self.walkaround.photos = [item.image for item in self.photos]
        key = ("photo", photo.id)
        self._dirty[key] = record_fields(photo)
        self._blob_refs[key] = [stored.ref.sha256]
        return photo

    def pin_photo(self, mark_id: str, photo_sha256: str, x: float, y: float) -> DamageMark:
        """Show where on the photo the mark's damage is (x, y: 0..1 of the photo)."""
        mark = self.mark(mark_id)
        if photo_sha256 not in {photo.image.sha256 for photo in self.photos}:
            raise refuse("pins", "unknown_photo", BAD_SPOT)
        _check_spot(x, y)
        self._before_edit()
        others = [pin for pin in mark.pins if pin.photo_sha256 != photo_sha256]
        mark.pins = [*others, PhotoPin(photo_sha256, _spot(x), _spot(y))]
        self._touch_mark(mark, "pins")
        return mark

    def unpin_photo(self, mark_id: str, photo_sha256: str) -> DamageMark:
        mark = self.mark(mark_id)
        kept = [pin for pin in mark.pins if pin.photo_sha256 != photo_sha256]
        if len(kept) != len(mark.pins):
            self._before_edit()
            mark.pins = kept
            self._touch_mark(mark, "pins")
        return mark


def _spot(value: float) -> float:
    # Four decimals is what the signed report keeps; keep the same, so a mark reads back
    # from the server exactly as it was signed.
    return round(float(value), 4)


def _check_spot(x: float, y: float) -> None:
    if not (0 <= x <= 1 and 0 <= y <= 1):
        raise refuse("position", "out_of_range", BAD_SPOT)


def _check_severity(severity: int) -> None:
    if severity not in (1, 2, 3):
        raise refuse("severity", "out_of_range", BAD_SEVERITY)
