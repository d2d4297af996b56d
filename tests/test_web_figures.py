"""On the web pages a number stays with its unit: each figure ("52,340 km", "48,210 公里")
is in a span the browser does not break inside, whatever the text around it, and the
text around it is still escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from customer_file_fixtures import VisitPlan, make_car, make_customer, make_history
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop
from web_fixtures import page_text, web_login

from sync_server.web import figures


def test_the_filter_wraps_each_figure_and_escapes_the_rest() -> None:
    assert str(figures("自助机填写：52,340 km（多 4,440 km）")) == (
        '自助机填写：<span class="figure">52,340 km</span>（多 '
        '<span class="figure">4,440 km</span>）'
    )
    assert str(figures("比上次多出4,440公里")) == '比上次多出<span class="figure">4,440公里</span>'
    assert str(figures("<b>O'Neil</b> 3 mm")) == (
        '&lt;b&gt;O&#39;Neil&lt;/b&gt; <span class="figure">3 mm</span>'
    )


def test_the_vehicle_page_keeps_each_reading_with_its_unit(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    customer_id = make_customer(app)
    car = make_car(app, customer_id)
    day = datetime.now(UTC) - timedelta(days=30)
    make_history(app, customer_id, car, [VisitPlan(day, 52_340, tread={"fl": 3.5})])
    web_login(client, shop)
    body = page_text(client.get(f"/vehicles/{car}", headers={"Accept-Language": "zh-CN"}))
    assert '<span class="figure">52,340 km</span>' in body
    assert '<span class="figure">3.5 mm</span>' in body
