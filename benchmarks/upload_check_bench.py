"""What checking an uploaded photo costs, now that every photo is decoded in full.

Makes device-sized photos (the kiosk sends at most 1600 px on the long edge, JPEG
quality 85), then times :meth:`BlobStore.receive` (hash, write, fsync, header checks,
the full decode) with and without the decode, so the decode's share is visible.
Photo content matters: a noisy photo has more entropy-coded data to decode.

    .venv/bin/python benchmarks/upload_check_bench.py [--runs 20]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import statistics
import tempfile
from pathlib import Path
from unittest import mock

from PIL import Image, ImageDraw, ImageFilter
from timing import Timings

import sync_server.sync.blobs as blobs
from sync_server.sync.blob_folder import FolderBlobStore


def photo(noisy: bool) -> bytes:
    image = Image.new("RGB", (1600, 1200), (190, 200, 215))
    draw = ImageDraw.Draw(image)
    for step in range(0, 1600, 40):
        draw.line((step, 0, 1600 - step, 1200), fill=(step % 255, 90, 160), width=5)
    if noisy:
        noise = Image.effect_noise((1600, 1200), 40).convert("RGB")
        image = Image.blend(image, noise, 0.35).filter(ImageFilter.SMOOTH)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def time_receive(store: FolderBlobStore, data: bytes, runs: int) -> list[float]:
    digest = hashlib.sha256(data).hexdigest()
    timings = Timings()
    for _ in range(runs):
        store.original_path(digest).unlink(missing_ok=True)
        with timings.run():
            store.receive(digest, "image/jpeg", io.BytesIO(data))
    return timings.wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = FolderBlobStore(Path(folder))
        with mock.patch.object(store, "make_thumbnail_later"):
            for noisy in (False, True):
                data = photo(noisy)
                full = time_receive(store, data, args.runs)
                with mock.patch.object(blobs, "_decode_fully"):
                    header_only = time_receive(store, data, args.runs)
                label = "noisy" if noisy else "plain"
                print(
                    f"{label} photo, {len(data) // 1024} KB: receive p50 "
                    f"{statistics.median(full):.1f} ms with the full decode, "
                    f"{statistics.median(header_only):.1f} ms without"
                )


if __name__ == "__main__":
    main()
