"""Tiers across a merge of duplicates: the VIP the merged file held on grace is kept by
the customer who stays until the grace ends (nightly recompute included); a visit filed
under the merged file after the merge (a device's older copy) counts for the customer
who stayed; a VIP by hand survives the nightly run; the merged file's phone number is a
VIP's only while the customer who stayed is one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from customer_file_fixtures import VisitPlan, make_car, make_customer, make_history
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop
from web_fixtures import page_text, post_form, web_login

from sync_server import db
from sync_server.customer_file.tiers import recompute_tiers
from sync_server.customer_file_tables import CustomerTierState
from sync_server.models import SyncRecord
from sync_server.sync.trust import vip_phone

KEEP_PHONE, OTHER_PHONE = "+8613811110000", "+8613822220000"


def held(app: Flask, customer_id: str) -> tuple[str, datetime | None]:
    with app.app_context():
        state = db.session().get(CustomerTierState, customer_id)
        assert state is not None
        grace = state.grace_until
        return state.tier, grace.replace(tzinfo=UTC) if grace and not grace.tzinfo else grace


def synced_tier(app: Flask, customer_id: str) -> str:
    with app.app_context():
        record = db.session().get(SyncRecord, ("customer", customer_id))
        assert record is not None
        return str(record.fields["tier"])


def nightly(app: Flask, now: datetime, customer_ids: list[str] | None = None) -> None:
    with app.app_context():
        session = db.session()
        recompute_tiers(session, customer_ids, now=now)
        session.commit()


def phone_is_vip(app: Flask, phone: str) -> bool:
    with app.app_context():
        session = db.session()
        return vip_phone(session, phone)  # the board asks the same (vip_phones_among)


def merge(client: FlaskClient, keep: str, other: str) -> None:
    response = post_form(
        client,
        "/customers/merge",
        {"keep": keep, "merge": other},
        f"/customers/merge?keep={keep}&merge={other}",
    )
    assert response.status_code == 302, page_text(response)


def test_a_vip_held_on_grace_by_the_merged_file_stays_until_the_grace_ends(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    now = datetime.now(UTC)
    keep = make_customer(app, name="Zhang Wei", phone=KEEP_PHONE)
    other = make_customer(app, name="张伟", phone=OTHER_PHONE)
    car = make_car(app, other)
    # Eight hand-backs make a VIP (the default rules); five of them are over a year old
    # by now, so the merged file holds its VIP on the 90 days' grace.
    days = (380, 379, 378, 377, 376, 100, 99, 98)
    make_history(app, other, car, [VisitPlan(now - timedelta(days=d)) for d in days])
    nightly(app, now - timedelta(days=20))
    assert held(app, other) == ("vip", None)
    nightly(app, now - timedelta(days=1))
    grace_ends = now - timedelta(days=1) + timedelta(days=90)
    assert held(app, other) == ("vip", grace_ends)
    assert phone_is_vip(app, OTHER_PHONE)

    web_login(client, shop, "manager")
    merge(client, keep, other)
    # The customer who stays has three visits (silver) yet keeps the VIP to the same day.
    assert held(app, keep) == ("vip", grace_ends)
    assert synced_tier(app, keep) == "vip"
    nightly(app, grace_ends - timedelta(seconds=1))
    assert held(app, keep) == ("vip", grace_ends)
    assert phone_is_vip(app, KEEP_PHONE) and phone_is_vip(app, OTHER_PHONE)
    # The grace ends: silver, everywhere — the merged file's number is no VIP's any more.
    nightly(app, grace_ends)
    assert held(app, keep) == ("silver", None)
    assert synced_tier(app, keep) == "regular"
    assert not phone_is_vip(app, KEEP_PHONE) and not phone_is_vip(app, OTHER_PHONE)


def test_a_visit_filed_under_the_merged_file_counts_for_the_customer_who_stayed(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    now = datetime.now(UTC)
    keep = make_customer(app, name="Li Lei", phone=KEEP_PHONE)
    other = make_customer(app, name="李雷", phone=OTHER_PHONE)
    keep_car, other_car = make_car(app, keep), make_car(app, other, plate="粤B54321")
    make_history(app, keep, keep_car, [VisitPlan(now - timedelta(days=d)) for d in (60, 50, 40)])
    nightly(app, now)
    assert held(app, keep) == ("silver", None)
    web_login(client, shop, "manager")
    merge(client, keep, other)
    # A tablet that had not heard of the merge sends a visit for the merged file; it is
    # handed back: the customer who stayed now has four visits (gold), at the hand-back's
    # recompute (which names the visit's customer) and at the nightly run alike.
    make_history(app, other, other_car, [VisitPlan(now - timedelta(days=1))])
    nightly(app, now, [other])
    assert held(app, keep) == ("gold", None)
    nightly(app, now + timedelta(days=1))
    assert held(app, keep) == ("gold", None)


def test_a_vip_by_hand_on_the_merged_file_survives_the_nightly_run(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    keep = make_customer(app, name="Chen Jie", phone=KEEP_PHONE)
    other = make_customer(app, name="陈杰", phone=OTHER_PHONE)
    web_login(client, shop, "manager")
    page = f"/customers/{other}"
    saved = post_form(client, f"{page}/vip", {"vip": "yes", "reason": "Fleet manager"}, page)
    assert saved.status_code == 302
    merge(client, keep, other)
    nightly(app, datetime.now(UTC) + timedelta(days=400))
    assert synced_tier(app, keep) == "vip"
    assert "VIP by the desk&#39;s decision: Fleet manager" in page_text(
        client.get(f"/customers/{keep}")
    )
    assert phone_is_vip(app, OTHER_PHONE)
    # Taken back on the customer who stayed: taken back for the merged file's number too.
    post_form(client, f"/customers/{keep}/vip", {"vip": "no"}, f"/customers/{keep}").close()
    assert synced_tier(app, keep) == "regular"
    assert not phone_is_vip(app, OTHER_PHONE) and not phone_is_vip(app, KEEP_PHONE)
