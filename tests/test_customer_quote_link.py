"""The customer's approval link as the customer meets it: revised under them, it says so
at once (never a status name, in either language); *Revise quote* asks the advisor to
confirm first; the page greets them by their own name with their own plate; declining a
safety item asks them to confirm, and that is kept with the approval."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop
from web_fixtures import (
    STANDARD_LINES,
    STROKES_JSON,
    csrf_token,
    make_visit,
    page_text,
    post_form,
    quote_form,
    send_for_approval,
    signature_data_uri,
    web_login,
)

from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.quotes import latest_version
from sync_server.visit_tables import Visit

# Words of the desk the customer must never read.
STATUS_WORDS = [status.value for status in VisitStatus if "_" in status.value] + [
    "diagnosed",
    "到店记录",
    "cannot go from",
]


def visible_text(html: str) -> str:
    without_scripts = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", without_scripts))


def status_of(app: Flask, visit_id: str) -> str:
    with app.app_context():
        visit = db.session().get(Visit, visit_id)
        assert visit is not None
        return visit.status


def quote_sent(app: Flask, client: FlaskClient, shop: Shop, **visit: str) -> tuple[str, str]:
    made = make_visit(app, **visit)  # type: ignore[arg-type]
    web_login(client, shop)
    url = f"/visits/{made.visit_id}/quote"
    post_form(client, url, quote_form(STANDARD_LINES), url).close()
    return made.visit_id, send_for_approval(client, made.visit_id)


def answer(customer: FlaskClient, path: str, decisions: list[str], **extra: str):  # type: ignore[no-untyped-def]
    page = page_text(customer.get(path))
    line_ids = re.findall(r'name="decision-([0-9a-f-]{36})" value="approved"', page)
    data = {
        "csrf_token": csrf_token(customer, path if line_ids else "/login"),
        "signer_name": "张伟",
        "strokes": STROKES_JSON,
        "signature_png": signature_data_uri(),
        **extra,
    }
    for line_id, decision in zip(line_ids, decisions, strict=False):
        data[f"decision-{line_id}"] = decision
    return customer.post(path, data=data), line_ids


def revise(client: FlaskClient, visit_id: str, confirmed: bool = True) -> None:
    data = {"event": "revise_quote", **({"confirmed": "yes"} if confirmed else {})}
    post_form(client, f"/visits/{visit_id}/status", data, f"/visits/{visit_id}").close()


def test_revise_quote_asks_the_advisor_to_confirm(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    visit_id, _path = quote_sent(app, client, shop)
    response = post_form(
        client, f"/visits/{visit_id}/status", {"event": "revise_quote"}, f"/visits/{visit_id}"
    )
    assert response.status_code == 302 and response.location.endswith("/revise-quote")
    response.close()
    assert status_of(app, visit_id) == VisitStatus.quote_sent
    confirm = page_text(client.get(f"/visits/{visit_id}/revise-quote"))
    assert "Revise the quote?" in confirm and "a new link is on its way" in confirm
    assert 'name="confirmed" value="yes"' in confirm
    revise(client, visit_id)
    assert status_of(app, visit_id) == VisitStatus.diagnosed


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_a_revised_quote_says_so_and_takes_no_answer(
    app: Flask, client: FlaskClient, shop: Shop, language: str
) -> None:
    visit_id, path = quote_sent(app, client, shop)
    customer = app.test_client()
    customer.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert customer.get(path + "/state").get_json()["state"] == "open"
    form_page = page_text(customer.get(path))  # the customer has the page open ...
    assert 'id="approval-form"' in form_page
    revise(client, visit_id)  # ... and the advisor revises the quote

    updating = "a new link is on its way" if language == "en" else "新的链接"
    state = customer.get(path + "/state").get_json()
    assert state["state"] == "updating" and updating in state["message"]
    page = page_text(customer.get(path))
    assert updating in page and 'id="approval-form"' not in page

    # Answering the page that was open: the same words, never the desk's refusal.
    data = {
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form_page).group(1),  # type: ignore[union-attr]
        "signer_name": "张伟",
        "strokes": STROKES_JSON,
        "signature_png": signature_data_uri(),
    }
    for line_id in re.findall(r'name="decision-([0-9a-f-]{36})" value="approved"', form_page):
        data[f"decision-{line_id}"] = "approved"
    response = customer.post(path, data=data)
    body = page_text(response)
    assert response.status_code == 409 and updating in body
    shown = visible_text(body)
    assert not [word for word in STATUS_WORDS if word in shown], shown
    assert status_of(app, visit_id) == VisitStatus.diagnosed


def test_no_customer_page_shows_a_status_name(app: Flask, client: FlaskClient, shop: Shop) -> None:
    visit_id, path = quote_sent(app, client, shop)
    customer = app.test_client()
    with app.app_context():
        visit = db.session().get(Visit, visit_id)
        assert visit is not None
        status_page = f"/status/{visit.status_token}"
    for language in ("en", "zh-CN"):
        customer.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        for url in (path, path + "/state", status_page, "/approve/not-a-token"):
            shown = visible_text(page_text(customer.get(url)))
            assert not [word for word in STATUS_WORDS if word in shown], (url, shown)
    revise(client, visit_id)
    for language in ("en", "zh-CN"):
        customer.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        for url in (path, path + "/state", status_page):
            shown = visible_text(page_text(customer.get(url)))
            assert not [word for word in STATUS_WORDS if word in shown], (url, shown)


def test_the_page_greets_the_customer_by_name_with_their_plate(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    _visit, path = quote_sent(app, client, shop, name="Emily Carter", plate="沪B88Q21")
    page = page_text(app.test_client().get(path))
    assert "Hello Emily Carter." in page and "沪B88Q21" in page
    assert 'name="signer_name" value="Emily Carter"' in page  # ready to sign as themselves


def test_a_customer_without_a_name_is_greeted_plainly(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    _visit, path = quote_sent(app, client, shop, name="")
    page = visible_text(page_text(app.test_client().get(path)))
    assert "Hello. Here is what we found" in page


def test_declining_a_safety_item_needs_the_customers_confirmation(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    visit_id, path = quote_sent(app, client, shop)
    customer = app.test_client()
    # The labour and the pads are red (safety); the wipers green.
    response, line_ids = answer(customer, path, ["declined", "approved", "declined"])
    body = page_text(response)
    assert response.status_code == 400
    assert "This is a safety item. Please tick the box" in body
    assert body.count("Please tick the box") == 1  # only the red line declined
    assert body.count('value="declined" checked') == 2  # the answers are kept
    assert status_of(app, visit_id) == VisitStatus.quote_sent

    response, _ids = answer(
        customer,
        path,
        ["declined", "approved", "declined"],
        **{f"safety-{line_ids[0]}": "yes"},
    )
    assert response.status_code == 200 and "Thank you" in page_text(response)
    with app.app_context():
        latest = latest_version(db.session(), visit_id)
        assert latest is not None and latest.approval is not None
        assert latest.approval.safety_acknowledged == [line_ids[0]]
    visit_page = page_text(client.get(f"/visits/{visit_id}"))
    assert "the customer confirmed they understand the risk" in visit_page
