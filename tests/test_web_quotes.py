"""Quotes and the customer's authorisation: the editor keeps what was typed, a sent
version is never changed, the phone link is signed and expires, and no work starts
without a stored approval of the latest quote version — whoever asks."""

from __future__ import annotations

import base64
import io
import json
import re
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageDraw
from server_fixtures import Shop
from web_fixtures import (
    STANDARD_LINES,
    csrf_token,
    make_visit,
    post_form,
    quote_form,
    total_of_standard_quote,
    web_login,
)

from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.back_office_tables import ApprovalRow, OutboundMessage, QuoteRow
from sync_server.quotes import approval_token, latest_version, read_approval_token
from sync_server.sync.records import ChangeRefused, lock_feed, update_server_record
from sync_server.sync.tables import SyncRecord
from sync_server.visit_tables import Visit

STROKES = [[[0.1, 0.5, 0], [0.5, 0.2, 40], [0.9, 0.6, 90]]]


def text(response) -> str:  # type: ignore[no-untyped-def]
    body = response.get_data(as_text=True)
    response.close()
    return body


def signature_png() -> str:
    image = Image.new("RGB", (300, 100), "white")
    ImageDraw.Draw(image).line([(30, 50), (150, 20), (270, 60)], fill="black", width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def status_of(app: Flask, visit_id: str) -> str:
    with app.app_context():
        visit = db.session().get(Visit, visit_id)
        assert visit is not None
        return visit.status


def write_quote(client: FlaskClient, visit_id: str, lines=STANDARD_LINES) -> None:  # type: ignore[no-untyped-def]
    response = post_form(
        client, f"/visits/{visit_id}/quote", quote_form(lines), f"/visits/{visit_id}/quote"
    )
    assert response.status_code == 302, text(response)


def send(client: FlaskClient, visit_id: str) -> str:
    """Send the quote; returns the customer's approval path."""
    response = post_form(client, f"/visits/{visit_id}/quote/send", {}, f"/visits/{visit_id}")
    assert response.status_code == 302, text(response)
    share = text(client.get(f"/visits/{visit_id}/quote/share"))
    found = re.search(r'value="http://localhost(/approve/[^"]+)"', share)
    assert found and "data:image/png;base64," in share
    return found.group(1)


def answer(customer: FlaskClient, path: str, choices: dict[int, str], **extra: str):  # type: ignore[no-untyped-def]
    page = text(customer.get(path))
    line_ids = re.findall(r'name="decision-([0-9a-f-]{36})" value="approved"', page)
    data = {
        "csrf_token": csrf_token(customer, path if line_ids else "/login"),
        "signer_name": "Zhang Wei",
        "strokes": json.dumps(STROKES),
        "signature_png": signature_png(),
        **extra,
    }
    for index, decision in choices.items():
        if index < len(line_ids):
            data[f"decision-{line_ids[index]}"] = decision
    return customer.post(path, data=data, headers={"User-Agent": "PhoneBrowser/1.0"})


def test_editor_keeps_everything_typed_and_says_what_is_wrong(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    web_login(client, shop)
    bad = [
        {"kind": "labour", "description": "Replace brake pads", "hours": "one and a half"},
        {
            "kind": "part",
            "description": "",
            "quantity": "2",
            "unit_price": "12,50x",
            "part_number": "BP-9",
        },
    ]
    response = post_form(
        client, f"/visits/{made.visit_id}/quote", quote_form(bad), f"/visits/{made.visit_id}/quote"
    )
    body = text(response)
    assert response.status_code == 400
    assert 'value="one and a half"' in body and 'value="12,50x"' in body and 'value="BP-9"' in body
    assert "Enter the labour hours" in body
    assert "Say in plain words" in body and "Enter the price as a number" in body
    with app.app_context():
        assert latest_version(db.session(), made.visit_id) is None


def test_add_a_line_keeps_the_rows(app: Flask, client: FlaskClient, shop: Shop) -> None:
    made = make_visit(app)
    web_login(client, shop)
    form = quote_form(STANDARD_LINES[:1], action="add_line")
    body = text(
        post_form(client, f"/visits/{made.visit_id}/quote", form, f"/visits/{made.visit_id}/quote")
    )
    assert 'name="line_count" value="2"' in body and "Replace front brake pads" in body


def test_quote_without_csrf_is_refused(app: Flask, client: FlaskClient, shop: Shop) -> None:
    made = make_visit(app)
    web_login(client, shop)
    response = client.post(f"/visits/{made.visit_id}/quote", data=quote_form(STANDARD_LINES))
    assert response.status_code == 400
    response.close()


def test_the_whole_authorisation_flow(app: Flask, client: FlaskClient, shop: Shop) -> None:
    made = make_visit(app, email="zw@example.com", channel="email")
    web_login(client, shop)
    write_quote(client, made.visit_id)
    with app.app_context():
        latest = latest_version(db.session(), made.visit_id)
        assert latest is not None and latest.quote.total == total_of_standard_quote()
        assert db.session().get(SyncRecord, ("quote", latest.quote.id)) is not None
    path = send(client, made.visit_id)
    assert status_of(app, made.visit_id) == VisitStatus.quote_sent
    with app.app_context():
        message = db.session().query(OutboundMessage).one()
        # The message's link opens the same quote version as the desk's (the token is
        # signed with its time, so the two may differ by the second they were made in).
        sent = re.search(r"/approve/([^\s]+)", message.body)
        assert message.event == "quote_sent" and sent is not None
        secret = app.config["SECRET_KEY"]
        assert read_approval_token(secret, sent.group(1)) == read_approval_token(
            secret, path.removeprefix("/approve/")
        )

    # Work cannot start yet: the desk has no button for it, and the write path refuses.
    with app.app_context(), pytest.raises(ChangeRefused):
        session = db.session()
        lock_feed(session)
        update_server_record(session, "visit", made.visit_id, {"status": "approved"})

    customer = app.test_client()
    page = text(customer.get(path))
    # The link is the customer's own: their name and plate in full, never their phone.
    assert "Replace front brake pads" in page and "Hello 张伟." in page and "京A12345" in page
    assert "+8613812345678" not in page

    # Nothing chosen for one line: refused, and the choices made are kept.
    refused = answer(customer, path, {0: "approved", 1: "approved"})
    body = text(refused)
    assert refused.status_code == 400
    assert body.count('value="approved" checked') == 2 and "Please choose yes or no" in body
    assert 'value="Zhang Wei"' in body

    done = answer(customer, path, {0: "approved", 1: "approved", 2: "declined"})
    assert done.status_code == 200 and "Thank you" in text(done)
    assert status_of(app, made.visit_id) == VisitStatus.approved
    with app.app_context():
        approval = db.session().query(ApprovalRow).one()
        assert approval.user_agent == "PhoneBrowser/1.0" and approval.ip_address == "127.0.0.1"
        version = latest_version(db.session(), made.visit_id)
        assert version is not None and version.approval is not None
        # labour 1.5 × 200 + pads 480, wipers declined, plus 13 % tax
        assert version.approval.approved_total(version.quote) == Decimal("881.40")
    # A second answer on the same link changes nothing.
    again = answer(customer, path, {0: "declined", 1: "declined", 2: "declined"})
    assert again.status_code == 409
    again.close()

    visit_page = text(client.get(f"/visits/{made.visit_id}"))
    assert "Approved by the customer" in visit_page and "Start work" in visit_page
    # Work cannot start undispatched; the desk gives it to any technician.
    post_form(
        client,
        f"/visits/{made.visit_id}/status",
        {"event": "start_work"},
        f"/visits/{made.visit_id}",
    ).close()
    assert status_of(app, made.visit_id) == VisitStatus.approved
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
    assert response.status_code == 302
    assert status_of(app, made.visit_id) == VisitStatus.in_progress

    # A problem found during the repair needs a new quote version and a new approval.
    post_form(
        client,
        f"/visits/{made.visit_id}/status",
        {"event": "problem_found"},
        f"/visits/{made.visit_id}",
    )
    assert status_of(app, made.visit_id) == VisitStatus.diagnosed
    write_quote(client, made.visit_id, STANDARD_LINES[:1])
    with app.app_context():
        versions = [row.version for row in db.session().query(QuoteRow).order_by(QuoteRow.version)]
        assert versions == [1, 2]
    second_path = send(client, made.visit_id)
    # The old link now says it was replaced; the old approval does not count.
    assert "replaced by a newer one" in text(customer.get(path))
    with app.app_context(), pytest.raises(ChangeRefused):
        session = db.session()
        lock_feed(session)
        update_server_record(session, "visit", made.visit_id, {"status": "approved"})
    assert answer(customer, second_path, {0: "approved"}).status_code == 200
    assert status_of(app, made.visit_id) == VisitStatus.approved
    history = text(client.get(f"/visits/{made.visit_id}"))
    assert "Version 1" in history and "Version 2" in history


def test_start_work_is_refused_without_approval(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app, status=VisitStatus.approved)  # made approved by a device bug
    web_login(client, shop)
    response = post_form(
        client,
        f"/visits/{made.visit_id}/status",
        {"event": "start_work"},
        f"/visits/{made.visit_id}",
    )
    assert response.status_code == 302
    assert status_of(app, made.visit_id) == VisitStatus.approved
    assert "approved the latest quote" in text(client.get(f"/visits/{made.visit_id}"))


def test_sent_version_cannot_be_edited(app: Flask, client: FlaskClient, shop: Shop) -> None:
    made = make_visit(app)
    web_login(client, shop)
    write_quote(client, made.visit_id)
    send(client, made.visit_id)
    response = post_form(
        client,
        f"/visits/{made.visit_id}/quote",
        quote_form(STANDARD_LINES[:1]),
        f"/visits/{made.visit_id}",
    )
    assert response.status_code == 409 and "Revise quote" in text(response)


def test_tampered_and_expired_links(app: Flask, client: FlaskClient, shop: Shop) -> None:
    made = make_visit(app)
    web_login(client, shop)
    write_quote(client, made.visit_id)
    path = send(client, made.visit_id)
    customer = app.test_client()
    tampered = customer.get(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
    assert tampered.status_code == 404 and "not valid" in text(tampered)
    with app.app_context():
        latest = latest_version(db.session(), made.visit_id)
        assert latest is not None
        forged = approval_token("another-secret", latest.quote)
    assert customer.get(f"/approve/{forged}").status_code == 404

    import itsdangerous

    old = itsdangerous.URLSafeTimedSerializer("t", salt="quote-approval-v1")
    with app.app_context():
        latest = latest_version(db.session(), made.visit_id)
        assert latest is not None

    class FourDaysAgo(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - 4 * 86400

    past = itsdangerous.URLSafeTimedSerializer("t", salt="quote-approval-v1", signer=FourDaysAgo)
    expired_token = past.dumps({"q": latest.quote.id, "v": 1})
    assert old.loads(expired_token)  # well signed, only too old
    expired = customer.get(f"/approve/{expired_token}", headers={"Accept-Language": "zh-CN"})
    assert expired.status_code == 410 and "过期" in text(expired)


def test_approval_without_signature_keeps_choices(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    web_login(client, shop)
    write_quote(client, made.visit_id)
    path = send(client, made.visit_id)
    customer = app.test_client()
    response = answer(
        customer,
        path,
        {0: "approved", 1: "declined", 2: "approved"},
        strokes="[]",
        signature_png="",
    )
    body = text(response)
    assert response.status_code == 400 and "Please sign in the box" in body
    assert body.count("checked") == 3
    assert status_of(app, made.visit_id) == VisitStatus.quote_sent


def test_customer_link_opens_only_its_own_photos(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    web_login(client, shop)
    write_quote(client, made.visit_id)
    path = send(client, made.visit_id)
    response = app.test_client().get(path + "/photos/" + "b" * 64)
    assert response.status_code == 404
    response.close()
    assert csrf_token(client, f"/visits/{made.visit_id}")


def test_customer_answer_without_form_token_is_refused(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    web_login(client, shop)
    write_quote(client, made.visit_id)
    path = send(client, made.visit_id)
    customer = app.test_client()
    customer.get(path).close()
    response = customer.post(path, data={"strokes": json.dumps(STROKES)})
    assert response.status_code == 400 and "reload the page" in text(response)
    assert status_of(app, made.visit_id) == VisitStatus.quote_sent


def test_a_mangled_editor_form_is_answered_not_crashed(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app)
    web_login(client, shop)
    url = f"/visits/{made.visit_id}/quote"
    response = post_form(client, url, {"line_count": "lots", "next_version": "x"}, url)
    assert response.status_code == 400 and "at least one line" in text(response)
