"""The shop's settings row, and the shop's idea of "today"."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from shared.shop_time import shop_zone
from sync_server.shop_tables import Shop


def shop_settings(session: Session) -> Shop:
    """The single settings row, made with defaults the first time it is asked for."""
    shop = session.get(Shop, 1)
    if shop is None:
        shop = Shop(id=1)
        session.add(shop)
        session.commit()
    return shop


def today_bounds(shop: Shop, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Start and end (UTC) of the shop's current local day."""
    zone = shop_zone(shop.timezone)
    local_now = (now or datetime.now(UTC)).astimezone(zone)
    start = datetime.combine(local_now.date(), time.min, tzinfo=zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)
