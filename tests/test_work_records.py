"""Work records on the visit page: the diagnosis (findings and cause, shown to the
customer with the quote), dispatch (suggested by speciality and day-plan load; no work
without it), the quality check (a checklist per job type; a failure sends the job back
with its reason), the hand-back (odometer out, work done, parts replaced) and the
greeting target on the board."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop
from sqlalchemy import select
from test_web_quotes import answer, send, write_quote
from web_fixtures import make_visit, pass_quality_check, post_form, web_login

from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.appointment_tables import AppointmentPlan, TechnicianAbsence
from sync_server.back_office_tables import JobAssignment, OutboundMessage, Technician
from sync_server.checklist_settings import shop_checklists
from sync_server.diagnoses import Diagnosis
from sync_server.shop_tables import User
from sync_server.sync.records import lock_feed, update_server_record
from sync_server.visit_tables import Appointment, Visit
from sync_server.work_tables import HandBack, HandedBackJob, QualityCheck


def text(response) -> str:  # type: ignore[no-untyped-def]
    body = response.get_data(as_text=True)
    response.close()
    return body


def status_of(app: Flask, visit_id: str) -> VisitStatus:
    with app.app_context():
        visit = db.session().get(Visit, visit_id)
        assert visit is not None
        return VisitStatus(visit.status)


def approved_visit(app: Flask, client: FlaskClient, mileage_in_km: int | None = None) -> str:
    """A visit diagnosed, quoted and approved by its customer (pads yes, wipers no); the
    desk is signed in on ``client``."""
    made = make_visit(app, status=VisitStatus.walkaround_done)
    if mileage_in_km is not None:
        with app.app_context():
            session = db.session()
            lock_feed(session)
            update_server_record(session, "visit", made.visit_id, {"mileage_in_km": mileage_in_km})
            session.commit()
    url = f"/visits/{made.visit_id}"
    post_form(
        client, f"{url}/diagnosis", {"finding": "Pads worn", "cause": "Normal wear"}, url
    ).close()
    write_quote(client, made.visit_id)
    path = send(client, made.visit_id)
    answer(app.test_client(), path, {0: "approved", 1: "approved", 2: "declined"}).close()
    assert status_of(app, made.visit_id) == VisitStatus.approved
    return made.visit_id


def technicians(app: Flask, *people: tuple[str, list[str]]) -> dict[str, int]:
    with app.app_context():
        session = db.session()
        rows = [Technician(name=name, specialities=skills) for name, skills in people]
        session.add_all(rows)
        session.commit()
        return {row.name: row.id for row in rows}


# -- diagnosis -----------------------------------------------------------------------


def test_the_diagnosis_is_recorded_in_words_and_moves_the_visit_on(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app, status=VisitStatus.walkaround_done)
    web_login(client, shop)
    url = f"/visits/{made.visit_id}"
    page = text(client.get(url))
    assert "Diagnosis done" not in page and "Record the diagnosis" in page

    # Nothing but a finding: refused with the cause asked for, the finding kept.
    refused = post_form(
        client, f"{url}/diagnosis", {"finding": "Front pads worn to 2 mm", "cause": ""}, url
    )
    body = text(refused)
    assert refused.status_code == 400
    assert "Write the cause of the fault." in body and "Front pads worn to 2 mm" in body
    assert status_of(app, made.visit_id) == VisitStatus.walkaround_done

    done = post_form(
        client,
        f"{url}/diagnosis",
        {"finding": "Front pads worn to 2 mm", "cause": "Normal wear after 60,000 km"},
        url,
    )
    assert done.status_code == 302
    assert status_of(app, made.visit_id) == VisitStatus.diagnosed
    # A second finding is added without moving the visit again.
    post_form(
        client,
        f"{url}/diagnosis",
        {"finding": "Wiper blades split", "cause": "Sun and age"},
        url,
    ).close()
    assert status_of(app, made.visit_id) == VisitStatus.diagnosed
    with app.app_context():
        rows = db.session().query(Diagnosis).order_by(Diagnosis.recorded_at).all()
        assert [r.finding for r in rows] == ["Front pads worn to 2 mm", "Wiper blades split"]
        assert all(r.recorded_by_user_id is not None and r.recorded_at for r in rows)
    findings = text(client.get(url))
    assert "Normal wear after 60,000 km" in findings and "Advisor-Web" in findings


def test_the_customer_reads_the_findings_with_the_quote_in_either_language(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app, status=VisitStatus.walkaround_done)
    web_login(client, shop)
    url = f"/visits/{made.visit_id}"
    post_form(
        client,
        f"{url}/diagnosis",
        {"finding": "前刹车片磨损到2毫米", "cause": "正常磨损"},
        url,
    ).close()
    write_quote(client, made.visit_id)
    path = send(client, made.visit_id)
    customer = app.test_client()
    english = text(customer.get(path))
    assert "What we found" in english and "前刹车片磨损到2毫米" in english
    assert "Cause" in english and "正常磨损" in english
    customer.get("/lang/zh_CN").close()
    chinese = text(customer.get(path))
    assert "我们的检查结果" in chinese and "故障原因" in chinese and "正常磨损" in chinese


# -- dispatch ------------------------------------------------------------------------


def test_dispatch_suggests_the_speciality_then_the_lightest_day_and_absent_last(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    ids = technicians(
        app,
        ("Busy Brakes", ["brakes"]),
        ("Free Brakes", ["brakes", "tyres"]),
        ("Engine Only", ["engine"]),
        ("Away Brakes", ["brakes"]),
    )
    made = make_visit(app, status=VisitStatus.approved)
    other = make_visit(app, status=VisitStatus.in_progress, plate="京B12345", ticket="K-002")
    today = datetime.now(UTC)
    with app.app_context():
        session = db.session()
        # Busy Brakes has an open job; Away Brakes is absent today.
        session.add(JobAssignment(visit_id=other.visit_id, technician_id=ids["Busy Brakes"]))
        from sync_server.appointments.capacity import shop_calendar
        from sync_server.shop import shop_settings

        local_day = today.astimezone(shop_calendar(shop_settings(session)).timezone).date()
        session.add(
            TechnicianAbsence(
                technician_id=ids["Away Brakes"], first_day=local_day, last_day=local_day
            )
        )
        session.commit()
    web_login(client, shop)
    url = f"/visits/{made.visit_id}"
    post_form(client, f"{url}/dispatch", {"technician_id": "any", "job_type": "brakes"}, url)
    page = text(client.get(url))
    options = re.findall(r'<option value="(\d+|any)"[^>]*>([^<]+)</option>', page)
    names = [label.split(" —")[0].rstrip(" ✓") for value, label in options if value != "any"]
    assert names == ["Free Brakes", "Busy Brakes", "Engine Only", "Away Brakes"]
    assert "open jobs: 1" in page and "absent today" in page

    # Dispatching to the absent technician is refused; to Free Brakes it is recorded.
    refused = post_form(client, f"{url}/dispatch", {"technician_id": str(ids["Away Brakes"])}, url)
    refused.close()
    assert "Away Brakes is absent today" in text(client.get(url))
    post_form(
        client,
        f"{url}/dispatch",
        {"technician_id": str(ids["Free Brakes"]), "job_type": "brakes"},
        url,
    ).close()
    with app.app_context():
        latest = db.session().query(JobAssignment).order_by(JobAssignment.id.desc()).first()
        assert latest is not None and latest.technician_id == ids["Free Brakes"]
        assert latest.speciality == "brakes" and not latest.any_technician


def test_the_day_plan_load_orders_technicians_of_one_speciality(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    ids = technicians(app, ("Booked Tyres", ["tyres"]), ("Idle Tyres", ["tyres"]))
    made = make_visit(app, status=VisitStatus.diagnosed)
    with app.app_context():
        session = db.session()
        from sync_server.appointments.capacity import shop_calendar
        from sync_server.shop import shop_settings

        calendar = shop_calendar(shop_settings(session))
        interval = calendar.opening_interval(datetime.now(UTC).astimezone(calendar.timezone).date())
        if interval is None:
            pytest.skip("the shop is closed today in its calendar")
        starts = interval[0]
        visit = session.get(Visit, made.visit_id)
        assert visit is not None
        appointment = Appointment(
            id="0a6c1e2e-8a53-4d0b-9a55-3a6d5b1c7f10",
            code="TYRE01",
            customer_id=visit.customer_id,
            vehicle_id=visit.vehicle_id,
            expected_arrival=starts,
        )
        session.add(appointment)
        session.flush()
        session.add(
            AppointmentPlan(
                appointment_id=appointment.id,
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                technician_id=ids["Booked Tyres"],
                speciality="tyres",
            )
        )
        session.commit()
    web_login(client, shop)
    url = f"/visits/{made.visit_id}"
    post_form(client, f"{url}/dispatch", {"technician_id": "any", "job_type": "tyres"}, url)
    page = text(client.get(url))
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', page)
    assert [label.split(" ✓")[0] for _v, label in options][:2] == ["Idle Tyres", "Booked Tyres"]
    assert "120 min booked today" in page


def test_work_cannot_start_undispatched_but_may_with_any_technician(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    web_login(client, shop)
    visit_id = approved_visit(app, client)
    url = f"/visits/{visit_id}"
    assert "Work cannot start until it is dispatched." in text(client.get(url))
    post_form(client, f"{url}/status", {"event": "start_work"}, url).close()
    assert status_of(app, visit_id) == VisitStatus.approved
    assert "Dispatch the work first" in text(client.get(url))
    with app.app_context():  # nothing was told to the customer for the refused start
        assert db.session().query(OutboundMessage).filter_by(event="in_progress").count() == 0
    post_form(client, f"{url}/dispatch", {"technician_id": "any"}, url).close()
    post_form(client, f"{url}/status", {"event": "start_work"}, url).close()
    assert status_of(app, visit_id) == VisitStatus.in_progress
    assert "Any technician" in text(client.get(url))


# -- quality check -------------------------------------------------------------------


def test_a_failed_check_sends_the_job_back_with_its_reason(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    web_login(client, shop)
    visit_id = approved_visit(app, client)
    url = f"/visits/{visit_id}"
    post_form(client, f"{url}/dispatch", {"technician_id": "any", "job_type": "brakes"}, url)
    post_form(client, f"{url}/status", {"event": "start_work"}, url).close()
    post_form(client, f"{url}/status", {"event": "finish_work"}, url).close()
    assert status_of(app, visit_id) == VisitStatus.quality_check
    form = text(client.get(f"{url}/quality-check"))
    assert "Brake pedal firm; parking brake holds" in form  # the brakes checklist

    # A pass with an item unticked, and a failure without a reason: both refused.
    refused = post_form(
        client, f"{url}/quality-check", {"result": "pass", "item": ["pedal_feel"]}, url
    )
    body = text(refused)
    assert refused.status_code == 400 and "every item ticked" in body
    assert 'value="pedal_feel" checked' in body  # what was ticked stays ticked
    refused = post_form(client, f"{url}/quality-check", {"result": "fail", "notes": ""}, url)
    assert refused.status_code == 400 and "Say what is wrong" in text(refused)
    assert status_of(app, visit_id) == VisitStatus.quality_check

    post_form(
        client,
        f"{url}/quality-check",
        {"result": "fail", "item": ["pedal_feel"], "notes": "Rear left wheel nut loose"},
        url,
    ).close()
    assert status_of(app, visit_id) == VisitStatus.in_progress
    page = text(client.get(url))
    assert "Sent back by the quality check" in page and "Rear left wheel nut loose" in page
    with app.app_context():
        [check] = db.session().query(QualityCheck).all()
        assert not check.passed and check.job_type == "brakes"
        assert {i["item"]: i["ok"] for i in check.items}["pedal_feel"] is True
        assert {i["item"]: i["ok"] for i in check.items}["wheel_torque"] is False

    # Fixed, finished again, passed: the reason goes, the history stays.
    post_form(client, f"{url}/status", {"event": "finish_work"}, url).close()
    items = ["pedal_feel", "wheel_torque", "road_test", "car_clean"]
    post_form(client, f"{url}/quality-check", {"result": "pass", "item": items}, url).close()
    assert status_of(app, visit_id) == VisitStatus.ready
    page = text(client.get(url))
    assert "Sent back by the quality check" not in page and "Rear left wheel nut loose" in page


def checklist_form(rows: list[tuple[str, str, str]], action: str = "save") -> dict[str, Any]:
    return {
        "key": [key for key, _, _ in rows],
        "en": [en for _, en, _ in rows],
        "zh": [zh for _, _, zh in rows],
        "action": action,
    }


def test_checklists_come_from_the_settings_page_when_the_shop_sets_them(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    web_login(client, shop, role="manager")
    page = "/settings/checklists"
    general = [("road_test", "Road test: no noise, pull or warning light", "路试")]
    # Refused as typed, nothing saved: one language only; the same item twice; nothing.
    for rows, message in (
        ([("", "Key on the hook", "")], "Give this item in English and in Chinese."),
        ([("", "Key on the hook", "钥匙"), ("", "key on the hook", "钥匙")], "twice"),
        ([("", "", "")], "A checklist needs at least one item."),
    ):
        refused = post_form(client, f"{page}/general", checklist_form(rows), page)
        assert refused.status_code == 400 and message in text(refused)
    post_form(client, "/settings/checklists/no-such-type", checklist_form(general), page)
    with app.app_context():
        assert shop_checklists(db.session()) == {}
    # The words of a default item change (its key stays) and an item is added.
    rows = [*general, ("", "Key on the hook", "钥匙已挂回"), ("", "", "")]
    saved = post_form(client, f"{page}/general", checklist_form(rows), page)
    assert saved.status_code == 302
    with app.app_context():
        assert [item["key"] for item in shop_checklists(db.session())[""]] == [
            "road_test",
            "key_on_the_hook",
        ]

    made = make_visit(app, status=VisitStatus.quality_check)
    advisor = app.test_client()
    web_login(advisor, shop)
    url = f"/visits/{made.visit_id}"
    assert "Key on the hook" in text(advisor.get(f"{url}/quality-check"))
    advisor.get("/lang/zh_CN").close()
    assert "钥匙已挂回" in text(advisor.get(f"{url}/quality-check"))
    assert advisor.get(page).status_code == 403  # a manager's page
    post_form(
        advisor,
        f"{url}/quality-check",
        {"result": "pass", "item": ["road_test", "key_on_the_hook"]},
        url,
    ).close()
    assert status_of(app, made.visit_id) == VisitStatus.ready

    post_form(client, f"{page}/general", checklist_form([], "default"), page).close()
    with app.app_context():
        assert shop_checklists(db.session()) == {}


# -- hand-back -----------------------------------------------------------------------


def test_the_hand_back_records_odometer_work_and_the_approved_parts(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    web_login(client, shop)
    visit_id = approved_visit(app, client, mileage_in_km=60000)
    url = f"/visits/{visit_id}"
    post_form(client, f"{url}/dispatch", {"technician_id": "any"}, url).close()
    post_form(client, f"{url}/status", {"event": "start_work"}, url).close()
    post_form(client, f"{url}/status", {"event": "finish_work"}, url).close()
    assert pass_quality_check(client, visit_id).status_code == 302
    assert status_of(app, visit_id) == VisitStatus.ready

    form = text(client.get(f"{url}/hand-back"))
    assert "BP-2231 | Front brake pads (set) | 1" in form  # approved part, with its number
    assert "Wiper blades" not in form  # declined
    assert "Replace front brake pads" in form
    refused = post_form(
        client,
        f"{url}/hand-back",
        {"odometer_out_km": "59,990", "work_done": "Pads replaced", "parts": "BP-2231 | Pads | 1"},
        url,
    )
    body = text(refused)
    assert refused.status_code == 400 and "below the 60,000 km" in body
    assert "Pads replaced" in body  # nothing typed is lost
    assert status_of(app, visit_id) == VisitStatus.ready
    post_form(
        client,
        f"{url}/hand-back",
        {
            "odometer_out_km": "60,012",
            "work_done": "Front pads replaced; road tested",
            "parts": "BP-2231 | Front brake pads (set) | 1\nWasher fluid",
        },
        url,
    ).close()
    assert status_of(app, visit_id) == VisitStatus.delivered
    with app.app_context():
        session = db.session()
        [row] = session.query(HandBack).all()
        assert row.odometer_out_km == 60012
        # The service star's row, as the hand-back left it: the visit has no advisor, so
        # the desk that handed the car back answers for it; ready when the check passed.
        visit = session.get(Visit, visit_id)
        job = session.get(HandedBackJob, visit_id)
        passed = session.scalar(select(QualityCheck).where(QualityCheck.passed.is_(True)))
        assert visit is not None and job is not None and passed is not None
        assert (job.handed_back_at, job.vehicle_id) == (row.handed_back_at, visit.vehicle_id)
        assert visit.advisor_user_id is None
        assert job.advisor_user_id == row.handed_back_by_user_id is not None
        assert (job.promised_at, job.ready_at) == (visit.expected_ready_at, passed.checked_at)
        assert row.parts_replaced == [
            {"part_number": "BP-2231", "description": "Front brake pads (set)", "quantity": "1"},
            {"part_number": "", "description": "Washer fluid", "quantity": "1"},
        ]
    page = text(client.get(url))
    assert "60,012 km" in page and "BP-2231" in page


# -- greeting target -----------------------------------------------------------------


def test_the_board_highlights_a_customer_not_greeted_within_the_target(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    late = make_visit(app, status=VisitStatus.checked_in, minutes_ago=11, ticket="K-011")
    fresh = make_visit(
        app, status=VisitStatus.checked_in, minutes_ago=9, plate="京B22222", ticket="K-009"
    )
    taken = make_visit(
        app, status=VisitStatus.checked_in, minutes_ago=30, plate="京C33333", ticket="K-030"
    )
    advisor = shop.user("wang.advisor")
    with app.app_context():
        session = db.session()
        user_id = session.scalar(select(User.id).where(User.username == advisor))
        lock_feed(session)
        # K-030 was checked in by an advisor at the car: greeted on arrival.
        update_server_record(session, "visit", taken.visit_id, {"advisor_user_id": user_id})
        session.commit()
    web_login(client, shop)

    def highlighted() -> set[str]:
        cards = text(client.get("/board/cards"))
        return set(re.findall(r'not-greeted" href="/visits/([0-9a-f-]{36})"', cards))

    assert highlighted() == {late.visit_id}
    assert "Not greeted yet — over 10 min" in text(client.get("/board/cards"))
    app.config["GREETING_TARGET_MINUTES"] = 5
    assert {late.visit_id, fresh.visit_id} <= highlighted()
