"""The manager's capacity inputs are what appointments are planned against: technicians'
hours per weekday and their specialities, absences from one day to another, bays added,
renamed and retired (never deleted with bookings), the VIP share and cut-off, the
no-show grace and the holiday country — each checked, with nothing saved on an error."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from appointment_fixtures import EARLY, ZONE, at, engine_session, plan_shop
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop
from sqlalchemy import select
from test_appointment_capacity import MONDAY, request_for
from web_fixtures import csrf_token, web_login

from sync_server.appointment_tables import (
    AppointmentSettings,
    ServiceBay,
    TechnicianAbsence,
    TechnicianHours,
)
from sync_server.appointments import settings
from sync_server.appointments.booking import SlotFull, book
from sync_server.appointments.capacity import calendar_for, day_capacity
from sync_server.back_office_tables import Technician
from sync_server.shop_tables import Shop as ShopRow

RULES = {
    "vip_share_percent": "20",
    "vip_cutoff_hours": "24",
    "no_show_grace_minutes": "30",
    "holiday_country": "CN",
}


def calendar(session):  # type: ignore[no-untyped-def]
    return calendar_for(session, session.get(ShopRow, 1))


def test_a_technician_books_only_in_their_own_hours_and_a_make_up_day_takes_mondays(
    app: Flask,
) -> None:
    made = plan_shop(app, bays=2, specialities=(("engine",), ("engine", "brakes")))
    morning_tech, other = made.technician_ids
    with engine_session(app) as session:
        settings.save_technician(
            session,
            morning_tech,
            "Tech 1",
            ["engine"],
            {0: "08:30-12:30", 1: "8:30 – 12:30", 5: "08:30~12:30"},
        )
        settings.save_technician(session, other, "Tech 2", ["brakes"], {})  # no engine now
        session.commit()
        shop_calendar = calendar(session)
        # Monday: 4 engine hours (morning only), not the shop's 9.5.
        assert day_capacity(session, shop_calendar, MONDAY, EARLY, speciality="engine").hours == 4
        # Wednesday is not in the technician's week: no engine work at all.
        wednesday = MONDAY + timedelta(days=2)
        assert (
            day_capacity(session, shop_calendar, wednesday, EARLY, speciality="engine").hours == 0
        )
        assert book(session, shop_calendar, request_for(made, at(MONDAY, 10)), now=EARLY)
        with pytest.raises(SlotFull) as afternoon:
            book(
                session,
                shop_calendar,
                request_for(made, at(MONDAY, 14), technician_id=morning_tech),
                now=EARLY,
            )
        assert afternoon.value.reason.render("en") == "This technician does not work at that time."
        assert afternoon.value.reason.render("zh_CN") != afternoon.value.reason.render("en")
        # Saturday 10 October 2026 is a make-up working day (调休): Monday's hours.
        saturday = date(2026, 10, 10)
        assert shop_calendar.is_makeup_working_day(saturday)
        assert day_capacity(session, shop_calendar, saturday, EARLY, speciality="engine").hours == 4


def test_bad_hours_and_no_speciality_are_refused_and_nothing_changes(app: Flask) -> None:
    made = plan_shop(app)
    tech = made.technician_ids[0]
    with engine_session(app) as session:
        settings.save_technician(session, tech, "Tech 1", ["engine"], {0: "09:00-17:00"})
        session.commit()
        with pytest.raises(settings.SettingsError) as refused:
            settings.save_technician(
                session, tech, "", [], {0: "17:00-09:00", 1: "nine to five", 2: "08:00-12:00"}
            )
        assert set(refused.value.errors) == {"name", "specialities", "hours_0", "hours_1"}
        session.rollback()
        assert session.get(Technician, tech).name == "Tech 1"  # type: ignore[union-attr]
        assert settings.hours_by_weekday(session, [tech]) == {tech: {0: "09:00-17:00"}}


def test_an_absence_from_to_closes_every_day_in_it_and_names_the_bookings_it_hits(
    app: Flask,
) -> None:
    made = plan_shop(app)
    tech = made.technician_ids[0]
    with engine_session(app) as session:
        booked = book(
            session,
            calendar(session),
            request_for(made, at(MONDAY + timedelta(days=1), 10)),
            now=EARLY,
        )
        session.commit()
        form = {
            "technician": str(tech),
            "first_day": MONDAY.isoformat(),
            "last_day": (MONDAY + timedelta(days=2)).isoformat(),
            "reason": "Training in Shanghai",
        }
        _absence, clashes = settings.add_absence(session, form, None, ZONE)
        session.commit()
        assert [appointment.id for appointment, _plan in clashes] == [booked.id]
        shop_calendar = calendar(session)
        for offset in range(3):
            day = MONDAY + timedelta(days=offset)
            assert day_capacity(session, shop_calendar, day, EARLY).hours == 0
        assert day_capacity(session, shop_calendar, MONDAY + timedelta(days=3), EARLY).hours == 9.5
        # Overlapping, backwards and over-long absences are refused.
        for first, last, field in (
            (MONDAY + timedelta(days=2), MONDAY + timedelta(days=4), "first_day"),
            (MONDAY + timedelta(days=9), MONDAY + timedelta(days=8), "last_day"),
            (MONDAY + timedelta(days=9), MONDAY + timedelta(days=400), "last_day"),
        ):
            with pytest.raises(settings.SettingsError) as refused:
                settings.add_absence(
                    session,
                    {**form, "first_day": first.isoformat(), "last_day": last.isoformat()},
                    None,
                    ZONE,
                )
            assert field in refused.value.errors
            session.rollback()
        assert len(session.scalars(select(TechnicianAbsence)).all()) == 1


def test_a_bay_with_bookings_is_retired_never_deleted(app: Flask) -> None:
    made = plan_shop(app, bays=2)
    with engine_session(app) as session:
        booked = book(session, calendar(session), request_for(made, at(MONDAY, 10)), now=EARLY)
        session.commit()
        used = next(
            bay_id
            for bay_id in made.bay_ids
            if session.get(ServiceBay, bay_id).name == "Bay 1"  # type: ignore[union-attr]
        )
        assert booked
        with pytest.raises(settings.SettingsError) as kept:
            settings.delete_bay(session, used)
        assert "retire it instead" in kept.value.errors["bay"].render("en")
        with pytest.raises(settings.SettingsError) as ahead:
            settings.set_bay_active(session, used, False, EARLY)
        assert "still ahead" in ahead.value.errors["bay"].render("en")
        # Once its day has passed it can be retired; it stays, with its booking.
        settings.set_bay_active(session, used, False, at(MONDAY, 12))
        settings.rename_bay(session, used, "  Lift   A ")
        with pytest.raises(settings.SettingsError):
            settings.rename_bay(session, made.bay_ids[1], "lift a")
        unused = settings.add_bay(session, "Alignment bay")
        settings.delete_bay(session, unused.id)
        session.commit()
        names = {bay.name: bay.active for bay in session.scalars(select(ServiceBay))}
        assert names == {"Lift A": False, "Bay 2": True}


def test_the_rules_are_read_by_capacity_and_bad_ones_change_nothing(app: Flask) -> None:
    made = plan_shop(app)
    with engine_session(app) as session:
        assert settings.capacity_rules(session).vip_share == 0.2
        settings.save_rules(
            session,
            {**RULES, "vip_share_percent": "50", "vip_cutoff_hours": "72", "holiday_country": "DE"},
            None,
        )
        session.commit()
        shop_calendar = calendar(session)
        assert day_capacity(session, shop_calendar, MONDAY, EARLY).vip_reserve == 9.5 / 2
        # Within 72 hours of the day opening the reserve is freed for everyone.
        late = at(MONDAY, 8, 30) - timedelta(hours=71)
        assert day_capacity(session, shop_calendar, MONDAY, late).vip_reserve == 0
        # German holidays now: 1 October is a working day, 25 December is not.
        assert shop_calendar.is_open_day(date(2026, 10, 1))
        assert not shop_calendar.is_open_day(date(2026, 12, 25))
        assert book(session, shop_calendar, request_for(made, at(date(2026, 10, 1), 10)), now=EARLY)
        with pytest.raises(settings.SettingsError) as refused:
            settings.save_rules(
                session,
                {
                    "vip_share_percent": "90",
                    "vip_cutoff_hours": "-1",
                    "no_show_grace_minutes": "half an hour",
                    "holiday_country": "XX",
                },
                None,
            )
        assert set(refused.value.errors) == set(RULES)
        session.rollback()
        row = session.get(AppointmentSettings, 1)
        assert row is not None and row.vip_share_percent == 50 and row.holiday_country == "DE"


def test_the_capacity_page_is_the_managers_and_keeps_what_was_typed(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = plan_shop(app)
    web_login(client, shop, "advisor")
    assert client.get("/settings/capacity").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/board")})
    web_login(client, shop, "manager")
    page = client.get("/settings/capacity")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Capacity settings" in body and "中国 (CN)" not in body and "China (CN)" in body
    token = csrf_token(client, "/settings/capacity")
    refused = client.post(
        "/settings/capacity/rules",
        data={**RULES, "vip_share_percent": "95", "csrf_token": token},
    )
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert "The VIP share is a whole percent from 0 to 80." in body
    assert 'value="95"' in body
    tech = made.technician_ids[0]
    saved = client.post(
        f"/settings/capacity/technicians/{tech}",
        data={
            "name": "Zhao Lei",
            "speciality": ["engine", "tyres"],
            "hours_0": "08:00-16:00",
            "csrf_token": token,
        },
    )
    assert saved.status_code == 302
    with engine_session(app) as session:
        row = session.get(TechnicianHours, (tech, 0))
        assert row is not None and row.starts == time(8) and row.ends == time(16)
        assert session.get(Technician, tech).specialities == ["engine", "tyres"]  # type: ignore[union-attr]
    client.get("/lang/zh_CN")
    chinese = client.get("/settings/capacity").get_data(as_text=True)
    assert "中国 (CN)" in chinese and "星期一" in chinese and "Capacity settings" not in chinese


def test_the_day_plan_shows_who_is_absent_and_the_hours_each_technician_is_off(
    app: Flask,
) -> None:
    from sync_server.appointments.day_plan import day_plan

    made = plan_shop(app, bays=2, specialities=(("engine",), ("engine",)))
    morning, away = made.technician_ids
    with engine_session(app) as session:
        settings.save_technician(session, morning, "Tech 1", ["engine"], {0: "08:30-12:30"})
        settings.add_absence(
            session,
            {
                "technician": str(away),
                "first_day": MONDAY.isoformat(),
                "last_day": MONDAY.isoformat(),
            },
            None,
            ZONE,
        )
        session.commit()
        plan = day_plan(session, calendar(session), MONDAY)
        first, second = plan.technicians
        assert not first.absent and second.absent
        # 08:00 (from 08:30) to 12:00 (until 12:30) worked; the afternoon is off.
        assert first.working[:5] == [True] * 5 and not any(first.working[5:])
        assert all(row.working == [] for row in plan.bays)
