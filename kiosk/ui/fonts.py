"""Make a font with Chinese glyphs Kivy's default, so no character shows as a box.

The kiosk ships WenQuanYi Micro Hei (``assets/fonts``; Apache-2.0) so that it looks the
same on every machine, Windows kiosks included. Without it, a system CJK font is used,
and as a last resort Kivy's Roboto (Chinese then shows as boxes, and a warning is logged).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from kivy.core.text import DEFAULT_FONT, LabelBase

from shared.resources import cjk_font

log = logging.getLogger(__name__)

ASSET_FONT = cjk_font()
SYSTEM_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)
FONT_ENV = "CHECKIN_KIOSK_FONT"


def find_cjk_font() -> Path | None:
    """The first font file with Chinese glyphs: ``$CHECKIN_KIOSK_FONT``, ours, the system's."""
    candidates = [os.environ.get(FONT_ENV, ""), str(ASSET_FONT), *SYSTEM_FONTS]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def register_fonts() -> Path | None:
    """Register the CJK font as Kivy's default font; returns the file used."""
    font = find_cjk_font()
    if font is None:
        log.warning("No font with Chinese glyphs found; Chinese text will not display")
        return None
    LabelBase.register(DEFAULT_FONT, str(font))
    return font
