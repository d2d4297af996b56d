"""The advisor tablet on small screens: a 7-inch tablet (1024 × 600) and a tablet held
upright (800 × 1280), in both languages:
``docs/screenshots/tablet-<screen>-small-<width>x<height>-<lang>.png``.

The same walk as ``render_walkaround_screenshots.py`` and the queue of
``render_screenshots.py``, on the smaller window (the page swiped where it is taller
than the screen). Usage::

    .venv/bin/python scripts/render_small_screenshots.py [--out DIR] [--size 1024x600]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from screenshot_shop import REPO, prepare_kivy

SIZES = ((1024, 600), (800, 1280))
# The walk-around's screens and the queue worth a look at each size.
KEPT = (
    "walkaround-damage-editor",
    "walkaround-damage",
    "walkaround-photos",
    "walkaround-car-warning",
    "walkaround-car",
    "walkaround-belongings",
    "walkaround-sign",
    "walkaround-signed",
    "queue",
)


def render_small(out_dir: Path, sizes: tuple[tuple[int, int], ...] = SIZES) -> list[Path]:
    from render_screenshots import render_tablet
    from render_walkaround_screenshots import render_walkaround

    written: list[Path] = []
    for width, height in sizes:
        for lang in ("en", "zh_CN"):
            with tempfile.TemporaryDirectory() as scratch:
                folder = Path(scratch)
                render_walkaround(lang, folder, (width, height))
                render_tablet(lang, folder, (width, height))
                for name in KEPT:
                    target = out_dir / f"tablet-{name}-small-{width}x{height}-{lang}.png"
                    shutil.copyfile(folder / f"tablet-{name}-{lang}.png", target)
                    written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument(
        "--size",
        choices=[f"{w}x{h}" for w, h in SIZES],
        help="only this size",
    )
    args = parser.parse_args(argv)
    sizes = tuple(s for s in SIZES if args.size in (None, f"{s[0]}x{s[1]}"))
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "scripts"))
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kivy-home-") as kivy_home:
        prepare_kivy(kivy_home)
        from kivy.config import Config

        # The offscreen window draws no taller than it was made: make it as tall as the
        # tallest size first (it shrinks for the others).
        Config.set("graphics", "width", str(max(w for w, _h in SIZES)))
        Config.set("graphics", "height", str(max(h for _w, h in SIZES)))
        for path in render_small(args.out, sizes):
            print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
