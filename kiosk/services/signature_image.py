"""Render a signature's vector strokes to PNG with Pillow, the same on every machine.

The PNG is drawn from the strokes alone (no screen capture), without any time or
software stamp in the file, so the same strokes always give the same bytes and the same
SHA-256 — on the kiosk, the tablet or the server.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw

from shared.domain import StrokePoint

IMAGE_WIDTH = 800
IMAGE_HEIGHT = 300
LINE_WIDTH = 5
INK = 0  # black on white, 8-bit greyscale
PAPER = 255


def render_signature_png(
    strokes: Sequence[Sequence[StrokePoint]],
    width: int = IMAGE_WIDTH,
    height: int = IMAGE_HEIGHT,
) -> bytes:
    """PNG bytes of ``strokes`` (points in pad units 0..1, y downwards) on white."""
    image = Image.new("L", (width, height), PAPER)
    draw = ImageDraw.Draw(image)
    radius = LINE_WIDTH / 2
    for stroke in strokes:
        points = [(point.x * (width - 1), point.y * (height - 1)) for point in stroke]
        if len(points) > 1:
            draw.line(points, fill=INK, width=LINE_WIDTH, joint="curve")
        for x, y in points[:1] + points[-1:]:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=INK)
    buffer = io.BytesIO()
    # Fast compression: a signature picture is a few KB at any level, and the kiosk saves
    # it while the customer waits (level 9 took three times as long).
    image.save(buffer, format="PNG", optimize=False, compress_level=1)
    return buffer.getvalue()
