"""Customer tiers at their edges: a threshold reached exactly (by visits, by spend), one
short, a downgrade held for the grace period and dropped the day it ends, a rise at
once, a VIP by hand with its reason, the hand-back recomputing, the nightly command, and
the rules page refusing what makes no sense."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from customer_file_fixtures import Line, VisitPlan, make_car, make_customer, make_history
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from server_fixtures import Shop
from web_fixtures import csrf_token, page_text, post_form, web_login

from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.customer_file.tiers import (
    Figures,
    earned_tier,
    recompute_tiers,
    save_rules,
    tier_rules,
)
from sync_server.customer_file_tables import CustomerTierState
from sync_server.shop_tables import Shop as Shop_
from sync_server.sync.tables import SyncRecord
from sync_server.visit_tables import Customer

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def test_thresholds_at_their_edges(app: Flask) -> None:
    with app.app_context():
        rules = tier_rules(db.session())  # silver 2 / ¥2000, gold 4 / ¥8000, vip 8 / ¥20000
    assert earned_tier(Figures(1, Decimal("1999.99")), rules) == "regular"
    assert earned_tier(Figures(2, Decimal(0)), rules) == "silver"
    assert earned_tier(Figures(1, Decimal("2000")), rules) == "silver"
    assert earned_tier(Figures(3, Decimal("7999.99")), rules) == "silver"
    assert earned_tier(Figures(4, Decimal(0)), rules) == "gold"
    assert earned_tier(Figures(0, Decimal("20000")), rules) == "vip"
    assert earned_tier(Figures(8, Decimal(0)), rules) == "vip"


def state(app: Flask, customer_id: str) -> CustomerTierState:
    with app.app_context():
        found = db.session().get(CustomerTierState, customer_id)
        assert found is not None
        db.session().expunge(found)
        return found


def recompute(app: Flask, now: datetime) -> int:
    with app.app_context():
        session = db.session()
        changed = recompute_tiers(session, now=now)
        session.commit()
        return changed


def synced_tier(app: Flask, customer_id: str) -> str:
    with app.app_context():
        record = db.session().get(SyncRecord, ("customer", customer_id))
        assert record is not None
        return record.fields["tier"]


def test_window_grace_and_rise(app: Flask) -> None:
    customer_id = make_customer(app)
    vehicle_id = make_car(app, customer_id)
    # Four hand-backs: two 370 and 360 days ago, two 100 days ago; spend ¥300 each.
    make_history(
        app,
        customer_id,
        vehicle_id,
        [
            VisitPlan(days_ago(days), 1000 * index, lines=[Line("Oil", price="300")])
            for index, days in enumerate((370, 360, 100, 99), start=1)
        ],
    )
    recompute(app, NOW)
    first = state(app, customer_id)
    # The one 370 days ago is outside the window: three visits give silver.
    assert (first.visits_12m, first.tier, first.grace_until) == (3, "silver", None)
    assert first.spend_12m == Decimal("1017.00")  # 3 × 300 + 13 % tax
    with app.app_context():
        session = db.session()
        save_rules(
            session,
            {"silver": (3, Decimal(5000)), "gold": (3, Decimal(9000)), "vip": (9, Decimal(30000))},
            30,
        )
        session.commit()
    recompute(app, NOW)
    assert state(app, customer_id).tier == "gold"  # a rise is at once
    # 10 days later the visit of 360 days ago leaves the window: two visits, silver...
    later = NOW + timedelta(days=10)
    recompute(app, later)
    held = state(app, customer_id)
    assert (held.tier, held.earned_tier) == ("gold", "regular")
    assert held.grace_until == later + timedelta(days=30)
    # ...held the whole grace period, dropped the moment it ends.
    recompute(app, later + timedelta(days=30) - timedelta(seconds=1))
    assert state(app, customer_id).tier == "gold"
    recompute(app, later + timedelta(days=30))
    dropped = state(app, customer_id)
    assert (dropped.tier, dropped.grace_until) == ("regular", None)
    assert synced_tier(app, customer_id) == "regular"


def test_grace_is_cancelled_when_the_figures_come_back(app: Flask) -> None:
    customer_id = make_customer(app)
    vehicle_id = make_car(app, customer_id)
    make_history(app, customer_id, vehicle_id, [VisitPlan(days_ago(360)), VisitPlan(days_ago(200))])
    recompute(app, NOW)
    assert state(app, customer_id).tier == "silver"
    recompute(app, NOW + timedelta(days=10))
    assert state(app, customer_id).grace_until is not None
    make_history(app, customer_id, vehicle_id, [VisitPlan(NOW + timedelta(days=11))])
    recompute(app, NOW + timedelta(days=12))
    back = state(app, customer_id)
    assert (back.tier, back.grace_until) == ("silver", None)


def test_vip_by_hand_with_reason_is_synced_and_shown(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    customer_id = make_customer(app, name="Chen Jie")
    web_login(client, shop, "manager")
    page = f"/customers/{customer_id}"
    refused = post_form(client, f"{page}/vip", {"vip": "yes", "reason": " "}, page)
    assert refused.status_code == 400 and "Say why" in page_text(refused)
    saved = post_form(client, f"{page}/vip", {"vip": "yes", "reason": "Fleet manager"}, page)
    assert saved.status_code == 302
    body = page_text(client.get(page))
    assert "VIP by the desk&#39;s decision: Fleet manager" in body
    assert synced_tier(app, customer_id) == "vip"  # devices see the VIP in their feed
    # Advisors see the tier but cannot make a VIP.
    advisor = FlaskClient(app, use_cookies=True)
    web_login(advisor, shop)
    assert "vip-form" not in page_text(advisor.get(page))
    taken = post_form(advisor, f"{page}/vip", {"vip": "no"}, page)
    assert taken.status_code == 403
    post_form(client, f"{page}/vip", {"vip": "no"}, page).close()
    assert synced_tier(app, customer_id) == "regular"


def test_hand_back_recomputes_the_tier(app: Flask, client: FlaskClient, shop: Shop) -> None:
    customer_id = make_customer(app)
    vehicle_id = make_car(app, customer_id)
    now = datetime.now(UTC)
    make_history(app, customer_id, vehicle_id, [VisitPlan(now - timedelta(days=30))])
    (ready,) = make_history(
        app,
        customer_id,
        vehicle_id,
        [VisitPlan(now - timedelta(hours=3), status=VisitStatus.ready)],
    )
    web_login(client, shop)
    # The car is handed back through the hand-back form (odometer out, work done).
    response = post_form(
        client,
        f"/visits/{ready}/hand-back",
        {"odometer_out_km": "150,000", "work_done": "Yearly service", "parts": ""},
        f"/visits/{ready}",
    )
    assert response.status_code == 302, page_text(response)
    assert state(app, customer_id).tier == "silver"


def test_nightly_command(app: Flask, runner: FlaskCliRunner) -> None:
    customer_id = make_customer(app)
    vehicle_id = make_car(app, customer_id)
    now = datetime.now(UTC)
    make_history(
        app, customer_id, vehicle_id, [VisitPlan(now - timedelta(days=d)) for d in (10, 20, 30, 40)]
    )
    result = runner.invoke(args=["tiers", "recompute"])
    assert result.exit_code == 0, result.output
    assert "1 customer changed tier" in result.output
    assert state(app, customer_id).tier == "gold"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("gold_visits", "1", "cannot ask for less"),
        ("silver_spend", "-5", "An amount of money"),
        ("grace_days", "9999", "0 to 730"),
        ("vip_visits", "x", "A whole number"),
    ],
)
def test_rules_page_refuses_nonsense_and_keeps_what_was_typed(
    app: Flask, client: FlaskClient, shop: Shop, field: str, value: str, message: str
) -> None:
    web_login(client, shop, "manager")
    form = {
        "silver_visits": "2",
        "silver_spend": "2000",
        "gold_visits": "4",
        "gold_spend": "8000",
        "vip_visits": "8",
        "vip_spend": "20000",
        "grace_days": "90",
        field: value,
    }
    response = client.post(
        "/customers/tiers", data={**form, "csrf_token": csrf_token(client, "/customers/tiers")}
    )
    body = page_text(response)
    assert response.status_code == 400 and message in body and f'value="{value}"' in body
    with app.app_context():
        assert [r.min_visits for r in tier_rules(db.session())] == [2, 4, 8]
    fixed = {"gold_visits": "5", "silver_spend": "1500", "grace_days": "60", "vip_visits": "9"}
    ok = post_form(client, "/customers/tiers", {**form, field: fixed[field]}, "/customers/tiers")
    assert ok.status_code == 302
    with app.app_context():
        session = db.session()
        saved = {f"{r.tier}_visits": str(r.min_visits) for r in tier_rules(session)}
        saved |= {f"{r.tier}_spend": f"{r.min_spend:.0f}" for r in tier_rules(session)}
        saved["grace_days"] = str(session.get(Shop_, 1).tier_grace_days)
    assert saved[field] == fixed[field]


def test_migration_keeps_earlier_vips_and_starts_the_rules(app: Flask) -> None:
    """Down to 0011 with a VIP and a regular customer, up again: the VIP is a VIP by
    hand (with the reason saying why), the regular is not, the rules are there."""
    from alembic import command
    from sqlalchemy import inspect

    from shared import domain
    from sync_server.migrate import alembic_config, upgrade
    from sync_server.sync.records import lock_feed, put_server_record

    with app.app_context():
        session = db.session()
        lock_feed(session)
        vip = domain.Customer(name="Old VIP", tier=domain.CustomerTier.vip)
        regular = domain.Customer(name="Old regular")
        put_server_record(session, "customer", vip)
        put_server_record(session, "customer", regular)
        session.commit()
    command.downgrade(alembic_config(app), "0011")
    columns = inspect(app.extensions["db_engine"]).get_columns("customers")
    assert "vip" not in {column["name"] for column in columns}
    upgrade(app)
    with app.app_context():
        session = db.session()
        kept = session.get(Customer, vip.id)
        assert kept is not None and kept.vip and kept.vip_reason == "VIP tier"
        assert not session.get(Customer, regular.id).vip  # type: ignore[union-attr]
        assert [rule.tier for rule in tier_rules(session)] == ["silver", "gold", "vip"]
