"""The server is the only maker of valid status links (issue 10, item 4), and a device
moves a visit to "walk-around done" only with the customer's signature on the
walk-around (the status machine is the server's), through the test client on SQLite and
PostgreSQL. The kiosk's side, against a real server process, is in
``test_status_links_live.py``."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop, bearer
from sync_changes import change, push, walk_in
from test_sync_trust import _poisoned_visits
from test_walkaround_server import a_signature, check_in, new_car

from kiosk.services.connection import ConnectionChecker, ConnectionState
from kiosk.services.device_store import DeviceStore
from kiosk.services.local_store import LocalStore
from kiosk.services.walkaround import WalkaroundSheet
from shared import domain
from shared.hlc import wall_clock_ms
from sync_server import create_app, db
from sync_server.pairing import issue_code
from sync_server.shop_tables import DeviceRole
from sync_server.sync import trust
from sync_server.visit_tables import Visit

SERVER_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


def paired(client: FlaskClient, shop: Shop, role: str = "kiosk") -> tuple[str, str, str]:
    """A device paired before status-link keys existed: its bearer token, and the id and
    key ``GET /devices/me`` tells it on its next status check."""
    token = shop.device_token(role)
    me = client.get("/api/v1/devices/me", headers=bearer(token))
    assert me.status_code == 200
    return token, me.json["device_id"], me.json["status_link_key"]


def stored_token(app: Flask, visit_id: str) -> str | None:
    with app.app_context():
        visit = db.session().get(Visit, visit_id)
        return visit.status_token if visit is not None else None


# --- the server makes status tokens -------------------------------------------------


@pytest.mark.parametrize(
    "made_up",
    [
        "aaaaaaaaaaaaaaaa",  # the issue's example
        "a" * 22,
        "random",  # 128 random bits, the shape of a real token, but not derived
        "another device's",  # derived, but with another kiosk's key
        "",
    ],
)
def test_a_token_the_device_did_not_derive_is_replaced_by_the_servers(
    app: Flask, client: FlaskClient, shop: Shop, made_up: str
) -> None:
    kiosk, _, _ = paired(client, shop)
    changes, visit_id = walk_in(at=wall_clock_ms())
    token = {
        "random": domain.new_status_token(),
        "another device's": domain.status_token_for(paired(client, shop)[2], visit_id),
    }.get(made_up, made_up)
    changes[2]["fields"]["status_token"] = token
    result = push(client, kiosk, changes).json["results"][2]
    assert result["status"] == 201
    made = stored_token(app, visit_id)
    assert made is not None and made != token and SERVER_TOKEN.fullmatch(made)
    # The kiosk gets no feed: the answer tells it the link the customer's page uses.
    assert result["server_fields"] == {"status_token": made}
    assert result["server_clocks"]["status_token"].endswith("-server")
    if token:
        assert client.get(f"/status/{token}").status_code == 404
    assert client.get(f"/status/{made}").status_code == 200


def test_the_token_derived_with_the_devices_key_is_kept_and_never_changed(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    kiosk, _, key = paired(client, shop)
    now = wall_clock_ms()
    changes, visit_id = walk_in(at=now)
    token = domain.status_token_for(key, visit_id)
    changes[2]["fields"]["status_token"] = token
    result = push(client, kiosk, changes).json["results"][2]
    assert result["status"] == 201 and "server_fields" not in result
    assert stored_token(app, visit_id) == token
    assert client.get(f"/status/{token}").status_code == 200
    # Neither the kiosk nor a tablet changes it afterwards; the rest of the change holds.
    swap = change(
        "visit", visit_id, {"status_token": domain.new_status_token(), "concern_text": "Rattle"},
        now + 50,
    )  # fmt: skip
    assert push(client, kiosk, [swap]).json["results"][0]["status"] == 201
    tablet, _, tablet_key = paired(client, shop, "tablet")
    theirs = change(
        "visit", visit_id, {"status_token": domain.status_token_for(tablet_key, visit_id)},
        now + 60, node="tab-b",
    )  # fmt: skip
    assert push(client, tablet, [theirs]).json["results"][0]["status"] == 201
    with app.app_context():
        visit = db.session().get(Visit, visit_id)
        assert (visit.status_token, visit.concern_text) == (token, "Rattle")


def test_each_device_gets_its_own_key_at_pairing_and_from_its_status_check(
    client: FlaskClient, shop: Shop, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with app.app_context():
        code = issue_code(db.session(), DeviceRole.KIOSK).code
    answer = client.post("/api/v1/devices/pair", json={"code": code, "device_name": "Lobby"})
    assert answer.status_code == 201
    key = answer.json["status_link_key"]
    me = client.get("/api/v1/devices/me", headers=bearer(answer.json["token"])).json
    assert me["status_link_key"] == key and len(key) == 43
    others = {paired(client, shop)[2], paired(client, shop, "tablet")[2]}
    assert key not in others and len(others) == 2
    # The managers' list of devices never shows it.
    shop.login(client, role="manager")
    assert key not in client.get("/api/v1/devices").get_data(as_text=True)
    changes, visit_id = walk_in(at=wall_clock_ms())
    changes[2]["fields"]["status_token"] = domain.status_token_for(key, visit_id)
    assert push(client, answer.json["token"], changes).json["results"][2]["status"] == 201
    assert key not in caplog.text


def test_links_already_given_stay_valid_when_keys_change(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    """A device revoked and paired again, or a new server secret: new keys, and every
    status link already stored keeps working."""
    kiosk, device_id, key = paired(client, shop)
    changes, visit_id = walk_in(at=wall_clock_ms())
    token = changes[2]["fields"]["status_token"] = domain.status_token_for(key, visit_id)
    assert push(client, kiosk, changes).json["results"][2]["status"] == 201

    shop.login(client, role="manager")
    assert client.post(f"/api/v1/devices/{device_id}/revoke").status_code == 200
    assert client.get("/api/v1/devices/me", headers=bearer(kiosk)).status_code == 401
    again, _, new_key = paired(client, shop)
    assert new_key != key
    assert client.get(f"/status/{token}").status_code == 200

    rotated = create_app(
        {"DATABASE_URL": app.config["DATABASE_URL"], "TESTING": True, "SECRET_KEY": "rotated"}
    )
    try:
        rotated_client = rotated.test_client()
        assert rotated_client.get(f"/status/{token}").status_code == 200
        rotated_key = rotated_client.get("/api/v1/devices/me", headers=bearer(again)).json[
            "status_link_key"
        ]
        assert rotated_key != new_key
        # Under the new secret only the new key's derivation is kept.
        for device_key, kept in ((new_key, False), (rotated_key, True)):
            changes, visit_id = walk_in(at=wall_clock_ms())
            sent = changes[2]["fields"]["status_token"] = domain.status_token_for(
                device_key, visit_id
            )
            assert push(rotated_client, again, changes).json["results"][2]["status"] == 201
            with rotated.app_context():
                assert (db.session().get(Visit, visit_id).status_token == sent) is kept
    finally:
        rotated.extensions["db_engine"].dispose()


# --- "walk-around done" needs the customer's signature -----------------------------


def tablet_visit(
    client: FlaskClient, shop: Shop, tmp_path: Path
) -> tuple[str, LocalStore, domain.Visit]:
    """A tablet paired with the server, and a visit it checked in and synced."""
    tablet, device_id, _ = paired(client, shop, "tablet")
    store = LocalStore(tmp_path / "tablet", device_id)
    visit = check_in(store, new_car(store))
    sent = [item.to_wire() for item in store.pending_changes()]
    assert [r["status"] for r in push(client, tablet, sent).json["results"]] == [201] * 3
    store.acknowledge([item["change_id"] for item in sent])
    return tablet, store, visit


def pending(store: LocalStore) -> list[dict[str, Any]]:
    return [item.to_wire() for item in store.pending_changes()]


def status_of(app: Flask, visit_id: str) -> str:
    with app.app_context():
        return db.session().get(Visit, visit_id).status


def test_a_device_cannot_mark_an_unsigned_walkaround_done(
    app: Flask, client: FlaskClient, shop: Shop, tmp_path: Path
) -> None:
    tablet, store, visit = tablet_visit(client, shop, tmp_path)
    sheet = WalkaroundSheet.open(store, visit.id)
    sheet.set_fuel(3)
    sheet.add_mark("left", 0.4, 0.5, "A", 2)
    sheet.save()
    # What a tampered or buggy tablet would send: the step without the signature.
    done = change(
        "visit", visit.id, {"status": "walkaround_done"}, wall_clock_ms(), node=store.node_id
    )
    results = push(client, tablet, [*pending(store), done]).json["results"]
    assert [r["status"] for r in results] == [201, 201, 422]
    problem = results[-1]["problem"]
    assert problem["type"].endswith("/walkaround-not-signed")
    assert problem["errors"][0]["field"] == "status"
    assert problem["errors"][0]["code"] == "walkaround_not_signed"
    assert "not signed yet" in problem["title"] + problem.get("detail", "")
    assert status_of(app, visit.id) == "checked_in"
    # Nor with a visit that has no walk-around at all.
    _, _, bare = tablet_visit(client, shop, tmp_path / "second")
    bare_done = change("visit", bare.id, {"status": "walkaround_done"}, wall_clock_ms())
    assert push(client, tablet, [bare_done]).json["results"][0]["status"] == 422


def test_a_signature_changed_since_is_refused_with_its_reason(
    app: Flask, client: FlaskClient, shop: Shop, tmp_path: Path
) -> None:
    tablet, store, visit = tablet_visit(client, shop, tmp_path)
    sheet = WalkaroundSheet.open(store, visit.id)
    sheet.set_fuel(3)
    sheet.sign(a_signature(), signer_name="王芳")
    assert all(r["status"] == 201 for r in push(client, tablet, pending(store)).json["results"])
    store.acknowledge([item["change_id"] for item in pending(store)])
    # A walk-around edited on the server's copy after the signature (another tablet).
    with app.app_context():
        from sync_server.visits import walkarounds

        (walkaround,) = walkarounds(db.session(), visit.id)
    edit = change("walkaround", walkaround.id, {"fuel_eighths": 6}, wall_clock_ms() + 5, "tab-x")
    done = change("visit", visit.id, {"status": "walkaround_done"}, wall_clock_ms() + 9)
    results = push(client, tablet, [done, edit]).json["results"]
    assert [r["status"] for r in results] == [422, 201]
    assert "changed after the customer signed" in str(results[0]["problem"])
    assert status_of(app, visit.id) == "checked_in"


@pytest.mark.parametrize("position", ["first", "middle", "last"])
def test_the_signature_in_the_same_batch_counts_whatever_the_order(
    app: Flask, client: FlaskClient, shop: Shop, tmp_path: Path, position: str
) -> None:
    tablet, store, visit = tablet_visit(client, shop, tmp_path)
    sheet = WalkaroundSheet.open(store, visit.id)
    sheet.set_fuel(5)
    mark = sheet.add_mark("front", 0.5, 0.3, "S", 1)
    sheet.edit_mark(mark.id, note="bumper")
    sheet.sign(a_signature(), signer_name="王芳")
    assert sheet.complete()
    batch = pending(store)
    (done,) = [item for item in batch if item["kind"] == "visit"]
    rest = [item for item in batch if item is not done]
    assert any(item["kind"] == "signature" for item in rest)
    at = {"first": 0, "middle": len(rest) // 2, "last": len(rest)}[position]
    batch = [*rest[:at], done, *rest[at:]]
    results = push(client, tablet, batch).json["results"]
    # Every answer in the batch's order, each for its own change.
    assert [r["change_id"] for r in results] == [item["change_id"] for item in batch]
    assert [r["status"] for r in results] == [201] * len(batch), results
    assert status_of(app, visit.id) == "walkaround_done"


def test_the_desks_own_step_and_a_device_repeating_the_status_are_not_refused(
    app: Flask, client: FlaskClient, shop: Shop, tmp_path: Path
) -> None:
    """The gate is for devices asking for the step: a change that repeats the status
    the visit already has, or one made while the desk moved it on, is not refused."""
    tablet, store, visit = tablet_visit(client, shop, tmp_path)
    with app.app_context():
        from sync_server.sync import records

        session = db.session()
        records.lock_feed(session)
        records.update_server_record(session, "visit", visit.id, {"status": "walkaround_done"})
        session.commit()
    same = change("visit", visit.id, {"status": "walkaround_done", "concern_text": "x"},
                  wall_clock_ms(), node=store.node_id)  # fmt: skip
    assert push(client, tablet, [same]).json["results"][0]["status"] == 201


def test_the_signature_counts_when_the_batch_is_applied_one_by_one(
    app: Flask,
    client: FlaskClient,
    shop: Shop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A change in the batch fails at the database: the rest is applied again one by
    one, and the signed step still comes after its signature."""
    monkeypatch.setattr(trust, "check_columns", lambda *args: None)  # a check forgotten
    tablet, store, visit = tablet_visit(client, shop, tmp_path)
    sheet = WalkaroundSheet.open(store, visit.id)
    sheet.set_fuel(4)
    sheet.sign(a_signature(), signer_name="王芳")
    assert sheet.complete()
    batch = pending(store)
    (done,) = [item for item in batch if item["kind"] == "visit"]
    (bad,) = _poisoned_visits(visit.customer_id, visit.vehicle_id, wall_clock_ms())[:1]
    batch = [done, bad, *[item for item in batch if item is not done]]
    results = push(client, tablet, batch).json["results"]
    assert [r["status"] for r in results] == [201, 422] + [201] * (len(batch) - 2)
    assert results[1]["problem"]["type"].endswith("/not-storable")
    assert status_of(app, visit.id) == "walkaround_done"


# --- the key on the kiosk -------------------------------------------------------------


def test_the_kiosk_keeps_its_key_like_its_token(paired_store: DeviceStore) -> None:
    """Kept in device.json (0600), out of ``repr`` (so out of any log line), kept when
    a status answer carries none (an older server), and dropped with the pairing."""
    settings = paired_store.update(status_link_key="k" * 43)
    assert "k" * 43 not in repr(settings) and "k" * 43 in paired_store.path.read_text()
    assert ConnectionChecker(paired_store).check().state is ConnectionState.ONLINE
    assert paired_store.load().status_link_key == "k" * 43
    assert paired_store.forget_pairing().status_link_key == ""
    assert "k" * 43 not in paired_store.path.read_text()
