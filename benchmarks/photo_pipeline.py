"""How fast the tablet turns a 12-megapixel camera photo into the photo it keeps.

Generates a 4000×3000 JPEG with content like a photo (gradients, shapes and sensor
noise, so the encoder has real work, unlike a flat colour), then times, in the same run:

* the pipeline (``kiosk.services.photos.prepare_photo``: draft-mode decode, EXIF
  orientation, resize to 1600 px, JPEG q85, SHA-256, thumbnail), and
* a naive version: ``Image.open`` → full decode → resize → save, plus the same hash
  and thumbnail, so the two do the same job.

Goals: at most 150 ms per photo (median) and at least 3× faster than naive.

    .venv/bin/python benchmarks/photo_pipeline.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import load_average, time_calls

from kiosk.services.photos import DEFAULT_SETTINGS, prepare_photo

GOAL_MS = 150.0
GOAL_SPEEDUP = 3.0


def twelve_megapixel_jpeg(width: int = 4000, height: int = 3000, seed: int = 7) -> bytes:
    """A photo-like JPEG: sky and ground gradients, a car-ish shape, noise, EXIF tag 6."""
    sky = Image.linear_gradient("L").resize((width, height))
    red = sky.point(lambda v: 60 + v // 2)
    green = sky.point(lambda v: 90 + v // 3)
    blue = sky.point(lambda v: 200 - v // 2)
    picture = Image.merge("RGB", (red, green, blue))
    for band in (sky, red, green, blue):
        band.close()
    draw = ImageDraw.Draw(picture)
    draw.rounded_rectangle(
        (width * 0.15, height * 0.45, width * 0.85, height * 0.8), 180, fill=(150, 20, 30)
    )
    draw.rectangle((width * 0.3, height * 0.3, width * 0.7, height * 0.47), fill=(40, 50, 60))
    for cx in (0.3, 0.7):
        draw.ellipse(
            (width * cx - 300, height * 0.7, width * cx + 300, height * 0.7 + 600),
            fill=(20, 20, 20),
        )
    noise = Image.effect_noise((width, height), 40).filter(ImageFilter.GaussianBlur(0.6))
    noisy = Image.merge("RGB", (noise, noise, noise))
    mixed = Image.blend(picture, noisy, 0.25)
    for image in (picture, noise, noisy):
        image.close()
    exif = Image.Exif()
    exif[0x0112] = 6  # held upright: stored sideways, as most phones do
    buffer = io.BytesIO()
    mixed.save(buffer, "JPEG", quality=92, exif=exif)
    mixed.close()
    return buffer.getvalue()


def naive(data: bytes) -> bytes:
    """The obvious way: decode every pixel, turn upright, then shrink (same filter)."""
    settings = DEFAULT_SETTINGS
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        upright = ImageOps.exif_transpose(image)
        scale = settings.max_edge / max(upright.size)
        target = (round(upright.width * scale), round(upright.height * scale))
        shrunk = upright.resize(target, Image.Resampling.BICUBIC)
        upright.close()
        upright = shrunk
        out = io.BytesIO()
        upright.save(out, "JPEG", quality=settings.quality)
        preview = upright.reduce(5)
        thumb = io.BytesIO()
        preview.save(thumb, "JPEG", quality=settings.thumbnail_quality)
        upright.close()
        preview.close()
    hashlib.sha256(out.getvalue()).hexdigest()
    return out.getvalue()


def medians_ms(job, data: bytes, rounds: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median wall-clock and CPU milliseconds per call (CPU time is steadier on a busy box)."""
    job(data)  # warm up (imports, decoder tables)
    timings = time_calls(lambda: job(data), rounds)
    return timings.p50, timings.cpu_p50


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    data = twelve_megapixel_jpeg()
    with Image.open(io.BytesIO(data)) as probe:
        size = probe.size
    photo = prepare_photo(data)
    pipeline, pipeline_cpu = medians_ms(prepare_photo, data, args.rounds)
    baseline, baseline_cpu = medians_ms(naive, data, max(5, args.rounds // 2))
    speedup, speedup_cpu = baseline / pipeline, baseline_cpu / pipeline_cpu
    print(f"source: {size[0]}×{size[1]} JPEG, {len(data) / 1e6:.1f} MB (EXIF orientation 6)")
    print(
        f"kept:   {photo.width}×{photo.height} JPEG q{DEFAULT_SETTINGS.quality}, "
        f"{photo.size_bytes / 1e3:.0f} kB; thumbnail {len(photo.thumbnail) / 1e3:.0f} kB"
    )
    print(
        f"pipeline (draft decode): median {pipeline:.1f} ms wall, {pipeline_cpu:.1f} ms CPU "
        f"per photo (goal ≤ {GOAL_MS:.0f} ms)"
    )
    print(f"naive full decode:       median {baseline:.1f} ms wall, {baseline_cpu:.1f} ms CPU")
    print(f"speed-up: {speedup:.1f}× wall, {speedup_cpu:.1f}× CPU (goal ≥ {GOAL_SPEEDUP:.0f}×)")
    # Other jobs share this machine's cores: wall time then includes waiting for a core,
    # so the goals are judged on CPU time, which is what the photo costs a tablet.
    print(f"load average while measuring: {load_average()}")
    ok = pipeline_cpu <= GOAL_MS and speedup_cpu >= GOAL_SPEEDUP
    print("goals met" if ok else "GOALS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
