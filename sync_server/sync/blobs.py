"""Photos and signature images, stored by their SHA-256: the checks and what every
store promises.

An upload is streamed to a temp file while it is hashed; nothing is kept unless the hash
matches the one the device named and the bytes are a whole JPEG or PNG of sane size.
Only then does it take its final name — a file fsynced and renamed into place outside
any web-served folder (``blob_folder``), or an object put whole into a bucket with its
SHA-256 for the bucket to check (``blob_bucket``) — with a thumbnail beside it.
Dimensions are read from the header and a pixel bomb is refused before a single pixel
is decoded.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import threading
import time
import warnings
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import simplejpeg
from PIL import Image, UnidentifiedImageError

from shared.i18n import Text

log = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
# Far below Pillow's own bomb limit (~179 MP): a 12 MP phone photo or a 24 MP camera
# photo passes, a crafted 20,000 × 20,000 image does not.
MAX_PIXELS = 40_000_000
THUMBNAIL_EDGE = 320
TAIL_BYTES = 4096
THUMBNAIL_AFTER_IDLE_S = 0.5
JPEG_END = b"\xff\xd9"
PNG_END = b"IEND\xaeB`\x82"
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
# A temp file this old belongs to no upload in progress: the server was killed (a power
# cut) while receiving it. Younger ones may be another worker's upload, so they stay.
STALE_TEMP_S = 3600


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


class PhotoStoreUnavailable(Exception):
    """The photo store could not be reached or refused the server (a bucket that is down,
    wrong credentials): nothing was kept, and the device sends the photo again later."""


class BlobMissing(LookupError):
    """A photo the database lists whose object the store does not hold."""


@dataclass(frozen=True)
class BlobContent:
    """An original photo being read: its bytes as a stream, their number, and its file
    when the store is a folder (so it can be sent with ranges)."""

    stream: IO[bytes]
    size: int
    path: Path | None = None


class BlobStore:
    """Photos and signature pictures by SHA-256: what every store promises.

    An upload is spooled to a temp file in ``spool`` while it is hashed, then checked
    (hash, format, pixel cap, decoded in full); only then does it take its final name
    (:meth:`_receiving`). Stores: :class:`~sync_server.sync.blob_folder.FolderBlobStore`
    (a folder, the default) and :class:`~sync_server.sync.blob_bucket.BucketBlobStore`
    (an S3-compatible bucket).
    """

    def __init__(self, spool: Path) -> None:
        self.incoming = spool
        self.incoming.mkdir(parents=True, exist_ok=True)
        self.remove_stale_temp_files()
        self._last_upload = time.monotonic()
        self._storing: Counter[str] = Counter()  # photos being stored now, by SHA-256
        self._stored = threading.Condition()
        self._thumbnailer = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="thumbnails", initializer=_lower_priority
        )

    # --- what each store does its own way --------------------------------------------

    def describe(self) -> str:
        """Where the photos are, for logs and the CLI."""
        raise NotImplementedError

    def has(self, sha256: str) -> bool:
        raise NotImplementedError

    def open_original(self, sha256: str) -> BlobContent:
        """The original, to be read and closed; :class:`BlobMissing` if not held."""
        raise NotImplementedError

    def make_thumbnail(self, sha256: str) -> None:
        """Make the photo's thumbnail if it is not there yet (one reduced decode)."""
        raise NotImplementedError

    def thumbnail_bytes(self, sha256: str) -> bytes:
        """The photo's JPEG thumbnail, made now if need be."""
        raise NotImplementedError

    def put_file(self, sha256: str, path: Path, content_type: str) -> None:
        """Keep a photo that is already in a local file (a restore, a migration),
        checked against its hash first and durable on return; the file stays."""
        raise NotImplementedError

    @contextlib.contextmanager
    def _receiving(self, sha256: str, content_type: str, sync_folder: bool) -> Iterator[IO[bytes]]:
        """A temp file to write the upload into; kept under its final name if the block
        ends without an exception, removed otherwise (nothing partial is ever visible)."""
        raise NotImplementedError
        yield  # pragma: no cover

    def sync_folders(self, sha256s: Iterable[str]) -> None:
        """Make the names of these originals durable; a bucket's are on return of the put."""

    # --- the same for every store -----------------------------------------------------

    def remove_stale_temp_files(self, older_than_s: float = STALE_TEMP_S) -> int:
        """Delete what uploads cut short by a crash left behind; returns how many.

        A killed server leaves its half-received upload in ``incoming/``; nothing refers
        to it, but such files would pile up.
        """
        return _remove_older_than(list(self.incoming.iterdir()), older_than_s)

    def original_bytes(self, sha256: str) -> bytes:
        content = self.open_original(sha256)
        with content.stream:
            return content.stream.read()

    def matches(self, sha256: str) -> bool:
        """True when the store holds this photo and its bytes still have its hash."""
        try:
            content = self.open_original(sha256)
        except BlobMissing:
            return False
        digest = hashlib.sha256()
        with content.stream:
            while block := content.stream.read(CHUNK_BYTES):
                digest.update(block)
        return digest.hexdigest() == sha256

    def receive(
        self, sha256: str, content_type: str, stream: IO[bytes], *, sync_folder: bool = True
    ) -> StoredBlob:
        """Keep the upload if and only if it is the named, whole, sane image.

        On return the photo is kept under its final name; with ``sync_folder=False`` the
        caller must still call :meth:`sync_folders` to make a folder store's name
        durable, e.g. for several uploads at once.
        """
        if content_type not in FORMATS:
            raise BlobRefused(
                415,
                "image-type",
                Text("Only JPEG and PNG images are accepted.", "server"),
            )
        self._last_upload = time.monotonic()
        with self._receiving(sha256, content_type, sync_folder) as temp_file:
            digest = hashlib.sha256()
            size = 0
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
            if digest.hexdigest() != sha256:
                raise BlobRefused(
                    422,
                    "hash-mismatch",
                    Text(
                        "The image arrived damaged (its SHA-256 does not match). Send it again.",
                        "server",
                    ),
                )
            temp_file.flush()
            # Refused here, the upload is removed and nothing takes its final name.
            width, height = check_image(Path(temp_file.name), FORMATS[content_type])
        self.make_thumbnail_later(sha256)
        return StoredBlob(sha256, content_type, size, width, height)

    @contextlib.contextmanager
    def storing(self, sha256: str) -> Iterator[None]:
        """Marks a photo as being stored (received, checked, its row written) meanwhile."""
        with self._stored:
            self._storing[sha256] += 1
        try:
            yield
        finally:
            with self._stored:
                self._storing[sha256] -= 1
                if not self._storing[sha256]:
                    del self._storing[sha256]
                self._stored.notify_all()

    def wait_until_stored(self, sha256s: Collection[str], timeout: float) -> bool:
        """Wait (at most ``timeout`` seconds) until none of these photos is being stored.

        A device whose connection broke while the server was storing its photo asks
        again which photos the server lacks: waiting for that photo to be stored saves
        sending it twice. True when none is being stored any more, False on time-out.
        """
        with self._stored:
            return self._stored.wait_for(
                lambda: not any(sha in self._storing for sha in sha256s), timeout
            )

    def close(self) -> None:
        """Make the thumbnails already queued, then take no more (a clean stop)."""
        self._thumbnailer.shutdown(wait=True)

    def make_thumbnail_later(self, sha256: str) -> None:
        """Queue the thumbnail, so the device's upload is answered without waiting for it."""
        self._thumbnailer.submit(self._thumbnail_quietly, sha256)

    def _thumbnail_quietly(self, sha256: str) -> None:
        # Decoding competes with the uploads for the CPU: wait for a pause in them, so a
        # device's burst of photos is taken in as fast as the disk allows. Whoever
        # looks at a photo first gets its thumbnail made on the spot anyway.
        while (idle := time.monotonic() - self._last_upload) < THUMBNAIL_AFTER_IDLE_S:
            time.sleep(THUMBNAIL_AFTER_IDLE_S - idle)
        try:
            self.make_thumbnail(sha256)
        except Exception:  # the thumbnail endpoint tries again and says what is wrong
            log.warning("could not make a thumbnail of photo %s", sha256[:12], exc_info=True)


