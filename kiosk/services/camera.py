"""The tablet's camera behind a plyer-style facade, with a file-import backend.

``camera()`` returns the best backend for this machine. The public method
:meth:`Camera.take_picture` calls the private ``_take_picture`` each backend implements;
the backend hands back the path of the picture file it made (or ``None`` when the
advisor cancelled). On Android and iOS, :class:`PlyerCamera` uses plyer's camera when
it is installed; desktops and tests use :class:`FileImportCamera`, which "takes" the
next picture file from a folder or a list (a photo copied from a phone, or a generated
test picture). Either way the file then goes through ``kiosk.services.photos``.

Callbacks are called on whatever thread the backend uses; the UI hands them over to its
own thread.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

log = logging.getLogger(__name__)

PictureCallback = Callable[[Path | None], None]
PICTURE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})


class Camera:
    """Facade: ``take_picture(on_picture)`` calls back with a picture file, or ``None``."""

    #: Whether this backend has a real camera (the UI then says "Take photo", not "Import").
    has_camera = False

    def take_picture(self, on_picture: PictureCallback) -> None:
        self._take_picture(on_picture)

    def _take_picture(self, on_picture: PictureCallback) -> None:
        raise NotImplementedError


class FileImportCamera(Camera):
    """No camera: each picture is the next file of ``pictures`` (a list or a folder)."""

    def __init__(self, pictures: Iterable[str | os.PathLike[str]] | str | os.PathLike[str] = ()):
        if isinstance(pictures, str | os.PathLike) and Path(pictures).is_dir():
            found = sorted(
                path for path in Path(pictures).iterdir() if path.suffix.lower() in PICTURE_SUFFIXES
            )
        else:
            found = [Path(path) for path in pictures]  # type: ignore[union-attr]
        self._queue: deque[Path] = deque(found)

    def add(self, path: str | os.PathLike[str]) -> None:
        """Queue one more picture file (tests, or a file picked on a desktop)."""
        self._queue.append(Path(path))

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _take_picture(self, on_picture: PictureCallback) -> None:
        if not self._queue:
            log.info("no picture to import; nothing taken")
            on_picture(None)
            return
        on_picture(self._queue.popleft())


class PlyerCamera(Camera):
    """The platform camera through plyer (Android, iOS): it writes the picture to a file."""

    has_camera = True

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        from plyer import camera as plyer_camera  # only on the devices that have one

        self._camera = plyer_camera
        self._folder = Path(folder or tempfile.gettempdir())

    def _take_picture(self, on_picture: PictureCallback) -> None:
        target = self._folder / f"walkaround-{uuid.uuid4().hex}.jpg"

        def done(filename: str | None) -> bool:
            path = Path(filename) if filename else None
            on_picture(path if path is not None and path.exists() else None)
            return False  # plyer: do not delete the file, the pipeline reads it

        self._camera.take_picture(filename=str(target), on_complete=done)


def camera(platform: str | None = None) -> Camera:
    """The camera backend for this machine: plyer's on phones and tablets, else file import."""
    platform = platform or os.environ.get("KIVY_BUILD", "") or sys.platform
    if platform in ("android", "ios"):
        try:
            return PlyerCamera()
        except ImportError:
            log.warning("plyer is not installed; photos can only be imported")
    return FileImportCamera()
