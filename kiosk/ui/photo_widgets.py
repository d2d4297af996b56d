"""Photo widgets of the walk-around: a photo with its damage pins, thumbnails, zoom, and a
file chooser for devices without a camera.

Pins are drawn as the same coded badges as on the car diagram (``MarkBadge``), at the
spot of the photo the advisor touched (x, y: 0..1 across and down the photo). Pictures
are read from the device's blob store (files named by their SHA-256, no extension) and
turned into textures here; the small ones are made by ``kiosk.services.photos``.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.core.image import Image as CoreImage
from kivy.graphics.texture import Texture
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.widget import Widget

from kiosk.services.camera import PICTURE_SUFFIXES
from kiosk.services.photos import PhotoUnreadable, make_thumbnail
from kiosk.ui.diagram import BADGE_SIZE, TAP_SLOP, MarkBadge
from kiosk.ui.diagram import load_kv as load_diagram_kv

THUMBNAIL_EDGE = 320
_THUMBNAILS: OrderedDict[str, Texture] = OrderedDict()
_THUMBNAILS_KEPT = 64


def jpeg_texture(data: bytes) -> Texture:
    """A texture of JPEG bytes (made on the UI thread)."""
    return CoreImage(io.BytesIO(data), ext="jpg", nocache=True).texture


def photo_texture(path: Path) -> Texture | None:
    """The whole photo (at most 1600 px: what the pipeline kept), or None if unreadable."""
    try:
        return jpeg_texture(path.read_bytes())
    except (OSError, ValueError, AttributeError):
        return None


def thumbnail_texture(sha256: str, path: Path) -> Texture | None:
    """A small texture of a photo, kept for the next time the list is drawn."""
    texture = _THUMBNAILS.get(sha256)
    if texture is None:
        try:
            texture = jpeg_texture(make_thumbnail(path, THUMBNAIL_EDGE))
        except (PhotoUnreadable, OSError, ValueError, AttributeError):
            return None
        _THUMBNAILS[sha256] = texture
        while len(_THUMBNAILS) > _THUMBNAILS_KEPT:
            _THUMBNAILS.popitem(last=False)
    return texture


class PhotoView(FloatLayout):
    """A photo, fitted and centred, with pins; ``on_spot(x, y)`` when touched on it."""

    takes_drags = True  # on a scrolling page, a finger here draws (kiosk.ui.fitting)

    texture = ObjectProperty(None, allownone=True)
    # Pins as (mark id, code, x, y); the badge of ``highlighted`` is drawn selected.
    pins = ListProperty()
    highlighted = StringProperty("")
    picture = ListProperty([0, 0, 0, 0])  # where the photo is drawn: x, y, width, height

    __events__ = ("on_spot",)

    def __init__(self, **kwargs: Any) -> None:
        load_diagram_kv()
        self._badges: list[MarkBadge] = []
        self._downs: dict[int, tuple[float, float]] = {}
        super().__init__(**kwargs)
        self.bind(size=self._layout, pos=self._layout, texture=self._layout)

    def on_spot(self, x: float, y: float) -> None:
        """Event: the photo was touched at (x, y), 0..1 across and down."""

    def to_spot(self, window_x: float, window_y: float) -> tuple[float, float] | None:
        x, y = self.to_widget(window_x, window_y)
        left, bottom, width, height = self.picture
        if width <= 0 or height <= 0:
            return None
        across, down = (x - left) / width, 1 - (y - bottom) / height
        if not (0 <= across <= 1 and 0 <= down <= 1):
            return None
        return round(across, 4), round(down, 4)

    def spot_to_window(self, x: float, y: float) -> tuple[float, float]:
        left, bottom, width, height = self.picture
        return self.to_window(left + x * width, bottom + (1 - y) * height)

    def badge(self, mark_id: str) -> MarkBadge | None:
        return next((b for b in self._badges if b.mark_id == mark_id), None)

    def on_pins(self, *_args: Any) -> None:
        for badge in self._badges:
            self.remove_widget(badge)
        self._badges = []
        for mark_id, code, x, y in self.pins:
            badge = MarkBadge(
                mark_id=mark_id,
                code=code,
                spot_x=x,
                spot_y=y,
                selected=mark_id == self.highlighted,
                size_hint=(None, None),
                size=(dp(BADGE_SIZE), dp(BADGE_SIZE)),
            )
            self._badges.append(badge)
            self.add_widget(badge)
        self._layout()

    def on_highlighted(self, *_args: Any) -> None:
        for badge in self._badges:
            badge.selected = badge.mark_id == self.highlighted

    def _layout(self, *_args: Any) -> None:
        texture = self.texture
        if texture is None or not texture.width or not texture.height:
            self.picture = [self.x, self.y, 0, 0]
        else:
            scale = min(self.width / texture.width, self.height / texture.height)
            width, height = texture.width * scale, texture.height * scale
            self.picture = [
                self.center_x - width / 2,
                self.center_y - height / 2,
                width,
                height,
            ]
        left, bottom, width, height = self.picture
        for badge in self._badges:
            badge.center = (left + badge.spot_x * width, bottom + (1 - badge.spot_y) * height)

    # A touch that lifts where it went down is a tap on the photo; the rest is scrolling
    # or zooming by whoever holds this view.
    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        self._downs[touch.uid] = touch.pos
        return True

    def on_touch_up(self, touch: Any) -> bool:
        start = self._downs.pop(touch.uid, None)
        if start is None:
            return super().on_touch_up(touch)
        if abs(touch.x - start[0]) + abs(touch.y - start[1]) > dp(TAP_SLOP):
            return True
        spot = self.to_spot(*self.to_window(*touch.pos))
        if spot is not None:
            self.dispatch("on_spot", *spot)
        return True


class PhotoThumb(ButtonBehavior, Widget):
    """A photo in the list: touch to show it large."""

    sha256 = StringProperty("")
    texture = ObjectProperty(None, allownone=True)
    selected = BooleanProperty(False)
    pins = NumericProperty(0)
    waiting = BooleanProperty(False)  # not on the server yet
    caption = StringProperty("")


class PhotoZoom(ModalView):
    """The photo over the whole screen, with its pins; pinch or the buttons to zoom."""

    texture = ObjectProperty(None, allownone=True)
    pins = ListProperty()
    zoom = NumericProperty(1.0)

    def show(self, texture: Texture, pins: list[tuple[str, str, float, float]]) -> None:
        self.texture, self.pins, self.zoom = texture, pins, 1.0
        self.open(animation=False)

    def zoom_by(self, factor: float) -> None:
        scatter = self.ids.scatter
        self.zoom = min(5.0, max(1.0, self.zoom * factor))
        centre = scatter.parent.center
        scatter.scale = self.zoom
        scatter.center = centre

    def close(self) -> None:
        self.dismiss(animation=False)


class FolderTile(ButtonBehavior, Label):
    """A folder in the photo chooser: touch to open it."""

    path = StringProperty("")


class PhotoFileChooser(ModalView):
    """Pick a photo file (JPEG or PNG) on a device without a camera.

    It shows the pictures of a folder as thumbnails (what an advisor recognises, unlike
    file names such as IMG_4711.JPG) and its sub-folders; touch one, then "Import".
    """

    folder = StringProperty(str(Path.home()))
    chosen = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self._picked: Callable[[Path | None], None] | None = None
        self.thumbs: dict[str, PhotoThumb] = {}
        self.folders: dict[str, FolderTile] = {}
        super().__init__(**kwargs)

    def ask(self, picked: Callable[[Path | None], None], folder: str | None = None) -> None:
        self._picked = picked
        start = Path(folder) if folder else _pictures_folder()
        self.open(animation=False)
        self.show_folder(str(start))

    def show_folder(self, folder: str) -> None:
        """List the sub-folders and the pictures of ``folder``."""
        self.folder, self.chosen = folder, ""
        grid = self.ids.files
        grid.clear_widgets()
        self.thumbs, self.folders = {}, {}
        try:
            entries = sorted(Path(folder).iterdir(), key=lambda p: p.name.lower())
        except OSError:
            entries = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                tile = FolderTile(text=f"{entry.name}/", path=str(entry))
                tile.bind(on_release=lambda t: self.show_folder(t.path))
                grid.add_widget(tile)
                self.folders[entry.name] = tile
            elif entry.suffix.lower() in PICTURE_SUFFIXES:
                thumb = PhotoThumb(
                    sha256=str(entry), texture=_file_thumbnail(entry), caption=entry.name
                )
                thumb.bind(on_release=lambda t: self.choose(t.sha256))
                grid.add_widget(thumb)
                self.thumbs[entry.name] = thumb

    def up(self) -> None:
        self.show_folder(str(Path(self.folder).parent))

    def choose(self, path: str) -> None:
        self.chosen = path
        for thumb in self.thumbs.values():
            thumb.selected = thumb.sha256 == path

    def take(self) -> None:
        picked, self._picked = self._picked, None
        chosen = Path(self.chosen) if self.chosen else None
        self.dismiss(animation=False)
        if picked is not None and chosen is not None:
            picked(chosen)

    def cancel(self) -> None:
        self._picked = None
        self.dismiss(animation=False)


def _pictures_folder() -> Path:
    pictures = Path.home() / "Pictures"
    return pictures if pictures.is_dir() else Path.home()


def _file_thumbnail(path: Path) -> Texture | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return thumbnail_texture(f"{path}:{stat.st_mtime_ns}:{stat.st_size}", path)
