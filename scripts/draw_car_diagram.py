"""Render the car diagram's hand-written SVG drawings to PNG with Pillow.

The drawings of the generic sedan (``assets/diagram/{top,left,right,front,rear}.svg``)
are the source: line art written by hand for this project with a small subset of SVG
(``path`` with absolute ``M L H V C Q Z``, ``rect`` with ``rx``, ``circle``,
``ellipse``, ``line``, ``polyline``, ``polygon``, and ``g`` with ``fill``/``stroke``/
``stroke-width`` inherited and a ``matrix``/``translate``/``scale`` transform). This
script reads exactly that subset and draws the same outlines with Pillow, so the PNGs
the tablet and the check-in sheet use never drift from the SVGs. Drawn 4× larger and
scaled down, for smooth lines; on white, because the sheet is printed on white.

    .venv/bin/python scripts/draw_car_diagram.py        # writes <view>.png and <view>@2x.png
"""

from __future__ import annotations

import argparse
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw

DIAGRAM_DIR = Path(__file__).resolve().parents[1] / "assets" / "diagram"
VIEWS = ("top", "left", "right", "front", "rear")
# Widths of the two renders, in pixels, for a 1000-unit-wide drawing: the tablet screen
# and the printed sheet use the small one, hi-dpi screens the large one.
SIZES = {"": 0.6, "@2x": 1.2}
SUPERSAMPLE = 4
SVG = "{http://www.w3.org/2000/svg}"
CURVE_STEPS = 24

Point = tuple[float, float]
Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1, 0, 0, 1, 0, 0)


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + c * b2,
        b * a2 + d * b2,
        a * c2 + c * d2,
        b * c2 + d * d2,
        a * e2 + c * f2 + e,
        b * e2 + d * f2 + f,
    )


def _transform(text: str) -> Matrix:
    matrix = IDENTITY
    for name, args in re.findall(r"(\w+)\s*\(([^)]*)\)", text):
        values = [float(v) for v in re.split(r"[\s,]+", args.strip()) if v]
        if name == "matrix":
            step: Matrix = tuple(values)  # type: ignore[assignment]
        elif name == "translate":
            step = (1, 0, 0, 1, values[0], values[1] if len(values) > 1 else 0)
        elif name == "scale":
            step = (values[0], 0, 0, values[1] if len(values) > 1 else values[0], 0, 0)
        else:
            raise ValueError(f"transform {name} is not in the subset this script draws")
        matrix = _multiply(matrix, step)
    return matrix


def _apply(matrix: Matrix, point: Point) -> Point:
    a, b, c, d, e, f = matrix
    x, y = point
    return (a * x + c * y + e, b * x + d * y + f)


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", text)]


def _bezier(points: list[Point]) -> Iterator[Point]:
    """Points along a quadratic or cubic Bézier curve (the first point left out)."""
    for step in range(1, CURVE_STEPS + 1):
        t = step / CURVE_STEPS
        layer = points
        while len(layer) > 1:
            layer = [
                (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t) for a, b in pairwise(layer)
            ]
        yield layer[0]


def path_outlines(d: str) -> list[tuple[list[Point], bool]]:
    """The outlines of a path: (points, closed) for each subpath."""
    tokens = re.findall(r"[MLHVCQZ]|-?\d+(?:\.\d+)?", d)
    outlines: list[tuple[list[Point], bool]] = []
    current: list[Point] = []
    command = ""
    index = 0

    def take(count: int) -> list[float]:
        nonlocal index
        values = [float(v) for v in tokens[index : index + count]]
        index += count
        return values

    while index < len(tokens):
        token = tokens[index]
        if token.isalpha():
            command = token
            index += 1
            if command == "Z":
                outlines.append((current, True))
                current = []
                continue
        if command == "M":
            if current:
                outlines.append((current, False))
            x, y = take(2)
            current = [(x, y)]
            command = "L"
        elif command == "L":
            x, y = take(2)
            current.append((x, y))
        elif command == "H":
            (x,) = take(1)
            current.append((x, current[-1][1]))
        elif command == "V":
            (y,) = take(1)
            current.append((current[-1][0], y))
        elif command == "C":
            x1, y1, x2, y2, x, y = take(6)
            current.extend(_bezier([current[-1], (x1, y1), (x2, y2), (x, y)]))
        elif command == "Q":
            x1, y1, x, y = take(4)
            current.extend(_bezier([current[-1], (x1, y1), (x, y)]))
        else:
            raise ValueError(f"path command {command!r} is not in the subset this script draws")
    if current:
        outlines.append((current, False))
    return outlines