def check_image(path: Path, expected_format: str) -> tuple[int, int]:
    """Check the image: what it is, how big, and that it is whole; its width and height.

    The header gives the format and the size, so a pixel bomb is refused before a
    single pixel is decoded. A JPEG must end with its end-of-image marker and a PNG
    with its IEND chunk: a file cut short in transfer or on the device has neither.
    Then every byte of its pixel data is decoded (:func:`_decode_fully`), so a file
    cut short with its end marker put back is refused too.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
        with image:
            found_format, (width, height) = image.format, image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BlobRefused(
            422, "image-too-many-pixels", Text("The image has too many pixels.", "server")
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _unreadable() from None
    if found_format != expected_format:
        raise BlobRefused(
            415,
            "image-type",
            Text("The file is not the kind of image it claims to be.", "server"),
        )
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
    with path.open("rb") as image_file:
        image_file.seek(max(0, path.stat().st_size - TAIL_BYTES))
        tail = image_file.read()
    whole = JPEG_END in tail if expected_format == "JPEG" else tail.endswith(PNG_END)
    if not whole:
        raise _unreadable()
    _decode_fully(path, expected_format)
    return width, height


def thumbnail_jpeg(original: IO[bytes] | Path) -> bytes:
    """A JPEG of at most ``THUMBNAIL_EDGE`` pixels a side (one reduced decode)."""
    with Image.open(original) as image:
        image.draft("RGB", (THUMBNAIL_EDGE, THUMBNAIL_EDGE))
        image.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE))
        thumbnail = image.convert("RGB")
    buffer = io.BytesIO()
    thumbnail.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def sniff_content_type(head: bytes) -> str:
    """JPEG or PNG from a file's first bytes (a restored or migrated photo)."""
    return "image/png" if head.startswith(b"\x89PNG") else "image/jpeg"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        while block := reader.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def _remove_older_than(paths: list[Path], older_than_s: float) -> int:
    cutoff = time.time() - older_than_s
    removed = 0
    for path in paths:
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def _lower_priority() -> None:
    """Thumbnails yield to request threads (Linux: a thread has its own nice value)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def _decode_fully(path: Path, image_format: str) -> None:
    """Decode all of the image's data; raise :class:`BlobRefused` at any damage.

    Pillow lets a JPEG whose data ends early pass (libjpeg only warns and paints the
    rest grey), so JPEGs go through libjpeg-turbo in strict mode, which turns every
    warning into an error. Scaled down by 8 in the DCT, which still reads every
    coefficient, it costs about a third of a full decode. A PNG's data is inflated to
    the end by Pillow, which refuses a cut zlib stream and wrong chunk checksums.
    """
    try:
        if image_format == "JPEG":
            simplejpeg.decode_jpeg(path.read_bytes(), min_width=1, min_height=1, strict=True)
        else:
            with Image.open(path) as image:
                image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _unreadable() from None


def _unreadable() -> BlobRefused:
    return BlobRefused(
        422,
        "image-unreadable",
        Text("The image is damaged or incomplete. Take or send it again.", "server"),
    )
