"""Whether a screen is usable at the window's size: a walk over the widget tree.

:func:`layout_problems` looks at what the window shows now and lists, in words, every
widget a user needs (a button, a text field, a text, a drawing surface) that

- lies outside what can be seen: the window, or the part of a scrolling page that
  scrolling can bring into view;
- overlaps another such widget (one drawn over the other);
- shows text that does not fit in its box (cut off, or running over its neighbours);
- is a touch target smaller than a finger (``MIN_TOUCH_DP`` at the screen's density).

:func:`reach` brings a widget into view the way a person does: by swiping its page.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

from kivy.core.window import Window
from kivy.metrics import dp
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.scrollview import ScrollView
from kivy.uix.stencilview import StencilView
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

MIN_TOUCH_DP = 44
TOLERANCE = 1.5  # pixels of rounding

Box = tuple[float, float, float, float]  # left, bottom, right, top in window pixels

# Widgets that draw and take touches as a whole (what is drawn on them is theirs).
SURFACES = ("CarDiagram", "PhotoView", "SignaturePad", "ZoomedPhoto", "PhotoThumb")
# Not part of a screen's layout: the staff's hidden corner, passing messages.
IGNORED = ("StaffCorner", "Toast", "BusySpinner")
# Shown over the whole screen: what is under them does not count while they show.
COVERS = ("IdleOverlay", "StaffPinOverlay")


def window_box(widget: Widget) -> Box:
    left, bottom = widget.to_window(widget.x, widget.y)
    right, top = widget.to_window(widget.right, widget.top)
    return left, bottom, right, top


def _inside(inner: Box, outer: Box) -> bool:
    return (
        inner[0] >= outer[0] - TOLERANCE
        and inner[1] >= outer[1] - TOLERANCE
        and inner[2] <= outer[2] + TOLERANCE
        and inner[3] <= outer[3] + TOLERANCE
    )


def _intersection(a: Box, b: Box) -> Box:
    return max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])


def _overlap(a: Box, b: Box) -> bool:
    return (
        min(a[2], b[2]) - max(a[0], b[0]) > TOLERANCE
        and min(a[3], b[3]) - max(a[1], b[1]) > TOLERANCE
    )


def _name(widget: Widget) -> str:
    text = getattr(widget, "text", "") or getattr(widget, "hint_text", "")
    ident = next((key for key, value in _ids_of(widget).items() if value is widget), "")
    shown = f" {text[:40]!r}" if isinstance(text, str) and text else ""
    return f"{type(widget).__name__}{'#' + ident if ident else ''}{shown}"


def _ids_of(widget: Widget) -> dict[str, Any]:
    node: Any = widget.parent
    for _ in range(8):
        if node is None:
            return {}
        ids = getattr(node, "ids", None)
        if ids and any(value is widget for value in ids.values()):
            return dict(ids)
        node = getattr(node, "parent", None)
    return {}


def _needed(widget: Widget) -> bool:
    """What a user reads or touches (a layout's boxes are not)."""
    if isinstance(widget, ButtonBehavior | TextInput):
        return True
    if type(widget).__name__ in SURFACES:
        return True
    return isinstance(widget, Label) and bool(widget.text.strip())


def _reachable(scroll: ScrollView, clip: Box) -> Box:
    """Where the content of ``scroll`` can be brought by scrolling it."""
    seen = _intersection(window_box(scroll), clip)
    content = scroll._viewport
    if content is None:
        return seen
    inner = window_box(content)
    left, bottom, right, top = seen
    if scroll.do_scroll_x and content.width > scroll.width + TOLERANCE:
        left, right = inner[0], inner[2]
    if scroll.do_scroll_y and content.height > scroll.height + TOLERANCE:
        bottom, top = inner[1], inner[3]
    return left, bottom, right, top


def _collect(
    widget: Widget,
    clip: Box,
    layer: int,
    found: list[tuple[Widget, Box, Box, Box, int]],
    stencil: bool = False,
    shown: Box | None = None,
) -> None:
    if widget.opacity <= 0.01 or widget.width < 1 or widget.height < 1:
        return
    kind = type(widget).__name__
    if kind in IGNORED:
        return
    if _needed(widget):
        box = window_box(widget)
        if stencil and kind in SURFACES:  # a zoomed picture, panned inside its frame
            box = _intersection(box, clip)
        seen = box if shown is None else _intersection(box, shown)
        found.append((widget, box, seen, clip, layer))
        if kind in SURFACES or isinstance(widget, TextInput | Label):
            return  # what is drawn on it is its own
    inner_clip = clip
    if isinstance(widget, ScrollView):
        inner_clip = _reachable(widget, clip)
        own = window_box(widget)  # what shows of the content: what the list shows now
        shown = own if shown is None else _intersection(own, shown)
    elif isinstance(widget, StencilView):
        stencil = True
        inner_clip = _intersection(window_box(widget), clip)
    for child in widget.children:
        _collect(child, inner_clip, layer, found, stencil, shown)


def _text_problem(label: Label) -> str | None:
    if isinstance(label, TextInput) or not isinstance(label, Label) or not label.text.strip():
        return None
    label.texture_update()
    tw, th = label.texture_size
    if getattr(label, "shorten", False) and label.text_size[0] is not None:
        return None  # shortened on purpose (a long name): it still fits its box
    if tw > label.width + TOLERANCE or th > label.height + TOLERANCE:
        return f"text {tw:.0f}×{th:.0f} does not fit its {label.width:.0f}×{label.height:.0f}"
    return None


def _related(a: Widget, b: Widget) -> bool:
    """One holds the other (a row that is a button, and its text)."""
    for child, holder in ((a, b), (b, a)):
        node = child.parent
        while node is not None and node is not Window:
            if node is holder:
                return True
            node = getattr(node, "parent", None)
    return False


def layout_problems(where: str = "") -> list[str]:
    """Everything wrong with what the window shows now (see the module's words)."""
    found: list[tuple[Widget, Box, Box, Box, int]] = []
    screen_box: Box = (0, 0, Window.width, Window.height)
    # Each layer of the app's root (the screens, the keyboard, an overlay) and each open
    # dialog is looked at apart; one that covers the screen hides what is under it.
    layers = [
        layer
        for top in reversed(Window.children)
        for layer in (top.children[::-1] if type(top).__name__ == "KioskRoot" else [top])
    ]
    covering = [
        index
        for index, layer in enumerate(layers)
        if isinstance(layer, ModalView) or (type(layer).__name__ in COVERS and layer.opacity > 0)
    ]
    for index, layer in enumerate(layers):
        if not covering or index == covering[-1]:
            _collect(layer, screen_box, index, found)
    prefix = f"{where}: " if where else ""
    problems = []
    smallest = dp(MIN_TOUCH_DP) - TOLERANCE
    for widget, box, _seen, clip, _layer in found:
        if not _inside(box, clip):
            problems.append(f"{prefix}{_name(widget)} is outside the screen at {_fmt(box)}")
        trouble = _text_problem(widget)
        if trouble:
            problems.append(f"{prefix}{_name(widget)}: {trouble}")
        touchable = isinstance(widget, ButtonBehavior | TextInput)
        if touchable and min(widget.width, widget.height) < smallest:
            problems.append(
                f"{prefix}{_name(widget)} is {widget.width:.0f}×{widget.height:.0f}: "
                f"under {MIN_TOUCH_DP} dp to touch"
            )
    for (a, _a, box_a, _ca, layer_a), (b, _b, box_b, _cb, layer_b) in combinations(found, 2):
        if layer_a == layer_b and _overlap(box_a, box_b) and not _related(a, b):
            problems.append(f"{prefix}{_name(a)} and {_name(b)} overlap")
    return problems


def _fmt(box: Box) -> str:
    return "({:.0f}, {:.0f})–({:.0f}, {:.0f})".format(*box)


def scroller_of(widget: Widget) -> ScrollView | None:
    node = widget.parent
    while node is not None and node is not Window:
        if isinstance(node, ScrollView):
            return node
        node = getattr(node, "parent", None)
    return None


def in_view(widget: Widget) -> bool:
    """The whole of ``widget`` is inside the window and every scroll view around it."""
    box = window_box(widget)
    if not _inside(box, (0, 0, Window.width, Window.height)):
        return False
    node = scroller_of(widget)
    while node is not None:
        if not _inside(box, window_box(node)):
            return False
        node = scroller_of(node)
    return True
