"""How fast a car is driven and when a measured value reaches its limit (pure arithmetic).

The car's kilometres per day come from its own odometer readings: the first and the
last reading of its visits (two readings on different days at least), or, with one
reading only, the distance since it was bought (the purchase date, or 1 January of its
model year) — never a national average. A tyre's wear per kilometre is the slope of a
least-squares line through its readings against the odometer; with one reading, the
wear since the tyre was new (``NEW_TREAD_MM``) over the odometer, which assumes the
tyres the car came with. Where the car's driving or the wear cannot be told, the
projection says so instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# The legal minimum of a passenger car's tread in China (GB 7258), and a new tyre's.
TREAD_LIMIT_MM = 1.6
NEW_TREAD_MM = 8.0


@dataclass(frozen=True)
class Reading:
    """One measurement of one value on one day, at one odometer reading."""

    day: date
    odometer_km: int | None
    value: float


def km_per_day(odometers: list[tuple[date, int]], bought: date | None = None) -> float | None:
    """The car's kilometres per day from its ``(day, odometer)`` readings."""
    readings = sorted((day, km) for day, km in odometers if km is not None and km >= 0)
    if len(readings) >= 2:
        (first_day, first_km), (last_day, last_km) = readings[0], readings[-1]
        days = (last_day - first_day).days
        if days > 0 and last_km >= first_km:
            return (last_km - first_km) / days
    if readings and bought is not None:
        day, km = readings[-1]
        days = (day - bought).days
        if days > 0 and km > 0:
            return km / days
    return None


def wear_per_km(readings: list[Reading], new_value: float = NEW_TREAD_MM) -> float | None:
    """How much the value drops per kilometre (positive), or ``None`` when unknown."""
    points = [(r.odometer_km, r.value) for r in readings if r.odometer_km is not None]
    if len({km for km, _ in points}) >= 2:
        n = len(points)
        mean_x = sum(km for km, _ in points) / n
        mean_y = sum(value for _, value in points) / n
        sxx = sum((km - mean_x) ** 2 for km, _ in points)
        sxy = sum((km - mean_x) * (value - mean_y) for km, value in points)
        slope = sxy / sxx
        return -slope if slope < 0 else None
    if len(points) == 1:
        km, value = points[0]
        if km > 0 and value < new_value:
            return (new_value - value) / km
    return None


@dataclass(frozen=True)
class Projection:
    """When the value reaches its limit: at which odometer reading and on which day."""

    latest: Reading
    limit: float
    wear_per_km: float | None
    at_km: int | None
    on_day: date | None
    already_below: bool


def project(
    readings: list[Reading],
    limit: float,
    km_day: float | None,
    new_value: float = NEW_TREAD_MM,
) -> Projection | None:
    """The projection of one value's readings (``None`` without readings)."""
    if not readings:
        return None
    ordered = sorted(readings, key=lambda r: (r.day, r.odometer_km or 0))
    latest = ordered[-1]
    if latest.value <= limit:
        return Projection(latest, limit, None, latest.odometer_km, latest.day, True)
    wear = wear_per_km(ordered, new_value)
    if wear is None or wear <= 0 or latest.odometer_km is None:
        return Projection(latest, limit, wear, None, None, False)
    km_left = (latest.value - limit) / wear
    at_km = round(latest.odometer_km + km_left)
    on_day = None
    if km_day is not None and km_day > 0:
        on_day = latest.day + timedelta(days=round(km_left / km_day))
    return Projection(latest, limit, wear, at_km, on_day, False)


__all__ = [
    "NEW_TREAD_MM",
    "TREAD_LIMIT_MM",
    "Projection",
    "Reading",
    "km_per_day",
    "project",
    "wear_per_km",
]
