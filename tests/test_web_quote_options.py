"""Quotes with options through the pages: the advisor offers alternatives in the editor
(mistakes explained, nothing typed lost), the visit page shows them side by side with a
total each, and the customer on the phone chooses one (or none), answers its lines and
signs; the approval records the option, and work may start only after it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop
from web_fixtures import (
    OPTION_LINES,
    OPTIONS,
    STROKES_JSON,
    csrf_token,
    make_visit,
    options_form,
    page_text,
    post_form,
    send_for_approval,
    signature_data_uri,
    web_login,
)

from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.back_office_tables import ApprovalRow, OutboundMessage
from sync_server.quotes import latest_version
from sync_server.sync.records import ChangeRefused, lock_feed, update_server_record
from sync_server.visit_tables import Visit


def save(client: FlaskClient, visit_id: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    url = f"/visits/{visit_id}/quote"
    return post_form(client, url, data, url)


def write_options_quote(client: FlaskClient, visit_id: str) -> None:
    response = save(client, visit_id, options_form(OPTION_LINES, OPTIONS))
    assert response.status_code == 302, page_text(response)
    response.close()


def status_of(app: Flask, visit_id: str) -> str:
    with app.app_context():
        visit = db.session().get(Visit, visit_id)
        assert visit is not None
        return visit.status


def line_ids(page: str) -> dict[str, list[str]]:
    """The line ids on the customer's page, by the option each belongs to ("" shared)."""
    found: dict[str, list[str]] = {"": []}
    sections = re.split(r'<section class="option-items" data-option="([0-9a-f-]{36})">', page)
    shared_tail = sections[-1].split("</section>", 1)[-1]
    for option_id, body in zip(sections[1::2], sections[2::2], strict=True):
        found[option_id] = re.findall(r'data-line="([0-9a-f-]{36})"', body.split("</section>")[0])
    found[""] = re.findall(r'data-line="([0-9a-f-]{36})"', shared_tail)
    return found


def answer(customer: FlaskClient, path: str, fields: dict[str, str]):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": csrf_token(customer, path),
        "signer_name": "Zhang Wei",
        "strokes": STROKES_JSON,
        "signature_png": signature_data_uri(),
        **fields,
    }
    return customer.post(path, data=data, headers={"User-Agent": "PhoneBrowser/2.0"})


