"""The shop's wall clock: one time zone for every screen, page, message and sheet.

Stored times stay UTC everywhere. What a person reads is the shop's local time, in the
shop's time zone (a shop setting the server sends to every device with the shop
settings). The back office, the tablet and the check-in sheet all format through
:func:`shop_time_text`, so the same event shows the same clock time on each of them.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzlocal

FALLBACK_ZONE = "UTC"


def server_timezone_name() -> str:
    """The time zone of the machine this runs on (an IANA name), the shop's default."""
    try:
        name = tzlocal.get_localzone_name()
    except (ZoneInfoNotFoundError, ValueError, LookupError, OSError):
        return FALLBACK_ZONE
    return name if name and is_timezone_name(name) else FALLBACK_ZONE


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_timezone_name(name: str | None) -> bool:
    """True for an IANA zone this machine knows (``Asia/Shanghai``, ``Europe/Berlin``)."""
    if not name or len(name) > 64:
        return False
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def shop_zone(name: str | None) -> tzinfo:
    """The zone of that name; UTC for an empty or unknown name (never a device's own)."""
    return _zone(name) if name and is_timezone_name(name) else UTC


def zone_or_local(name: str | None) -> tzinfo:
    """The shop's zone on a device; the device's own only until it has learnt the
    shop's (paired before the server sent it)."""
    if name and is_timezone_name(name):
        return _zone(name)
    local = datetime.now().astimezone().tzinfo
    return local if local is not None else UTC


def shop_time_text(moment: datetime | None, zone: str | tzinfo | None, fmt: str = "%H:%M") -> str:
    """``moment`` (an aware time, normally UTC) as the shop's clock shows it; "" for None."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        raise ValueError("a naive time has no known instant; store aware UTC times")
    target = zone if isinstance(zone, tzinfo) else shop_zone(zone)
    return moment.astimezone(target).strftime(fmt)


__all__ = [
    "FALLBACK_ZONE",
    "is_timezone_name",
    "server_timezone_name",
    "shop_time_text",
    "shop_zone",
    "zone_or_local",
]
