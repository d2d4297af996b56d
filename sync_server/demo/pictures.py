"""The demo's pictures, drawn here so the demo needs no files: car, tyre and coil photos and
signatures, stored like a tablet's uploads."""

from __future__ import annotations

import hashlib
import io
import math

from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy.orm import Session

from shared import domain
from sync_server.sync.blobs import BlobStore
from sync_server.sync.tables import Blob


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=82)
    return buffer.getvalue()


def car_photo(body: tuple[int, int, int], damage: str) -> bytes:
    """A side view of a car in the workshop, with a scratch or a dent to see."""
    image = Image.new("RGB", (1280, 960), (214, 219, 226))
    draw = ImageDraw.Draw(image)
    for y in range(0, 560, 4):  # the workshop wall, lighter towards the top
        shade = 232 - y // 12
        draw.rectangle((0, y, 1280, y + 4), fill=(shade, shade + 2, shade + 6))
    draw.rectangle((0, 640, 1280, 960), fill=(150, 154, 160))  # the floor
    for x in range(0, 1280, 160):
        draw.line((x, 640, x - 120, 960), fill=(138, 142, 148), width=3)
    dark = tuple(max(0, c - 45) for c in body)
    draw.rounded_rectangle((130, 430, 1150, 650), radius=70, fill=body)  # lower body
    draw.polygon([(330, 440), (450, 300), (820, 290), (990, 440)], fill=body)  # cabin
    draw.polygon([(372, 432), (470, 318), (620, 314), (620, 432)], fill=(160, 190, 215))
    draw.polygon([(640, 432), (640, 312), (805, 308), (935, 432)], fill=(160, 190, 215))
    draw.line((630, 300, 630, 640), fill=dark, width=5)  # the door gap
    draw.line((130, 520, 1150, 520), fill=dark, width=3)
    draw.rectangle((1100, 470, 1150, 500), fill=(250, 230, 170))  # head light
    draw.rectangle((130, 470, 165, 500), fill=(200, 40, 40))  # tail light
    for centre in (320, 960):
        draw.ellipse((centre - 105, 545, centre + 105, 755), fill=(28, 28, 30))
        draw.ellipse((centre - 60, 590, centre + 60, 710), fill=(170, 174, 180))
        draw.ellipse((centre - 18, 632, centre + 18, 668), fill=(90, 92, 96))
    if damage == "scratch":
        draw.line((690, 548, 805, 575), fill=(235, 235, 235), width=5)
        draw.line((700, 560, 790, 580), fill=(220, 220, 220), width=3)
    elif damage == "dent":
        draw.ellipse((860, 560, 950, 615), fill=dark)
        draw.arc((860, 560, 950, 615), 200, 340, fill=(240, 240, 240), width=4)
    return _jpeg(image.filter(ImageFilter.SMOOTH))


def tyre_photo() -> bytes:
    """A close-up of a worn tyre tread, the wear bars level with the tread."""
    image = Image.new("RGB", (1280, 960), (120, 118, 112))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((180, 60, 1100, 900), radius=60, fill=(36, 36, 38))
    for x in (380, 560, 740, 920):
        draw.rectangle((x - 14, 60, x + 14, 900), fill=(22, 22, 24))  # grooves, shallow
        for y in range(120, 900, 180):
            draw.rectangle((x - 14, y, x + 14, y + 26), fill=(58, 58, 60))  # wear bars
    for y in range(90, 900, 60):
        draw.line((180, y, 1100, y + 30), fill=(48, 48, 50), width=6)
    return _jpeg(image)


def coil_photo() -> bytes:
    """Under the bonnet: six ignition coils, the third one cracked."""
    image = Image.new("RGB", (1280, 960), (44, 46, 50))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((120, 260, 1160, 700), radius=30, fill=(70, 72, 78))
    for index in range(6):
        x = 220 + index * 170
        draw.rounded_rectangle((x - 50, 320, x + 50, 640), radius=18, fill=(24, 24, 26))
        draw.ellipse((x - 36, 340, x + 36, 412), fill=(210, 120, 30))
        if index == 2:
            draw.line((x - 30, 460, x + 10, 540), fill=(230, 230, 230), width=6)
            draw.line((x + 10, 540, x - 8, 610), fill=(230, 230, 230), width=5)
    return _jpeg(image)


def signature_strokes(seed: int) -> list[list[domain.StrokePoint]]:
    """A handwritten-looking signature: two strokes of a wave and a flourish."""
    first = [
        domain.StrokePoint(
            round(0.08 + step * 0.012, 4),
            round(0.55 - 0.25 * math.sin(step / (3.2 + seed % 3)) * (1 - step / 80), 4),
            step * 12,
        )
        for step in range(60)
    ]
    second = [
        domain.StrokePoint(
            round(0.55 + step * 0.02, 4), round(0.72 - step * 0.012, 4), 900 + step * 15
        )
        for step in range(18)
    ]
    return [first, second]


def signature_png(strokes: list[list[domain.StrokePoint]]) -> bytes:
    image = Image.new("RGB", (600, 200), "white")
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line(
            [(p.x * 600, p.y * 200) for p in stroke], fill=(17, 17, 17), width=4, joint="curve"
        )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def store_picture(
    session: Session, blob_store: BlobStore | None, data: bytes, content_type: str
) -> domain.PhotoRef:
    """Keep a picture as a tablet's upload would be kept; its reference either way."""
    sha = hashlib.sha256(data).hexdigest()
    with Image.open(io.BytesIO(data)) as picture:
        width, height = picture.size
    if blob_store is not None:
        if not blob_store.has(sha):
            blob_store.receive(sha, content_type, io.BytesIO(data))
        if session.get(Blob, sha) is None:
            session.add(
                Blob(
                    sha256=sha,
                    content_type=content_type,
                    size_bytes=len(data),
                    width=width,
                    height=height,
                    uploaded_by="demo",
                )
            )
    return domain.PhotoRef(
        sha256=sha,
        size_bytes=len(data),
        content_type=domain.ImageType(content_type),
        width=width,
        height=height,
    )