def _shape_outlines(element: ET.Element) -> list[tuple[list[Point], bool]] | None:
    tag = element.tag.removeprefix(SVG)
    get = element.get
    if tag == "path":
        return path_outlines(get("d", ""))
    if tag == "line":
        x1, y1, x2, y2 = (float(get(name, "0")) for name in ("x1", "y1", "x2", "y2"))
        return [([(x1, y1), (x2, y2)], False)]
    if tag in ("polyline", "polygon"):
        values = _numbers(get("points", ""))
        return [(list(zip(values[::2], values[1::2], strict=True)), tag == "polygon")]
    if tag == "rect":
        x, y, w, h = (float(get(name, "0")) for name in ("x", "y", "width", "height"))
        r = min(float(get("rx", "0")), w / 2, h / 2)
        if r == 0:
            return [([(x, y), (x + w, y), (x + w, y + h), (x, y + h)], True)]
        k = 0.5523 * r
        right, bottom = x + w, y + h
        d = " ".join(
            (
                f"M {x + r},{y} L {right - r},{y}",
                f"C {right - r + k},{y} {right},{y + r - k} {right},{y + r}",
                f"L {right},{bottom - r}",
                f"C {right},{bottom - r + k} {right - r + k},{bottom} {right - r},{bottom}",
                f"L {x + r},{bottom}",
                f"C {x + r - k},{bottom} {x},{bottom - r + k} {x},{bottom - r}",
                f"L {x},{y + r} C {x},{y + r - k} {x + r - k},{y} {x + r},{y} Z",
            )
        )
        return path_outlines(d)
    if tag in ("circle", "ellipse"):
        cx, cy = float(get("cx", "0")), float(get("cy", "0"))
        rx = float(get("r") or get("rx", "0"))
        ry = float(get("r") or get("ry", "0"))
        kx, ky = 0.5523 * rx, 0.5523 * ry
        d = (
            f"M {cx + rx},{cy} C {cx + rx},{cy + ky} {cx + kx},{cy + ry} {cx},{cy + ry} "
            f"C {cx - kx},{cy + ry} {cx - rx},{cy + ky} {cx - rx},{cy} "
            f"C {cx - rx},{cy - ky} {cx - kx},{cy - ry} {cx},{cy - ry} "
            f"C {cx + kx},{cy - ry} {cx + rx},{cy - ky} {cx + rx},{cy} Z"
        )
        return path_outlines(d)
    return None


def _colour(value: str | None) -> tuple[int, int, int] | None:
    if value is None or value == "none":
        return None
    rgb = ImageColor.getrgb(value)
    return (rgb[0], rgb[1], rgb[2])


def render(svg_path: Path, width: int) -> Image.Image:
    """The drawing in ``svg_path`` as an RGB image ``width`` pixels wide, on white."""
    root = ET.parse(svg_path).getroot()
    _, _, view_w, view_h = _numbers(root.get("viewBox", ""))
    scale = width * SUPERSAMPLE / view_w
    big = Image.new("RGB", (round(view_w * scale), round(view_h * scale)), "white")
    draw = ImageDraw.Draw(big)

    def walk(element: ET.Element, style: dict[str, str], matrix: Matrix) -> None:
        style = {
            **style,
            **{k: element.get(k, "") for k in ("fill", "stroke", "stroke-width") if element.get(k)},
        }
        if element.get("transform"):
            matrix = _multiply(matrix, _transform(element.get("transform", "")))
        outlines = _shape_outlines(element)
        if outlines is not None:
            fill = _colour(style.get("fill", "#000000"))
            stroke = _colour(style.get("stroke"))
            line_width = max(1, round(float(style.get("stroke-width", "1")) * scale))
            for points, closed in outlines:
                pixels = [(x * scale, y * scale) for x, y in (_apply(matrix, p) for p in points)]
                if fill is not None and len(pixels) > 2:
                    draw.polygon(pixels, fill=fill)
                if stroke is not None:
                    line = [*pixels, pixels[0], pixels[1]] if closed else pixels
                    draw.line(line, fill=stroke, width=line_width, joint="curve")
                    radius = line_width / 2
                    if not closed:  # round caps
                        for x, y in (pixels[0], pixels[-1]):
                            draw.ellipse((x - radius, y - radius, x + radius, y + radius), stroke)
        for child in element:
            walk(child, style, matrix)

    walk(root, {}, IDENTITY)
    small = big.resize((width, round(view_h * width / view_w)), Image.Resampling.LANCZOS)
    big.close()
    return small


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DIAGRAM_DIR)
    args = parser.parse_args(argv)
    for view in VIEWS:
        source = DIAGRAM_DIR / f"{view}.svg"
        _, _, view_w, _ = _numbers(ET.parse(source).getroot().get("viewBox", ""))
        for suffix, factor in SIZES.items():
            image = render(source, round(view_w * factor))
            target = args.out / f"{view}{suffix}.png"
            image.save(target, optimize=True)
            print(f"{target} {image.width}×{image.height}")
            image.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
