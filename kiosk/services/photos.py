"""Walk-around photos: from the camera's file to a small, upright, content-addressed JPEG.

A phone or tablet camera gives 12-megapixel JPEGs of 3–6 MB, often stored sideways
with an EXIF orientation tag. What the shop needs is a picture that shows the scratch,
syncs quickly over the shop's Wi-Fi and prints on the check-in sheet:

* **Fast**: the JPEG decoder is asked for a reduced image (``Image.draft``), so a
  4000×3000 photo is decoded at 1/2 or 1/4 scale by the DCT itself instead of being
  decoded in full and then thrown away; the remaining step to the target size is a
  small resize.
* **Upright**: the EXIF orientation is applied (``ImageOps.exif_transpose``).
* **Small**: long edge at most :attr:`PhotoSettings.max_edge` (1600 px), JPEG quality
  about 85, progressive, no EXIF kept (which also drops the GPS position a phone writes).
* **Content-addressed**: the SHA-256 of the bytes is the photo's name everywhere
  (``PhotoRef``, ``PhotoPin``, the blob store, the server).

No Kivy here; the camera facade (``kiosk.services.camera``) hands over the file and
:func:`store_photo` keeps the result through ``LocalStore.put_blob``.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from kiosk.services.local_store import LocalStore
from shared.domain import ImageType, PhotoRef

JPEG = "image/jpeg"
# The server refuses more than this (sync_server/sync/blobs.py); refuse it here first,
# before a single pixel is decoded.
MAX_SOURCE_PIXELS = 40_000_000


@dataclass(frozen=True)
class PhotoSettings:
    """How walk-around photos are kept (a shop may want sharper or smaller ones)."""

    max_edge: int = 1600
    quality: int = 85
    thumbnail_edge: int = 320
    thumbnail_quality: int = 75


DEFAULT_SETTINGS = PhotoSettings()


class PhotoUnreadable(ValueError):
    """The file is not a picture this device can read (or it is far too large)."""


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo ready to keep: the JPEG bytes, their hash and size, and a thumbnail."""

    data: bytes
    sha256: str
    width: int
    height: int
    thumbnail: bytes

    @property
    def size_bytes(self) -> int:
        return len(self.data)

    def photo_ref(self) -> PhotoRef:
        """The ``PhotoRef`` a walk-around or a photo record carries."""
        return PhotoRef(
            sha256=self.sha256,
            size_bytes=self.size_bytes,
            content_type=ImageType.jpeg,
            width=self.width,
            height=self.height,
        )


@dataclass(frozen=True)
class StoredPhoto:
    """A photo kept in the device's blob store, and its thumbnail kept beside it."""

    ref: PhotoRef
    thumbnail_sha256: str


def prepare_photo(
    source: bytes | str | os.PathLike[str], settings: PhotoSettings = DEFAULT_SETTINGS
) -> PreparedPhoto:
    """Read a camera picture (bytes or a file path) and make the photo to keep.

    Raises :class:`PhotoUnreadable` for anything that is not a whole JPEG/PNG picture.
    """
    stream: io.BytesIO | Path = io.BytesIO(source) if isinstance(source, bytes) else Path(source)
    try:
        with Image.open(stream) as original:
            width, height = original.size
            if width * height > MAX_SOURCE_PIXELS:
                raise PhotoUnreadable(f"{width}×{height} is larger than a camera photo")
            scale = min(1.0, settings.max_edge / max(width, height))
            target = (max(1, round(width * scale)), max(1, round(height * scale)))
            if original.format == "JPEG" and scale < 1.0:
                # Ask the decoder for the smallest DCT scale that still covers the target:
                # fewer pixels decoded is most of the time saved.
                original.draft("RGB", target)
            stored = _rgb(original) if original.mode != "RGB" else original
            # Shrink first, turn upright after: turning 2 MP is cheaper than turning 3 MP.
            shrunk = stored.resize(target, Image.Resampling.BILINEAR)
            shrunk.info["exif"] = original.info.get("exif", b"")
            picture = ImageOps.exif_transpose(shrunk)
            for step in (stored, shrunk):
                if step is not original and step is not picture:
                    step.close()
            data = _jpeg(picture, settings.quality)
            factor = max(1, math.ceil(max(picture.size) / settings.thumbnail_edge))
            preview = picture.reduce(factor)
            thumbnail = _jpeg(preview, settings.thumbnail_quality)
            size = picture.size
            picture.close()
            preview.close()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise PhotoUnreadable(str(error)) from None
    return PreparedPhoto(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        width=size[0],
        height=size[1],
        thumbnail=thumbnail,
    )


def store_photo(store: LocalStore, photo: PreparedPhoto) -> StoredPhoto:
    """Keep the photo and its thumbnail durably; returns the ``PhotoRef`` to save.

    The thumbnail is kept in the same content-addressed store for the tablet's lists;
    no record refers to it, so it is never uploaded (the server makes its own).
    """
    store.put_blob(photo.data, JPEG)
    thumbnail = store.put_blob(photo.thumbnail, JPEG)
    return StoredPhoto(ref=photo.photo_ref(), thumbnail_sha256=thumbnail.sha256)


def take_photo_into(
    store: LocalStore,
    source: bytes | str | os.PathLike[str],
    settings: PhotoSettings = DEFAULT_SETTINGS,
) -> StoredPhoto:
    """Prepare a camera picture and keep it: what the walk-around screen calls."""
    return store_photo(store, prepare_photo(source, settings))


def make_thumbnail(
    source: bytes | str | os.PathLike[str], edge: int = DEFAULT_SETTINGS.thumbnail_edge
) -> bytes:
    """A small JPEG of a kept photo, its long edge at most ``edge`` px (lists, the sheet).

    The decoder is asked for a reduced image first, so this costs a fraction of a full
    decode. Raises :class:`PhotoUnreadable` like :func:`prepare_photo`.
    """
    stream: io.BytesIO | Path = io.BytesIO(source) if isinstance(source, bytes) else Path(source)
    try:
        with Image.open(stream) as original:
            if original.format == "JPEG":
                original.draft("RGB", (edge, edge))
            picture = _rgb(original)
        picture.thumbnail((edge, edge))
        data = _jpeg(picture, DEFAULT_SETTINGS.thumbnail_quality)
        picture.close()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise PhotoUnreadable(str(error)) from None
    return data


def _rgb(image: Image.Image) -> Image.Image:
    """An RGB copy; transparency goes onto white (a PNG imported from a desktop)."""
    if image.mode == "RGB":
        return image.copy()
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGB", rgba.size, (255, 255, 255))
        paper.paste(rgba, mask=rgba.getchannel("A"))
        rgba.close()
        return paper
    return image.convert("RGB")


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    # No EXIF is written: the picture is upright already, and a phone's GPS tag would
    # otherwise travel with every photo of the customer's car.
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
