"""The rules every reminder and greeting obeys, apart from what falls due.

* Marketing kinds only for customers who said yes to reminders (their latest check-in's
  answer, ``customers.reminders_opt_in``) and who have not opted out since.
* One contact budget per customer across every marketing kind: at most
  ``budget_count`` messages in ``budget_days`` days, counted in shop-time days — with
  the default (1 in 7) a customer reached on a Monday may be reached again on the next
  Monday (the 8th day), not on the Sunday (the 7th). Service notifications ("your car
  is ready") are not counted and not capped.
* Quiet hours (default 21:00–09:00 shop time, across midnight): nothing is queued or
  sent; what comes due then waits for the morning.
* Nothing while the customer has an appointment booked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.shop_time import shop_zone
from sync_server.follow_up.tables import FollowUpContact, FollowUpOptOut, FollowUpSettings
from sync_server.visit_tables import Appointment, Visit

MARKETING_KINDS = ("maintenance", "deferred", "birthday", "holiday")
EVENT_PREFIX = "follow_up:"


DEFAULTS: dict[str, object] = {
    "budget_count": 1,
    "budget_days": 7,
    "quiet_from": "21:00",
    "quiet_until": "09:00",
    "lead_days": 7,
    "overdue_days": 60,
    "birthday_greetings": True,
    "holiday_greetings": True,
    "deferred_reminders": True,
}


def follow_up_settings(session: Session) -> FollowUpSettings:
    """The rules in force; the defaults are written the first time they are asked for."""
    row = session.get(FollowUpSettings, 1)
    if row is None:
        try:
            with session.begin_nested():
                session.add(FollowUpSettings(id=1, **DEFAULTS))
        except IntegrityError:
            pass  # another process wrote them first
        row = session.get(FollowUpSettings, 1)
        assert row is not None
    return row


def lock_runs(session: Session) -> FollowUpSettings:
    """Take the settings row for writing, so two runs (two processes) take turns: the
    second plans only once the first has committed what it queued."""
    settings = follow_up_settings(session)
    session.execute(
        update(FollowUpSettings)
        .where(FollowUpSettings.id == 1)
        .values(budget_days=FollowUpSettings.budget_days)
    )
    return settings


@dataclass(frozen=True)
class QuietHours:
    starts: time
    ends: time

    @classmethod
    def of(cls, settings: FollowUpSettings) -> QuietHours:
        return cls(
            time.fromisoformat(settings.quiet_from), time.fromisoformat(settings.quiet_until)
        )

    def contains(self, moment: datetime, zone_name: str) -> bool:
        local = moment.astimezone(shop_zone(zone_name)).time().replace(tzinfo=None)
        if self.starts == self.ends:
            return False
        if self.starts > self.ends:  # across midnight
            return local >= self.starts or local < self.ends
        return self.starts <= local < self.ends

    def ends_after(self, moment: datetime, zone_name: str) -> datetime:
        """When the quiet hours around ``moment`` end (UTC); ``moment`` if not quiet."""
        if not self.contains(moment, zone_name):
            return moment
        zone = shop_zone(zone_name)
        local = moment.astimezone(zone)
        day = local.date()
        if local.time().replace(tzinfo=None) >= self.ends:
            day += timedelta(days=1)
        return datetime.combine(day, self.ends, zone).astimezone(UTC)


def shop_day(moment: datetime, zone_name: str) -> date:
    return moment.astimezone(shop_zone(zone_name)).date()


def day_start(day: date, zone_name: str) -> datetime:
    return datetime.combine(day, time.min, shop_zone(zone_name)).astimezone(UTC)


def contacted_days(
    session: Session, customer_ids: Iterable[str] | None, since: datetime, zone_name: str
) -> dict[str, list[date]]:
    """The shop-time days each customer got a marketing message since ``since``."""
    query = select(FollowUpContact.customer_id, FollowUpContact.planned_at).where(
        FollowUpContact.planned_at >= since
    )
    if customer_ids is not None:
        query = query.where(FollowUpContact.customer_id.in_(sorted(set(customer_ids))))
    days: dict[str, list[date]] = defaultdict(list)
    for customer_id, at in session.execute(query):
        days[customer_id].append(shop_day(at, zone_name))
    return days


def budget_left(settings: FollowUpSettings, days: list[date], today: date) -> bool:
    """Whether one more marketing message fits the budget today."""
    window_starts = today - timedelta(days=settings.budget_days - 1)
    return sum(1 for day in days if day >= window_starts) < settings.budget_count


def opted_out_customers(session: Session, customer_ids: Iterable[str] | None = None) -> set[str]:
    """Customers whose latest word on reminders is an opt-out (a later check-in where
    they said yes to reminders again undoes it)."""
    query = select(FollowUpOptOut.customer_id, func.max(FollowUpOptOut.at)).group_by(
        FollowUpOptOut.customer_id
    )
    if customer_ids is not None:
        query = query.where(FollowUpOptOut.customer_id.in_(sorted(set(customer_ids))))
    latest_out = dict(session.execute(query).all())
    if not latest_out:
        return set()
    latest_yes = dict(
        session.execute(
            select(Visit.customer_id, func.max(Visit.checked_in_at))
            .where(Visit.customer_id.in_(sorted(latest_out)), Visit.reminders_opt_in.is_(True))
            .group_by(Visit.customer_id)
        ).all()
    )
    return {
        customer_id
        for customer_id, out_at in latest_out.items()
        if customer_id not in latest_yes or latest_yes[customer_id] < out_at
    }


def customers_with_appointments(session: Session, now: datetime) -> set[str]:
    """Customers with an appointment booked from now on."""
    return set(
        session.scalars(
            select(Appointment.customer_id).where(
                Appointment.status == "booked", Appointment.expected_arrival >= now
            )
        )
    )
