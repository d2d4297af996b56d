"""Photos and signature images, stored by their SHA-256.

An upload is streamed to a temp file while it is hashed; nothing is kept unless the hash
matches the one the device named and the bytes are a whole JPEG or PNG of sane size.
Only then is the file fsynced and renamed into place, outside any web-served folder,
with a thumbnail beside it. Dimensions are read from the header and a pixel bomb is
refused before a single pixel is decoded.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from PIL import Image, UnidentifiedImageError

from shared.i18n import Text

CHUNK_BYTES = 256 * 1024
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
# Far below Pillow's own bomb limit (~179 MP): a 12 MP phone photo or a 24 MP camera
# photo passes, a crafted 20,000 × 20,000 image does not.
MAX_PIXELS = 40_000_000
THUMBNAIL_EDGE = 320
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}


class BlobRefused(Exception):
    def __init__(self, status: int, kind: str, message: Text) -> None:
        super().__init__(kind)
        self.status = status
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    content_type: str
    size_bytes: int
    width: int
    height: int


class BlobStore:
    """Files under ``root``: ``originals/ab/<sha256>`` and ``thumbnails/ab/<sha256>.jpg``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.incoming = root / "incoming"
        self.incoming.mkdir(parents=True, exist_ok=True)

    def original_path(self, sha256: str) -> Path:
        return self.root / "originals" / sha256[:2] / sha256

    def thumbnail_path(self, sha256: str) -> Path:
        return self.root / "thumbnails" / sha256[:2] / f"{sha256}.jpg"

    def has(self, sha256: str) -> bool:
        return self.original_path(sha256).exists()

    def receive(self, sha256: str, content_type: str, stream: IO[bytes]) -> StoredBlob:
        """Keep the upload if and only if it is the named, whole, sane image."""
        if content_type not in FORMATS:
            raise BlobRefused(
                415,
                "image-type",
                Text("Only JPEG and PNG images are accepted.", "server"),
            )
        descriptor, temp_name = tempfile.mkstemp(dir=self.incoming, suffix=".part")
        temp_path = Path(temp_name)
        try:
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(descriptor, "wb") as temp_file:
                while chunk := stream.read(CHUNK_BYTES):
                    size += len(chunk)
                    if size > MAX_UPLOAD_BYTES:
                        raise BlobRefused(
                            413,
                            "too-large",
                            Text(
                                "The image is larger than {megabytes} MB.",
                                "server",
                                {"megabytes": MAX_UPLOAD_BYTES // 1_048_576},
                            ),
                        )
                    digest.update(chunk)
                    temp_file.write(chunk)
                temp_file.flush()
                os.fsync(temp_file.fileno())
            if digest.hexdigest() != sha256:
                raise BlobRefused(
                    422,
                    "hash-mismatch",
                    Text(
                        "The image arrived damaged (its SHA-256 does not match). Send it again.",
                        "server",
                    ),
                )
            width, height = self._check_and_thumbnail(temp_path, FORMATS[content_type], sha256)
            final = self.original_path(sha256)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp_path, final)
            _fsync_directory(final.parent)
            return StoredBlob(sha256, content_type, size, width, height)
        finally:
            temp_path.unlink(missing_ok=True)

    def _check_and_thumbnail(
        self, path: Path, expected_format: str, sha256: str
    ) -> tuple[int, int]:
        """Check the image and make its thumbnail in one decode.

        The size comes from the header, so a pixel bomb is refused before decoding. A
        JPEG is decoded at a reduced scale (draft mode), which is cheap yet reads every
        byte, so a truncated file fails here too.
        """
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(path)
            with image:
                if image.format != expected_format:
                    raise BlobRefused(
                        415,
                        "image-type",
                        Text("The file is not the kind of image it claims to be.", "server"),
                    )
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise BlobRefused(
                        422,
                        "image-too-many-pixels",
                        Text(
                            "The image has too many pixels ({width} × {height}).",
                            "server",
                            {"width": width, "height": height},
                        ),
                    )
                image.draft("RGB", (THUMBNAIL_EDGE, THUMBNAIL_EDGE))
                image.load()
                image.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE))
                thumbnail = image.convert("RGB")
        except BlobRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise BlobRefused(
                422,
                "image-too-many-pixels",
                Text("The image has too many pixels.", "server"),
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise BlobRefused(
                422,
                "image-unreadable",
                Text("The image is damaged or incomplete. Take or send it again.", "server"),
            ) from None
        target = self.thumbnail_path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_suffix(".part")
        thumbnail.save(temp, "JPEG", quality=80)
        os.replace(temp, target)
        return width, height


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
