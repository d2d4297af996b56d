"""Counts read right in both languages: "1 visit", "2 visits" in English, the one form
of Chinese (the catalog's ``Plural-Forms``), on a page, in a refusal, in a report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from customer_file_fixtures import VisitPlan, make_car, make_customer, make_history
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop
from web_fixtures import page_text, web_login

from shared.i18n import translations
from sync_server import db
from sync_server.customer_file.tiers import recompute_tiers
from sync_server.sign_in import SignInLocked


def test_every_catalog_names_chinese_plural_forms() -> None:
    for domain in ("shared", "kiosk", "server"):
        translations.cache_clear()
        catalog = translations("zh_CN", domain)
        assert catalog.plural(1) == catalog.plural(7) == 0, domain


def test_a_refusal_with_one_minute_says_minute() -> None:
    one, five = SignInLocked(1).message, SignInLocked(5).message
    assert one.render("en") == "Too many wrong passwords. Try again in 1 minute."
    assert five.render("en") == "Too many wrong passwords. Try again in 5 minutes."
    assert one.render("zh_CN") == "密码错误次数过多。请在 1 分钟后再试。"


def test_the_customer_page_counts_one_visit_as_one(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    customer_id = make_customer(app)
    car = make_car(app, customer_id)
    make_history(app, customer_id, car, [VisitPlan(datetime.now(UTC) - timedelta(days=9))])
    with app.app_context():
        recompute_tiers(db.session())
        db.session().commit()
    web_login(client, shop)
    page = f"/customers/{customer_id}"
    english = page_text(client.get(page, headers={"Accept-Language": "en"}))
    assert "1 handed-back visit and ¥0.00 approved in the last 12 months." in english
    assert "1 handed-back visits" not in english
    chinese = page_text(client.get(page, headers={"Accept-Language": "zh-CN"}))
    assert "近12个月交车 1 次，确认消费 ¥0.00。" in chinese


def test_a_reason_kept_in_a_table_reads_back_in_its_plural_form() -> None:
    from shared.i18n import Text, plural_text

    reason = plural_text("every {n} month", "every {n} months", 6, "server", n=6)
    params = reason.stored_params()
    assert Text.stored(reason.message, "server", params).render("en") == "every 6 months"
    assert Text.stored("plain {x}", "server", {"x": 1}).render("en") == "plain 1"
    assert Text.stored("plain", "server", None).render("en") == "plain"