def test_the_editor_saves_options_and_the_visit_page_shows_them_side_by_side(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    web_login(client, shop)
    write_options_quote(client, made.visit_id)
    with app.app_context():
        latest = latest_version(db.session(), made.visit_id)
        assert latest is not None
        quote = latest.quote
        genuine, aftermarket = quote.options
        assert (genuine.label, aftermarket.notes) == ("Genuine pads", "Cheaper, 1-year warranty")
        assert [line.option_id for line in quote.lines] == [
            None,
            genuine.id,
            genuine.id,
            aftermarket.id,
            aftermarket.id,
        ]
        totals = quote.option_totals()
        assert totals[genuine.id].total == Decimal("1017.00")  # (120 + 300 + 480) × 1.13
        assert totals[aftermarket.id].total == Decimal("768.40")  # (120 + 300 + 260) × 1.13
    page = page_text(client.get(f"/visits/{made.visit_id}"))
    assert page.count('class="quote-option opt-') == 2
    assert "In every option" in page and "¥1,017.00" in page and "¥768.40" in page
    # Opened again, the editor shows the options and each line under its option.
    editor = page_text(client.get(f"/visits/{made.visit_id}/quote"))
    assert 'value="Genuine pads"' in editor and f'value="{genuine.id}"' in editor
    assert editor.count('<option value="1" selected>') == 2


def test_saving_again_keeps_the_options_ids(app: Flask, client: FlaskClient, shop: Shop) -> None:
    made = make_visit(app)
    web_login(client, shop)
    write_options_quote(client, made.visit_id)
    with app.app_context():
        first = latest_version(db.session(), made.visit_id)
        assert first is not None
        ids = [option.id for option in first.quote.options]
    options = [{**option, "id": option_id} for option, option_id in zip(OPTIONS, ids, strict=True)]
    options[1]["label"] = "Quality aftermarket pads"
    response = save(client, made.visit_id, options_form(OPTION_LINES, options))
    assert response.status_code == 302
    response.close()
    with app.app_context():
        again = latest_version(db.session(), made.visit_id)
        assert again is not None and again.quote.version == 1
        assert [option.id for option in again.quote.options] == ids
        assert again.quote.options[1].label == "Quality aftermarket pads"


@pytest.mark.parametrize(
    ("lines", "options", "field", "message"),
    [
        (OPTION_LINES[:3], OPTIONS, "option-1-label", "Put at least one line under option B"),
        (OPTION_LINES[:3], OPTIONS[:1], "option-0-label", "One option is no choice"),
        (OPTION_LINES, [OPTIONS[0], {"label": ""}], "option-1-label", "Give option B a name"),
        (
            [*OPTION_LINES, {**OPTION_LINES[0], "option": "7"}],
            OPTIONS,
            "line-5-option",
            "Choose one of the options above",
        ),
    ],
)
def test_options_that_offer_no_choice_are_explained_and_nothing_is_lost(
    app: Flask,
    client: FlaskClient,
    shop: Shop,
    lines: list[dict[str, str]],
    options: list[dict[str, str]],
    field: str,
    message: str,
) -> None:
    made = make_visit(app)
    web_login(client, shop)
    response = save(client, made.visit_id, options_form(lines, options))
    body = page_text(response)
    assert response.status_code == 400
    assert message in body
    assert f'name="{field}"' in body and "aria-invalid" in body
    for line in lines:
        assert f'value="{line["description"]}"' in body
    for option in options:
        if option.get("label"):
            assert f'value="{option["label"]}"' in body
    with app.app_context():
        assert latest_version(db.session(), made.visit_id) is None


def test_add_an_option_keeps_what_was_typed(app: Flask, client: FlaskClient, shop: Shop) -> None:
    made = make_visit(app)
    web_login(client, shop)
    form = options_form(OPTION_LINES, OPTIONS, action="add_option")
    body = page_text(save(client, made.visit_id, form))
    assert 'name="option_count" value="3"' in body and 'name="option-2-label"' in body
    assert 'value="Aftermarket pads"' in body and 'value="Genuine brake pads"' in body
    assert '<details class="options-editor" open>' in body
    four = options_form(OPTION_LINES, [*OPTIONS, {}, {}], action="add_option")
    body = page_text(save(client, made.visit_id, four))
    assert 'name="option_count" value="4"' in body  # four at most
    assert 'value="add_option"' not in body


def test_editor_with_options_without_csrf_is_refused(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    web_login(client, shop)
    response = client.post(
        f"/visits/{made.visit_id}/quote", data=options_form(OPTION_LINES, OPTIONS)
    )
    assert response.status_code == 400 and "reload the page" in page_text(response)


def test_the_customer_chooses_an_option_and_answers_its_lines(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app, email="zw@example.com", channel="email")
    web_login(client, shop)
    write_options_quote(client, made.visit_id)
    path = send_for_approval(client, made.visit_id)
    with app.app_context():
        latest = latest_version(db.session(), made.visit_id)
        assert latest is not None
        genuine, aftermarket = latest.quote.options

    customer = app.test_client()
    page = page_text(customer.get(path))
    assert page.count('class="option-card opt-') == 2
    assert "¥1,017.00" in page and "¥768.40" in page and "None of these options" in page
    ids = line_ids(page)
    assert len(ids[""]) == 1 and len(ids[genuine.id]) == 2 and len(ids[aftermarket.id]) == 2
    wipers = ids[""][0]

    # No option chosen: refused, and every answer given comes back checked.
    answers = {f"decision-{line}": "approved" for line in ids[genuine.id]}
    refused = answer(customer, path, {**answers, f"decision-{wipers}": "declined"})
    body = page_text(refused)
    assert refused.status_code == 400 and "Please choose one of the options" in body
    assert body.count('value="approved" checked') == 2 and 'value="declined" checked' in body

    # An option that is not on this quote is no choice either.
    forged = answer(customer, path, {"option": "5b0f3c52-7f57-4a4e-9d0e-1f3b7a0c9d11"})
    assert forged.status_code == 400
    forged.close()

    # Option A chosen, but one of its lines unanswered: that line is asked for.
    missing = answer(customer, path, {"option": genuine.id, f"decision-{wipers}": "declined"})
    body = page_text(missing)
    assert missing.status_code == 400 and "Please choose yes or no" in body
    assert f'value="{genuine.id}" checked' in body

    assert status_of(app, made.visit_id) == VisitStatus.quote_sent
    with app.app_context(), pytest.raises(ChangeRefused):
        session = db.session()
        lock_feed(session)
        update_server_record(session, "visit", made.visit_id, {"status": "approved"})

    # Answers for the other option's lines are not part of what is agreed.
    other = {f"decision-{line}": "approved" for line in ids[aftermarket.id]}
    done = answer(
        customer,
        path,
        {"option": genuine.id, **answers, **other, f"decision-{wipers}": "declined"},
    )
    body = page_text(done)
    assert done.status_code == 200 and "Thank you" in body
    assert "You chose option A: Genuine pads" in body and "¥881.40" in body
    assert status_of(app, made.visit_id) == VisitStatus.approved
    with app.app_context():
        session = db.session()
        row = session.query(ApprovalRow).one()
        assert row.option_id == genuine.id and row.user_agent == "PhoneBrowser/2.0"
        version = latest_version(session, made.visit_id)
        assert version is not None and version.approval is not None
        assert version.approval.option_id == genuine.id
        assert set(version.approval.decisions) == {wipers, *ids[genuine.id]}
        assert version.approval.approved_total(version.quote) == Decimal("881.40")
        assert session.query(OutboundMessage).filter_by(event="approved").count() == 1

    visit_page = page_text(client.get(f"/visits/{made.visit_id}"))
    assert "The customer chose option A: Genuine pads" in visit_page
    assert "Not chosen" in visit_page and "¥881.40" in visit_page
    post_form(
        client,
        f"/visits/{made.visit_id}/dispatch",
        {"technician_id": "any"},
        f"/visits/{made.visit_id}",
    ).close()
    response = post_form(
        client,
        f"/visits/{made.visit_id}/status",
        {"event": "start_work"},
        f"/visits/{made.visit_id}",
    )
    response.close()
    assert status_of(app, made.visit_id) == VisitStatus.in_progress


def test_the_customer_may_choose_none_of_the_options(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    web_login(client, shop)
    write_options_quote(client, made.visit_id)
    path = send_for_approval(client, made.visit_id)
    customer = app.test_client()
    ids = line_ids(page_text(customer.get(path)))
    done = answer(customer, path, {"option": "none", f"decision-{ids[''][0]}": "approved"})
    body = page_text(done)
    assert done.status_code == 200 and "You chose none of the options" in body
    with app.app_context():
        version = latest_version(db.session(), made.visit_id)
        assert version is not None and version.approval is not None
        assert version.approval.option_id is None
        assert version.approval.approved_total(version.quote) == Decimal("135.60")  # wipers
    assert "The customer chose none of the options" in page_text(
        client.get(f"/visits/{made.visit_id}")
    )


def test_an_answer_with_options_without_csrf_is_refused(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    web_login(client, shop)
    write_options_quote(client, made.visit_id)
    path = send_for_approval(client, made.visit_id)
    customer = app.test_client()
    customer.get(path).close()
    response = customer.post(path, data={"option": "none", "strokes": STROKES_JSON})
    assert response.status_code == 400 and "reload the page" in page_text(response)
    assert status_of(app, made.visit_id) == VisitStatus.quote_sent


def test_a_problem_found_makes_a_new_version_that_keeps_the_options(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    web_login(client, shop)
    write_options_quote(client, made.visit_id)
    path = send_for_approval(client, made.visit_id)
    customer = app.test_client()
    ids = line_ids(page_text(customer.get(path)))
    with app.app_context():
        first = latest_version(db.session(), made.visit_id)
        assert first is not None
        genuine = first.quote.options[0]
    answers = {f"decision-{line}": "approved" for line in [*ids[""], *ids[genuine.id]]}
    answer(customer, path, {"option": genuine.id, **answers}).close()
    visit_url = f"/visits/{made.visit_id}"
    post_form(client, f"{visit_url}/dispatch", {"technician_id": "any"}, visit_url).close()
    for event in ("start_work", "problem_found"):
        post_form(client, f"{visit_url}/status", {"event": event}, visit_url).close()
    assert status_of(app, made.visit_id) == VisitStatus.diagnosed

    # The editor starts from the approved version: same options, same lines.
    editor = page_text(client.get(f"{visit_url}/quote"))
    assert "Quote, version 2" in editor and 'value="Genuine pads"' in editor
    extra = {**OPTION_LINES[0], "description": "Brake fluid flush", "unit_price": "150"}
    options = [
        {**option, "id": o.id} for option, o in zip(OPTIONS, first.quote.options, strict=True)
    ]
    response = save(client, made.visit_id, options_form([*OPTION_LINES, extra], options))
    assert response.status_code == 302
    response.close()
    with app.app_context():
        second = latest_version(db.session(), made.visit_id)
        assert second is not None and second.quote.version == 2 and second.approval is None
        assert [o.id for o in second.quote.options] == [o.id for o in first.quote.options]
    # The first approval does not cover the new version: no work until it is answered.
    with app.app_context(), pytest.raises(ChangeRefused):
        session = db.session()
        lock_feed(session)
        update_server_record(session, "visit", made.visit_id, {"status": "approved"})
    second_path = send_for_approval(client, made.visit_id)
    assert "replaced by a newer one" in page_text(customer.get(path))
    assert "Brake fluid flush" in page_text(customer.get(second_path))
