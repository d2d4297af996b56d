"""What the device-side sync tests share: the device id, ids, photos, a local store."""

from __future__ import annotations

import io
import uuid

from PIL import Image
from urllib3.util import Retry

from kiosk.services.local_store import LocalStore

DEVICE_ID = "5fb948a1-9175-4180-b109-09ea7cfa1271"


def new_id() -> str:
    return str(uuid.uuid4())


def jpeg_photo(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (seed * 53 % 256, seed * 29 % 256, 120)).save(buffer, "JPEG")
    return buffer.getvalue()


def save_notes(store: LocalStore, count: int) -> list[str]:
    return [store.save("note", new_id(), {"text": f"note {n}"}).change_id for n in range(count)]


def quick_retry() -> Retry:
    """Retries without waiting between them (tests only)."""
    return Retry(
        total=3, connect=3, read=3, backoff_factor=0.01, status_forcelist=(500, 502, 503, 504),
        allowed_methods=None, raise_on_status=False,
    )  # fmt: skip
