"""The server side of sync, through the test client: idempotent pushes, conflict rules,
what each device may send, and the changes feed. Photos are in ``test_sync_photos.py``.
"""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop, bearer
from sqlalchemy import func, select
from sync_changes import change, device_id_and_key, push, walk_in

from sync_server import db
from sync_server.sync.tables import AppliedChange, SyncRecord
from sync_server.visit_tables import Visit


def test_repeated_batch_changes_nothing_and_answers_the_same(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    token = shop.device_token("kiosk")
    changes, visit_id = walk_in()
    first = push(client, token, changes)
    assert first.status_code == 200
    assert [r["status"] for r in first.json["results"]] == [201, 201, 201]
    again = push(client, token, changes)
    assert again.json == first.json
    with app.app_context():
        session = db.session()
        assert session.scalar(select(func.count()).select_from(AppliedChange)) == 3
        assert session.scalar(select(func.count()).select_from(Visit)) == 1
        assert session.get(Visit, visit_id).concern_text == "Brake noise"


def test_same_change_id_with_other_content_is_refused_409(client: FlaskClient, shop: Shop) -> None:
    token = shop.device_token("kiosk")
    changes, _ = walk_in()
    push(client, token, changes)
    forged = dict(changes[0], fields={**changes[0]["fields"], "name": "Someone else"})
    answer = push(client, token, [forged])
    (result,) = answer.json["results"]
    assert result["status"] == 409
    assert result["problem"]["type"].endswith("/change-id-reused")


def test_a_bad_change_is_refused_alone(app: Flask, client: FlaskClient, shop: Shop) -> None:
    token = shop.device_token("tablet")
    changes, _ = walk_in()
    bad = change("customer", str(uuid.uuid4()), {"name": "X", "phone": "12345"}, 1_700_000_000_500)
    answer = push(client, token, [bad, *changes])
    statuses = [r["status"] for r in answer.json["results"]]
    assert statuses == [422, 201, 201, 201]
    problem = answer.json["results"][0]["problem"]
    assert problem["errors"][0]["field"] == "phone"
    with app.app_context():
        assert db.session().get(SyncRecord, ("customer", bad["id"])) is None


def test_malformed_changes_and_batches(client: FlaskClient, shop: Shop) -> None:
    token = shop.device_token("tablet")
    answer = push(client, token, [{"kind": "visit"}, "not an object"])
    assert [r["status"] for r in answer.json["results"]] == [422, 422]
    for schema in (99, [1], {"v": 1}, "1", True):
        old = client.post(
            "/api/v1/sync/push", json={"schema": schema, "changes": []}, headers=bearer(token)
        )
        assert old.status_code == 400 and old.json["type"].endswith("/schema-unsupported")
    wrong = client.post(
        "/api/v1/sync/push", json={"schema": 1, "changes": "x"}, headers=bearer(token)
    )
    assert wrong.status_code == 400
    broken = client.post(
        "/api/v1/sync/push",
        data=b'{"schema": 1, "changes": [',
        content_type="application/json",
        headers=bearer(token),
    )
    assert broken.status_code == 400


def test_kiosk_may_not_touch_records_it_did_not_make(client: FlaskClient, shop: Shop) -> None:
    tablet, kiosk = shop.device_token("tablet"), shop.device_token("kiosk")
    changes, visit_id = walk_in()
    push(client, tablet, changes)
    edit = change("visit", visit_id, {"concern_text": "changed by kiosk"}, 1_700_000_009_000, "k")
    (result,) = push(client, kiosk, [edit]).json["results"]
    assert result["status"] == 403
    note = change("note", str(uuid.uuid4()), {"visit_id": visit_id, "text": "x"}, 1_700_000_009_500)
    (result,) = push(client, kiosk, [note]).json["results"]
    assert result["status"] == 403


@pytest.mark.parametrize("order", ["newer first", "older first"])
def test_last_writer_wins_per_field_and_keeps_the_loser(
    app: Flask, client: FlaskClient, shop: Shop, order: str
) -> None:
    tablet_a, tablet_b = shop.device_token("tablet"), shop.device_token("tablet")
    changes, visit_id = walk_in()
    push(client, tablet_a, changes)
    created = changes[2]["hlc"]
    # Both tablets edited the concern offline, each knowing only the check-in's value.
    newer = change(
        "visit",
        visit_id,
        {"concern_text": "Grinding at front left"},
        1_700_000_100_000,
        "dev-b",
        base={"concern_text": created},
    )
    older = change(
        "visit",
        visit_id,
        {"concern_text": "Squeal when braking", "mileage_in_km": 48210},
        1_700_000_050_000,
        "dev-a",
        base={"concern_text": created, "mileage_in_km": created},
    )
    pushes = [(tablet_b, newer), (tablet_a, older)]
    for token, edit in pushes if order == "newer first" else reversed(pushes):
        assert push(client, token, [edit]).json["results"][0]["status"] == 201
    shop.login(client, role="advisor")
    record = client.get(f"/api/v1/records/visit/{visit_id}").json
    assert record["fields"]["concern_text"] == "Grinding at front left"
    assert record["fields"]["mileage_in_km"] == 48210  # no competition for this field
    (lost,) = record["conflicts"]  # the same history whatever the order of arrival
    assert lost["field"] == "concern_text" and lost["losing_value"] == "Squeal when braking"
    assert lost["winning_value"] == "Grinding at front left"
    with app.app_context():
        assert db.session().get(Visit, visit_id).concern_text == "Grinding at front left"


def test_an_edit_without_base_clocks_keeps_what_it_replaced(
    client: FlaskClient, shop: Shop
) -> None:
    tablet = shop.device_token("tablet")
    changes, visit_id = walk_in()
    push(client, tablet, changes)
    blind = change("visit", visit_id, {"concern_text": "Oil leak"}, 1_700_000_100_000)
    push(client, tablet, [blind])
    shop.login(client, role="advisor")
    (kept,) = client.get(f"/api/v1/records/visit/{visit_id}").json["conflicts"]
    assert kept["losing_value"] == "Brake noise" and kept["winning_value"] == "Oil leak"


def test_photos_merge_by_union(client: FlaskClient, shop: Shop) -> None:
    tablet_a, tablet_b = shop.device_token("tablet"), shop.device_token("tablet")
    changes, visit_id = walk_in()
    push(client, tablet_a, changes)
    notes = [
        change(
            "note",
            str(uuid.uuid4()),
            {"visit_id": visit_id, "text": f"note {n}"},
            1_700_000_200_000 + n,
            node,
        )
        for n, node in enumerate(["dev-a", "dev-b", "dev-a"])
    ]
    push(client, tablet_a, [notes[0], notes[2]])
    push(client, tablet_b, [notes[1]])
    feed = client.get("/api/v1/sync/changes?since=0", headers=bearer(tablet_a)).json
    texts = sorted(c["fields"]["text"] for c in feed["changes"] if c["kind"] == "note")
    assert texts == ["note 0", "note 1", "note 2"]


def test_feed_pages_in_order_and_resumes(client: FlaskClient, shop: Shop) -> None:
    tablet = shop.device_token("tablet")
    for n in range(5):
        changes, _ = walk_in(1_700_000_000_000 + n * 10)
        push(client, tablet, changes)
    seen, since, pages = [], 0, 0
    while True:
        page = client.get(
            f"/api/v1/sync/changes?since={since}&limit=4", headers=bearer(tablet)
        ).json
        seen += [c["seq"] for c in page["changes"]]
        since, pages = page["next_since"], pages + 1
        if not page["more"]:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 15
    assert pages == 4
    empty = client.get(f"/api/v1/sync/changes?since={since}", headers=bearer(tablet)).json
    assert empty["changes"] == [] and empty["next_since"] == since


_RANDOM_OR_CLOCK_KEYS = ("id", "hlc", "clocks", "seq", "next_since", "since")


def _readable_values(node: object, key: str = "") -> list[str]:
    """The leaf values of a JSON answer, leaving out ids, clocks, hashes, salts and times."""
    if key in _RANDOM_OR_CLOCK_KEYS or key.endswith(("_id", "_hash", "_salt", "_at", "_seq")):
        return []
    if isinstance(node, dict):
        return [text for name, value in node.items() for text in _readable_values(value, name)]
    if isinstance(node, list):
        return [text for value in node for text in _readable_values(value, key)]
    return [str(node)]


def test_kiosk_pulls_todays_appointments_as_slow_hashes_only(
    client: FlaskClient, runner, shop: Shop
) -> None:  # type: ignore[no-untyped-def]
    from shared.lookup import lookup_hash

    assert runner.invoke(args=["demo"]).exit_code == 0
    kiosk = shop.device_token("kiosk")
    me = client.get("/api/v1/devices/me", headers=bearer(kiosk)).json
    assert "kiosk_lookup_key" not in me  # no key for a thief to take
    snapshot = client.get("/api/v1/sync/changes", headers=bearer(kiosk)).json
    assert snapshot["snapshot"] is True and len(snapshot["changes"]) == 5
    # Everything the kiosk is given but ids, clocks, hashes, salts and times (random or
    # clock digits, where "5678" may turn up by chance), searched for the customer's data.
    text = " ".join(_readable_values(snapshot))
    assert text  # the appointments' own words are there to search
    for secret in ("13812345678", "5678", "张", "Zhang", "京A12345", "12345", "Q7M4KX", "***"):
        assert secret not in text
    salts = [c["fields"]["lookup_salt"] for c in snapshot["changes"]]
    assert len(set(salts)) == len(salts)  # one salt per appointment
    zhang = next(
        c["fields"]
        for c in snapshot["changes"]
        if c["fields"]["phone_hash"]
        == lookup_hash(c["fields"]["lookup_salt"], "phone", "+8613812345678")
    )
    assert zhang["plate_hash"] == lookup_hash(zhang["lookup_salt"], "plate", "京A·12345")
    assert zhang["code_hash"] == lookup_hash(zhang["lookup_salt"], "code", "q7m4kx")
    # Made once: the next snapshot gives the same salts (no new CPU spent).
    again = client.get("/api/v1/sync/changes", headers=bearer(kiosk)).json
    assert [c["fields"]["lookup_salt"] for c in again["changes"]] == salts


def test_status_moves_only_along_the_status_machine(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    from sync_server.sync.records import ChangeRefused, lock_feed, update_server_record

    tablet = shop.device_token("tablet")
    changes, visit_id = walk_in()
    push(client, tablet, changes)
    skip = change("visit", visit_id, {"status": "in_progress"}, 1_700_000_100_000)
    (result,) = push(client, tablet, [skip]).json["results"]
    assert result["status"] == 422
    assert result["problem"]["errors"][0]["code"] == "transition_refused"
    # A device's one step needs the customer's signature on the walk-around
    # (tests/test_status_links.py); the desk's override takes it here.
    unsigned = change("visit", visit_id, {"status": "walkaround_done"}, 1_700_000_100_001)
    (result,) = push(client, tablet, [unsigned]).json["results"]
    assert (result["status"], result["problem"]["errors"][0]["code"]) == (
        422,
        "walkaround_not_signed",
    )
    with app.app_context():
        session = db.session()
        lock_feed(session)
        update_server_record(session, "visit", visit_id, {"status": "walkaround_done"})
        session.commit()
    diagnose = change("visit", visit_id, {"status": "diagnosed"}, 1_700_000_100_002)
    assert push(client, tablet, [diagnose]).json["results"][0]["status"] == 403
    with app.app_context():
        session = db.session()
        lock_feed(session)
        update_server_record(session, "visit", visit_id, {"status": "diagnosed"})
        session.commit()
        assert session.get(Visit, visit_id).status == "diagnosed"
        lock_feed(session)
        with pytest.raises(ChangeRefused):
            update_server_record(session, "visit", visit_id, {"status": "delivered"})
        session.rollback()


def test_a_desk_edit_wins_over_a_device_clock_running_ahead(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    from sync_server.sync.records import lock_feed, update_server_record

    tablet = shop.device_token("tablet")
    changes, visit_id = walk_in()
    push(client, tablet, changes)
    years_ahead = 1_700_000_000_000 + 365 * 24 * 3600 * 1000 * 20  # a badly set clock
    ahead = change("visit", visit_id, {"concern_text": "From the future"}, years_ahead)
    push(client, tablet, [ahead])
    with app.app_context():
        session = db.session()
        lock_feed(session)
        update_server_record(session, "visit", visit_id, {"concern_text": "Corrected at desk"})
        session.commit()
        assert session.get(Visit, visit_id).concern_text == "Corrected at desk"


def test_the_feed_skips_what_the_device_wrote_itself(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    tablet_a = shop.device_token("tablet")
    me, key = device_id_and_key(client, tablet_a)
    changes, visit_id = walk_in(node=me, status_link_key=key)
    push(client, tablet_a, changes)
    page = client.get("/api/v1/sync/changes?since=0", headers=bearer(tablet_a)).json
    assert page["changes"] == [] and page["next_since"] > 0  # echoes skipped, cursor moved
    tablet_b = shop.device_token("tablet")
    seen_by_b = client.get("/api/v1/sync/changes?since=0", headers=bearer(tablet_b)).json
    assert len(seen_by_b["changes"]) == 3
    edit = change("visit", visit_id, {"concern_text": "Also a rattle"}, 1_700_000_900_000, "dev-b")
    push(client, tablet_b, [edit])
    again = client.get(f"/api/v1/sync/changes?since={page['next_since']}", headers=bearer(tablet_a))
    (visit,) = again.json["changes"]  # one field from elsewhere: the whole record comes
    assert visit["fields"]["concern_text"] == "Also a rattle"


def test_a_page_of_the_feed_does_not_count_the_devices_own_records(
    client: FlaskClient, shop: Shop
) -> None:
    tablet_a, tablet_b = shop.device_token("tablet"), shop.device_token("tablet")
    me, key = device_id_and_key(client, tablet_a)
    for n in range(3):  # nine records of its own first, then three from another tablet
        push(client, tablet_a, walk_in(1_700_000_000_000 + n * 10, node=me, status_link_key=key)[0])
    others, _ = walk_in(1_700_000_100_000, node="dev-b")
    push(client, tablet_b, others)
    page = client.get("/api/v1/sync/changes?since=0&limit=2", headers=bearer(tablet_a)).json
    assert [c["id"] for c in page["changes"]] == [c["id"] for c in others[:2]]
    assert page["more"] is True
    rest = client.get(
        f"/api/v1/sync/changes?since={page['next_since']}&limit=2", headers=bearer(tablet_a)
    ).json
    assert [c["id"] for c in rest["changes"]] == [others[2]["id"]]
    assert rest["more"] is False
