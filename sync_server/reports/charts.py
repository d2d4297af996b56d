"""A report's chart as SVG drawn on the server by pygal: no script, no web font, nothing
fetched from elsewhere, so the page works on a shop LAN without internet. Titles, axis
titles and legends come in the reader's language from the table (``tables.ChartData``);
the font list names the CJK fonts the back-office PC has."""

from __future__ import annotations

import math
import sys
from xml.etree import ElementTree

import pygal
from pygal.style import Style

from sync_server.reports.tables import ChartData

# pygal puts a finder for its map plugins (which we never use) on ``sys.meta_path``; it
# has no ``find_spec``, so every later import that misses warns (ImportWarning). Take it
# off again.
sys.meta_path[:] = [
    finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"
]

FONTS = "'Noto Sans CJK SC', 'WenQuanYi Micro Hei', 'Microsoft YaHei', 'PingFang SC', sans-serif"
STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#333",
    foreground_strong="#111",
    foreground_subtle="#999",
    colors=("#2f6db5", "#c0392b", "#27ae60", "#e67e22", "#8e44ad", "#16a085", "#7f8c8d"),
    font_family=FONTS,
    title_font_size=17,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
)
KINDS = {
    "bar": pygal.Bar,
    "line": pygal.Line,
    "horizontal_bar": pygal.HorizontalBar,
    "stacked_bar": pygal.StackedBar,
    "horizontal_stacked_bar": pygal.HorizontalStackedBar,
}


def _whole_ticks(highest: float) -> list[int]:
    """0 … at least ``highest``, in steps of 1, 2, 5, 10, … (at most about 8 ticks)."""
    step = 1
    while highest / step > 8:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    top = int(-(-max(highest, 1) // step) * step)
    return list(range(0, top + 1, step))


def _highest(data: ChartData, secondary: bool) -> float:
    values = [
        value
        for series in data.series
        if series.secondary == secondary
        for value in series.values
        if value is not None
    ]
    if data.kind.startswith("stacked") or data.kind.startswith("horizontal_stacked"):
        values = [
            sum(series.values[i] or 0 for series in data.series) for i in range(len(data.labels))
        ] or [0]
    return max(values, default=0)


def has_values(data: ChartData) -> bool:
    """Whether there is anything to draw (no chart of nothing but axes)."""
    return bool(data.labels) and any(
        value is not None for series in data.series for value in series.values
    )


def chart_svg(data: ChartData, width: int = 640, height: int = 420) -> str:
    """The chart as an ``<svg>`` element, to put in the page as it is."""
    options: dict[str, object] = {}
    secondary = any(series.secondary for series in data.series)
    if data.y_labels:
        options.update(y_labels=data.y_labels, range=(data.y_labels[0], data.y_labels[-1]))
        if data.secondary_labels:
            labels = data.secondary_labels
            options["secondary_range"] = (labels[0], labels[-1])
    elif data.counts or secondary:
        ticks = _whole_ticks(_highest(data, secondary=False))
        options.update(y_labels=ticks, range=(0, ticks[-1]))
    if secondary and not data.y_labels:
        # The right-hand axis counts cars: whole numbers on the same grid lines.
        intervals = len(ticks) - 1
        per_line = max(1, math.ceil(_highest(data, secondary=True) / intervals))
        options["secondary_range"] = (0, intervals * per_line)
    horizontal = data.kind.startswith("horizontal")
    chart = KINDS[data.kind](
        style=STYLE,
        width=width,
        height=height,
        title=data.title,
        # A horizontal chart draws its labels up the side and its values along the bottom.
        x_title=data.y_title if horizontal else data.x_title,
        y_title=data.x_title if horizontal else data.y_title,
        js=[],
        disable_xml_declaration=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=max(1, min(2, len(data.series))),
        truncate_legend=-1,
        truncate_label=-1,
        margin_bottom=24,
        x_label_rotation=30 if len(data.labels) > 6 else 0,
        print_values=False,
        no_data_text="—",
        show_minor_x_labels=True,
        **options,
    )
    # pygal draws a horizontal chart's first label at the bottom: the first (the star, the
    # most cases) goes on top.
    order = slice(None, None, -1) if horizontal else slice(None)
    chart.x_labels = data.labels[order]
    for series in data.series:
        chart.add(series.name, series.values[order], secondary=series.secondary)
    # pygal writes its settings into a <script> even with no script files: drop it (the
    # page's CSP would refuse it anyway), keep the drawing.
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rpartition("}")[2] == "script":
                parent.remove(child)
    return ElementTree.tostring(tree, encoding="unicode")
