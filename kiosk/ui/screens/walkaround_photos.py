"""Photos: take them (or import them where there is no camera), see them large, pin a
damage mark to the spot of a photo where the damage shows, and zoom in.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import BooleanProperty, DictProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.ui.photo_widgets import PhotoThumb, PhotoZoom, photo_texture, thumbnail_texture
from kiosk.ui.screens.walkaround_common import WalkaroundStepScreen
from shared.domain import DiagramView, damage_label, label
from shared.i18n import Text

HINT_NO_PHOTOS = Text("No photos yet. Take one of each damage, close enough to see it.", "kiosk")
HINT_PIN = Text("Now touch the photo where the damage {code} is.", "kiosk")
HINT_PHOTO = Text(
    "Touch the photo to zoom. To pin a damage mark to it, choose the mark on the right, "
    "then touch the photo where the damage is.",
    "kiosk",
)
NO_MARKS = Text("No damage marked yet: mark it on the Damage tab first.", "kiosk")


class WalkaroundPhotosScreen(WalkaroundStepScreen):
    """Thumbnails on the left, the photo with its pins in the middle, marks on the right."""

    page_min_dp = ((0, 760), (0, 1350))  # one column when narrow: taller

    current = StringProperty("")  # the SHA-256 of the photo shown large
    pin_mark = StringProperty("")  # the mark that the next touch on the photo pins
    has_camera = BooleanProperty(False)
    pinned_here = BooleanProperty(False)
    hint = StringProperty("")
    thumbs = DictProperty()
    mark_tiles = DictProperty()

    def on_kv_post(self, base_widget: Widget) -> None:
        self.ids.photo.bind(on_spot=lambda _w, x, y: self.touched_photo(x, y))
        self._shown = ""
        self.zoom_view: PhotoZoom | None = None
        app: Any = App.get_running_app()
        if app is not None:
            app.bind(lang=lambda *_: self.refresh())

    # -- what the advisor does ---------------------------------------------------------

    def take(self) -> None:
        self.issues = []
        self.controller.take_photo(self)

    def show_photo(self, sha256: str) -> None:
        self.current = sha256
        self.refresh()

    def choose_mark(self, mark_id: str) -> None:
        self.pin_mark = "" if self.pin_mark == mark_id else mark_id
        self.refresh()

    def touched_photo(self, x: float, y: float) -> None:
        """Pin the chosen mark here, or (with no mark chosen) zoom in."""
        if not self.current:
            return
        if not self.pin_mark:
            self.zoom()
            return
        flow, mark_id, sha256 = self.controller, self.pin_mark, self.current
        flow.edit(
            lambda: flow.sheet.pin_photo(mark_id, sha256, x, y),
            screen=self,
            done=lambda _mark: self.choose_mark(""),
        )

    def unpin(self) -> None:
        flow, mark_id, sha256 = self.controller, self.pin_mark, self.current
        if not (mark_id and sha256):
            return
        flow.edit(
            lambda: flow.sheet.unpin_photo(mark_id, sha256),
            screen=self,
            done=lambda _mark: self.choose_mark(""),
        )

    def zoom(self) -> PhotoZoom | None:
        texture = self.ids.photo.texture
        if texture is None:
            return None
        if self.zoom_view is None:
            self.zoom_view = PhotoZoom()
        self.zoom_view.show(texture, list(self.ids.photo.pins))
        return self.zoom_view

    def reset(self) -> None:
        super().reset()
        self.current = self.pin_mark = ""
        self._shown = ""
        self.ids.photo.texture = None
        self.ids.photo.pins = []

    # -- showing -----------------------------------------------------------------------

    def refresh(self) -> None:
        flow = self.controller
        if flow is None or flow.sheet is None:
            return
        sheet = flow.sheet
        lang = _lang()
        self.has_camera = flow.has_camera
        hashes = [photo.image.sha256 for photo in sheet.photos]
        if self.current not in hashes:
            self.current = hashes[-1] if hashes else ""
        if self.pin_mark and self.pin_mark not in {mark.id for mark in sheet.marks}:
            self.pin_mark = ""
        self._fill_thumbnails(hashes)
        view = self.ids.photo
        if self.current != self._shown:
            path = flow.photo_file(self.current) if self.current else None
            view.texture = photo_texture(path) if path is not None else None
            self._shown = self.current
        pins = sheet.pins_on(self.current) if self.current else []
        view.pins = [(mark.id, mark.condition_code, pin.x, pin.y) for mark, pin in pins]
        view.highlighted = self.pin_mark
        pinned = {mark.id for mark, _pin in pins}
        self.pinned_here = self.pin_mark in pinned
        self._fill_marks(lang, pinned)
        if not hashes:
            self.hint = HINT_NO_PHOTOS.render(lang)
        elif self.pin_mark:
            code = sheet.mark(self.pin_mark).condition_code
            self.hint = replace(HINT_PIN, params={"code": code}).render(lang)
        else:
            self.hint = HINT_PHOTO.render(lang)

    def _fill_thumbnails(self, hashes: list[str]) -> None:
        flow = self.controller
        grid = self.ids.thumbs
        grid.clear_widgets()
        self.thumbs = {}
        waiting = flow.sheet.photos_waiting_to_upload()
        for sha256 in hashes:
            path = flow.photo_file(sha256)
            thumb = PhotoThumb(
                sha256=sha256,
                texture=thumbnail_texture(sha256, path) if path is not None else None,
                selected=sha256 == self.current,
                pins=len(flow.sheet.pins_on(sha256)),
                waiting=sha256 in waiting,
            )
            thumb.bind(on_release=lambda _t, s=sha256: self.show_photo(s))
            grid.add_widget(thumb)
            self.thumbs[sha256] = thumb

    def _fill_marks(self, lang: str, pinned: set[str]) -> None:
        box = self.ids.mark_list
        box.clear_widgets()
        self.mark_tiles = {}
        marks = self.controller.sheet.marks
        self.ids.no_marks.text = "" if marks else NO_MARKS.render(lang)
        for mark in marks:
            where = label(DiagramView(mark.view)).render(lang)
            kind = damage_label(mark.damage_type).render(lang)
            tick = "  ✓" if mark.id in pinned else ""
            tile = Factory.WalkaroundTile(
                text=f"{mark.condition_code}  {kind} · {where}{tick}",
                selected=mark.id == self.pin_mark,
                size_hint_y=None,
                height=_tile_height(),
                disabled=not self.current,
            )
            tile.bind(on_release=lambda _t, m=mark.id: self.choose_mark(m))
            box.add_widget(tile)
            self.mark_tiles[mark.id] = tile


def _tile_height() -> float:
    from kivy.metrics import dp

    return dp(60)


def _lang() -> str:
    app: Any = App.get_running_app()
    return str(app.lang) if app is not None else "en"
