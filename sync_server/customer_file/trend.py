"""The tread-depth trend drawn as an inline SVG (no script, no outside file): one line
per tyre through its readings, a dashed line on to the day the projection reaches the
limit, and the limit itself. Coordinates are worked out here; the template draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sync_server.customer_file.wear import NEW_TREAD_MM, Projection, Reading

WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 12, 28
COLOURS = {"fl": "#1f6feb", "fr": "#d97706", "rl": "#16a34a", "rr": "#9333ea"}


@dataclass
class Series:
    position: str
    colour: str
    points: str  # "x,y x,y ..." of the readings
    dots: list[tuple[float, float, str]] = field(default_factory=list)  # x, y, tooltip
    projected: str = ""  # "x,y x,y" from the last reading to the limit


@dataclass
class Chart:
    width: int
    height: int
    limit_y: float
    limit_mm: float
    series: list[Series]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    plot: tuple[int, int, int, int]  # left, top, right, bottom


def tread_chart(
    readings: dict[str, list[Reading]], projections: dict[str, Projection], limit: float
) -> Chart | None:
    """The chart of these readings, or ``None`` when there is nothing to draw."""
    days = [r.day for values in readings.values() for r in values]
    if not days:
        return None
    ends = [p.on_day for p in projections.values() if p.on_day is not None]
    first = min(days)
    last = max(days + ends)
    if last - first < timedelta(days=30):
        last = first + timedelta(days=30)
    span = (last - first).days
    top_mm = max([NEW_TREAD_MM] + [r.value for values in readings.values() for r in values])

    def x(day: date) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * (day - first).days / span, 1)

    def y(mm: float) -> float:
        return round(TOP + (HEIGHT - TOP - BOTTOM) * (1 - max(mm, 0) / top_mm), 1)

    series = []
    for position in sorted(readings, key=lambda p: list(COLOURS).index(p) if p in COLOURS else 9):
        values = sorted(readings[position], key=lambda r: r.day)
        line = Series(position, COLOURS.get(position, "#555555"), "")
        line.points = " ".join(f"{x(r.day)},{y(r.value)}" for r in values)
        line.dots = [
            (x(r.day), y(r.value), f"{r.day.isoformat()}: {r.value:.1f} mm") for r in values
        ]
        projection = projections.get(position)
        if (
            projection is not None
            and projection.on_day is not None
            and not projection.already_below
        ):
            latest = values[-1]
            line.projected = f"{x(latest.day)},{y(latest.value)} {x(projection.on_day)},{y(limit)}"
        series.append(line)
    y_ticks = [(y(mm), f"{mm:g}") for mm in range(0, int(top_mm) + 1, 2)]
    x_ticks = []
    for year in range(first.year, last.year + 2):
        tick = date(year, 1, 1)
        if first <= tick <= last:
            x_ticks.append((x(tick), str(year)))
    if not x_ticks:
        x_ticks = [(x(first), first.isoformat()), (x(last), last.isoformat())]
    return Chart(
        WIDTH,
        HEIGHT,
        y(limit),
        limit,
        series,
        y_ticks,
        x_ticks,
        (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM),
    )


__all__ = ["Chart", "Series", "tread_chart"]
