"""Appointments are booked against real capacity: the shop calendar (holidays, make-up
working days), technicians at work by speciality, the bays, a walk-in buffer learned
from the shop's own walk-ins and a VIP share — and never twice in one bay or with one
technician, which the database itself refuses (two sessions racing on PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, date, time, timedelta

import pytest
from appointment_fixtures import EARLY, ZONE, at, engine_session, plan_shop
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shared import domain
from shared.shop_calendar import ShopCalendar
from sync_server.appointment_tables import (
    AppointmentPlan,
    AppointmentSlotClaim,
    TechnicianAbsence,
)
from sync_server.appointments.booking import BookingRequest, SlotFull, book, cancel, move
from sync_server.appointments.capacity import day_capacity, walk_in_buffer_hours
from sync_server.sync.records import lock_feed, put_server_record
from sync_server.visit_tables import Appointment

CALENDAR = ShopCalendar(timezone=ZONE)
MONDAY = date(2026, 12, 14)


def request_for(made, starts_at, minutes=60, **extra) -> BookingRequest:  # type: ignore[no-untyped-def]
    return BookingRequest(
        customer_id=made.customer_id,
        vehicle_id=made.vehicle_id,
        starts_at=starts_at,
        minutes=minutes,
        speciality=extra.pop("speciality", "engine"),
        requested_work=extra.pop("requested_work", "Oil service"),
        **extra,
    )


def test_a_slot_exactly_full_says_so_and_offers_the_next_free_times(app: Flask) -> None:
    made = plan_shop(app)
    with engine_session(app) as session:
        first = book(session, CALENDAR, request_for(made, at(MONDAY, 10)), now=EARLY)
        # Ends exactly when the first begins: fits.
        book(session, CALENDAR, request_for(made, at(MONDAY, 9), 60), now=EARLY)
        session.commit()
        with pytest.raises(SlotFull) as refused:
            book(session, CALENDAR, request_for(made, at(MONDAY, 10, 30)), now=EARLY)
        assert refused.value.reason.render("en") == "This time is fully booked."
        assert refused.value.reason.render("zh_CN") != refused.value.reason.render("en")
        assert refused.value.next_free[0] == at(MONDAY, 11).astimezone(UTC)
        session.rollback()
        assert session.get(Appointment, first.id).code  # type: ignore[union-attr]
        claims = session.scalars(select(AppointmentSlotClaim)).all()
        assert len(claims) == 2 * 2 * 2  # two bookings × two slots × bay and technician


def test_a_holiday_is_closed_and_the_next_free_time_is_after_it(app: Flask) -> None:
    made = plan_shop(app)
    with engine_session(app) as session:
        with pytest.raises(SlotFull) as refused:
            book(session, CALENDAR, request_for(made, at(date(2026, 10, 1), 10)), now=EARLY)
        assert "National Day" in refused.value.reason.render("en")
        assert refused.value.next_free[0] == at(date(2026, 10, 8), 8, 30).astimezone(UTC)


def test_a_make_up_working_saturday_can_be_booked_an_ordinary_one_cannot(app: Flask) -> None:
    made = plan_shop(app)
    weekdays_only = ShopCalendar(
        timezone=ZONE,
        opening_hours={**{day: (time(8, 30), time(18)) for day in range(5)}, 5: None, 6: None},
    )
    with engine_session(app) as session:
        booked = book(
            session, weekdays_only, request_for(made, at(date(2026, 10, 10), 9)), now=EARLY
        )
        assert booked.expected_arrival == at(date(2026, 10, 10), 9)
        with pytest.raises(SlotFull):
            book(session, weekdays_only, request_for(made, at(date(2026, 10, 17), 9)), now=EARLY)


def test_an_absent_technician_takes_no_bookings(app: Flask) -> None:
    made = plan_shop(app, bays=2, specialities=(("engine",), ("body",)))
    engine_tech = made.technician_ids[0]
    with engine_session(app) as session:
        session.add(
            TechnicianAbsence(
                technician_id=engine_tech, first_day=MONDAY, last_day=MONDAY, reason="leave"
            )
        )
        session.commit()
        with pytest.raises(SlotFull) as refused:
            book(session, CALENDAR, request_for(made, at(MONDAY, 10)), now=EARLY)
        assert refused.value.reason.render("en") == "This day is fully booked for this work."
        assert refused.value.next_free[0].astimezone(ZONE).date() == MONDAY + timedelta(days=1)
        with pytest.raises(SlotFull) as named:
            book(
                session,
                CALENDAR,
                request_for(made, at(MONDAY, 10), technician_id=engine_tech),
                now=EARLY,
            )
        assert "not at work" in named.value.reason.render("en")
        # Body work still goes to the body technician that day.
        assert book(
            session, CALENDAR, request_for(made, at(MONDAY, 10), speciality="body"), now=EARLY
        )


def test_walk_ins_on_the_same_weekday_are_kept_free(app: Flask) -> None:
    made = plan_shop(app)
    with engine_session(app) as session:
        lock_feed(session)
        for week in range(1, 9):  # two walk-ins every past Monday: two hours a Monday
            for hour in (9, 14):
                put_server_record(
                    session,
                    "visit",
                    domain.Visit(
                        ticket_number=f"W-{week}-{hour}",
                        customer_id=made.customer_id,
                        vehicle_id=made.vehicle_id,
                        checked_in_at=at(MONDAY - timedelta(weeks=week), hour).astimezone(UTC),
                    ),
                )
        session.commit()
        assert walk_in_buffer_hours(session, CALENDAR, MONDAY) == 2.0
        assert walk_in_buffer_hours(session, CALENDAR, MONDAY + timedelta(days=1)) == 0.0
        monday = day_capacity(session, CALENDAR, MONDAY, EARLY, speciality="engine")
        assert monday.hours == 9.5 and monday.walk_in_buffer == 2.0
        assert monday.free == pytest.approx(9.5 - 2.0 - 1.9)


def test_vip_share_is_kept_until_the_cut_off(app: Flask) -> None:
    made = plan_shop(app)
    with engine_session(app) as session:
        # 9.5 hours; 1.9 kept for VIPs: ordinary bookings may take 7.6.
        book(session, CALENDAR, request_for(made, at(MONDAY, 8, 30), 450), now=EARLY)
        with pytest.raises(SlotFull):
            book(session, CALENDAR, request_for(made, at(MONDAY, 16)), now=EARLY)
        vip = book(session, CALENDAR, request_for(made, at(MONDAY, 16), vip=True), now=EARLY)
        assert session.get(AppointmentPlan, vip.id).vip  # type: ignore[union-attr]
        after_cut_off = at(MONDAY, 8) - timedelta(hours=12)
        assert book(session, CALENDAR, request_for(made, at(MONDAY, 17)), now=after_cut_off)


def test_move_keeps_the_old_time_when_the_new_one_is_full_and_cancel_frees_it(
    app: Flask,
) -> None:
    made = plan_shop(app)
    with engine_session(app) as session:
        first = book(session, CALENDAR, request_for(made, at(MONDAY, 10)), now=EARLY)
        second = book(session, CALENDAR, request_for(made, at(MONDAY, 11)), now=EARLY)
        session.commit()
        with pytest.raises(SlotFull) as refused:
            move(session, CALENDAR, second.id, at(MONDAY, 10), now=EARLY)
        assert refused.value.next_free
        session.commit()
        plan = session.get(AppointmentPlan, second.id)
        assert plan is not None and plan.starts_at == at(MONDAY, 11) and plan.sequence == 0
        assert (
            session.scalar(
                select(AppointmentSlotClaim.appointment_id).where(
                    AppointmentSlotClaim.slot_start == at(MONDAY, 11).astimezone(UTC),
                    AppointmentSlotClaim.resource.like("bay:%"),
                )
            )
            == second.id
        )

        moved = move(session, CALENDAR, second.id, at(MONDAY, 14), now=EARLY)
        session.commit()
        assert moved.sequence == 1
        assert session.get(Appointment, second.id).expected_arrival == at(MONDAY, 14)  # type: ignore[union-attr]
        assert book(session, CALENDAR, request_for(made, at(MONDAY, 11)), now=EARLY)

        cancel(session, first.id)
        session.commit()
        assert session.get(Appointment, first.id).status == "cancelled"  # type: ignore[union-attr]
        assert book(session, CALENDAR, request_for(made, at(MONDAY, 10)), now=EARLY)
        with pytest.raises(SlotFull):
            cancel(session, first.id)


def _postgres_only(app: Flask) -> None:
    if app.extensions["db_engine"].dialect.name != "postgresql":
        pytest.skip("two writing sessions at once need PostgreSQL")


RACES = {
    # What the two desks contest: one bay (two technicians free), one technician (two
    # bays free), or both.
    "bay": (1, (("engine",), ("engine",)), ({"technician_id": 0}, {"technician_id": 1})),
    "technician": (2, (("engine",),), ({"bay_id": 0}, {"bay_id": 1})),
    "both": (1, (("engine",),), ({}, {})),
}


@pytest.mark.parametrize("contested", sorted(RACES))
def test_two_sessions_racing_for_the_last_slot_one_wins(app: Flask, contested: str) -> None:
    _postgres_only(app)
    bays, specialities, asks = RACES[contested]
    made = plan_shop(app, bays=bays, specialities=specialities)

    def named(ask: dict[str, int]) -> dict[str, int]:
        ids = {"technician_id": made.technician_ids, "bay_id": made.bay_ids}
        return {key: ids[key][index] for key, index in ask.items()}

    outcome: dict[str, object] = {}
    first = engine_session(app)
    won = book(first, CALENDAR, request_for(made, at(MONDAY, 10), **named(asks[0])), now=EARLY)

    def second_desk() -> None:
        with engine_session(app) as second:
            try:
                book(
                    second,
                    CALENDAR,
                    request_for(made, at(MONDAY, 10), **named(asks[1])),
                    now=EARLY,
                )
                second.commit()
                outcome["second"] = "booked"
            except SlotFull as full:
                outcome["second"] = full

    racer = threading.Thread(target=second_desk)
    racer.start()
    racer.join(timeout=1.0)
    assert racer.is_alive()  # waiting for the first desk's transaction
    first.commit()
    first.close()
    racer.join(timeout=30)
    assert isinstance(outcome["second"], SlotFull)
    assert outcome["second"].next_free  # the loser is offered other times
    with engine_session(app) as session:
        plans = session.scalars(select(AppointmentPlan)).all()
        assert [plan.appointment_id for plan in plans] == [won.id]


@pytest.mark.parametrize("resource", ["bay", "tech"])
def test_the_database_refuses_a_second_claim_of_a_slot_from_another_session(
    app: Flask, resource: str
) -> None:
    """Even without the writers' lock, two sessions cannot both claim one bay's or one
    technician's slot: the claim's primary key refuses the second on commit."""
    _postgres_only(app)
    made = plan_shop(app)
    with engine_session(app) as session:
        held = book(session, CALENDAR, request_for(made, at(MONDAY, 10)), now=EARLY)
        other = book(session, CALENDAR, request_for(made, at(MONDAY, 12)), now=EARLY)
        session.commit()
    slot = at(MONDAY, 15).astimezone(UTC)
    errors: list[Exception] = []
    first = engine_session(app)
    claimed = f"{resource}:{made.bay_ids[0] if resource == 'bay' else made.technician_ids[0]}"
    first.add(AppointmentSlotClaim(resource=claimed, slot_start=slot, appointment_id=held.id))
    first.flush()

    def second_claim() -> None:
        with engine_session(app) as second:
            second.add(
                AppointmentSlotClaim(resource=claimed, slot_start=slot, appointment_id=other.id)
            )
            try:
                second.commit()
            except IntegrityError as error:
                errors.append(error)

    racer = threading.Thread(target=second_claim)
    racer.start()
    racer.join(timeout=1.0)
    first.commit()
    first.close()
    racer.join(timeout=30)
    assert len(errors) == 1
