"""One way to reach the files the code ships: the car drawings and the CJK font.

They live in the ``assets`` package (the repository's top-level ``assets/`` folder) and
are read through :mod:`importlib.resources`, so a wheel installed anywhere finds them,
not only a checkout. Kivy and fpdf2 want real file names: a resource that is not a plain
file (a zipped install) is copied out once, for the life of the process.
"""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from functools import cache
from importlib.resources import as_file, files
from pathlib import Path

_extracted = ExitStack()
atexit.register(_extracted.close)


@cache
def asset_path(*parts: str) -> Path:
    """A file or folder of the shipped assets, e.g. ``asset_path("fonts", "x.ttc")``."""
    resource = files("assets").joinpath(*parts)
    if isinstance(resource, Path):
        return resource
    return _extracted.enter_context(as_file(resource))


def diagram_dir() -> Path:
    """The folder of the car drawings (``<view>.svg``, ``<view>.png``, ``<view>@2x.png``)."""
    return asset_path("diagram")


def cjk_font() -> Path:
    """The shipped font with Chinese glyphs (a TrueType collection; fpdf2 reads face 0)."""
    return asset_path("fonts", "wqy-microhei.ttc")
