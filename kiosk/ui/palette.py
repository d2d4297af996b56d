"""Colours and sizes of the kiosk, in one place: dark text on light surfaces.

Contrast ratios against ``BACKGROUND``/``SURFACE`` are at least 7:1 for text and 3:1 for
borders, so the screens stay readable in a bright lobby. Sizes are in dp/sp numbers;
the ``.kv`` files apply ``dp()``/``sp()``.
"""

from __future__ import annotations

RGBA = tuple[float, float, float, float]


def rgba(hex_colour: str, alpha: float = 1.0) -> RGBA:
    """``"#0A4F9E"`` as Kivy's 0..1 RGBA tuple."""
    value = hex_colour.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (red, green, blue, alpha)


BACKGROUND = rgba("#EEF1F4")
SURFACE = rgba("#FFFFFF")
TEXT = rgba("#12171D")
TEXT_MUTED = rgba("#3F4A55")
BORDER = rgba("#66727F")

PRIMARY = rgba("#0A4F9E")
PRIMARY_PRESSED = rgba("#073A75")
ON_PRIMARY = rgba("#FFFFFF")
SELECTED_SURFACE = rgba("#D5E3F5")

KEY_PRESSED = rgba("#C6D8EE")
DISABLED = rgba("#C5CDD5")
ON_DISABLED = rgba("#39434D")

ERROR = rgba("#A3161A")
ERROR_SURFACE = rgba("#FCE9E9")
ONLINE = rgba("#17692F")
OFFLINE = rgba("#8A4B00")
CHECKING = rgba("#66727F")

TOAST = rgba("#12171D")
ON_TOAST = rgba("#FFFFFF")

# Sizes (dp for lengths, sp for text).
TOUCH_MIN = 48
KEY_HEIGHT = 64
KEYPAD_KEY_HEIGHT = 58  # packed keypads: still well above the 48 dp minimum
ACTION_HEIGHT = 88
RADIUS = 12
PADDING = 28
SPACING = 14

FONT_SMALL = 20
FONT_BODY = 24
FONT_BUTTON = 28
FONT_TITLE = 36
FONT_CHOICE = 34
FONT_HERO = 52
FONT_CODE = 52

# The bundled CJK font has no bold face and Kivy's bold style does nothing with it;
# a text outline in the text's own colour makes titles heavier in both scripts.
EMPHASIS = 1
