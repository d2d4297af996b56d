"""Random interleavings of edits, syncs and crashes on three tablets converge: a Hypothesis
state machine over the real client code (``LocalStore``, ``SyncEngine``) talking to the
Flask app in-process to stay fast, while the service desk edits the same visits.

Environment: ``SYNC_EXAMPLES`` (Hypothesis examples, default 50), ``SYNC_NO_SHRINK=1``
(report a failing example as found, without shrinking it: for long bug-hunting runs).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from server_fixtures import Shop, bearer
from sync_changes import fields_of
from sync_workload import assert_device_drained

from kiosk.services.local_store import LocalStore
from kiosk.services.sync import (
    API_PREFIX,
    DeviceUnpaired,
    RequestRefused,
    ServerUnreachable,
    SyncEngine,
    SyncError,
    UnexpectedResponse,
)
from shared import domain
from sync_server import db
from sync_server.shop_tables import Device
from sync_server.sync.records import lock_feed, update_server_record
from sync_server.sync.tables import SyncCounter, SyncRecord


class FlaskTransport:
    """:class:`SyncTransport`'s interface over the Flask test client (no sockets: fast).

    ``lose_answers_after`` makes every call after that many lose its answer *after* the
    server handled it, as when the device crashes or the Wi-Fi drops at that moment.
    """

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = bearer(token)
        self.request_count = 0
        self.lose_answers_after: int | None = None

    def _send(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        self.request_count += 1
        headers = self.headers | (kwargs.pop("headers", None) or {})
        response = self.client.open(API_PREFIX + path, method=method, headers=headers, **kwargs)
        if self.lose_answers_after is not None:
            self.lose_answers_after -= 1
            if self.lose_answers_after < 0:
                raise ServerUnreachable(f"{method} {path}: the answer was lost")
        status, body = response.status_code, response.get_json(silent=True)
        if status == 401:
            raise DeviceUnpaired(body or {})
        if 400 <= status < 500:
            raise RequestRefused(status, body or {"status": status})
        if status >= 300:
            raise ServerUnreachable(f"{method} {path}: HTTP {status}", status)
        if not isinstance(body, dict):
            raise UnexpectedResponse(f"{method} {path}: not a JSON object")
        return status, body

    def push(self, changes: Any, epoch: str = "") -> dict[str, Any]:
        body = {"schema": 1, "changes": list(changes)}
        headers = {"X-Feed-Epoch": epoch} if epoch else None
        return self._send("POST", "/sync/push", json=body, headers=headers)[1]

    def missing_blobs(self, shas: Any) -> list[str]:
        return self._send("POST", "/blobs/missing", json={"sha256": list(shas)})[1]["missing"]

    def upload_blob(self, sha256: str, path: Path, content_type: str) -> int:
        data = path.read_bytes()
        return self._send("PUT", f"/blobs/{sha256}", data=data, content_type=content_type)[0]

    def pull(self, since: int, limit: int = 500) -> dict[str, Any]:
        return self._send("GET", f"/sync/changes?since={since}&limit={limit}")[1]


# Fields of a visit any tablet may edit, with the values the machine draws for them.
EDITABLE_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "concern_text": st.sampled_from(["Brake noise", "Squeal", "Grinding", "Pulls left", "日"]),
    "mileage_in_km": st.integers(min_value=1, max_value=300_000),
    "reminders_opt_in": st.booleans(),
    "contact_channel": st.sampled_from(["sms", "phone", "email"]),
}
DEVICES = 3
DESK = -1  # edits made on the server, at the service desk
VISITS_PER_EXAMPLE = 2


@dataclass(frozen=True)
class Edit:
    device: int
    visit_id: str
    field: str
    value: Any
    hlc: str
    base: str | None


class TabletsMachine(RuleBasedStateMachine):
    """Three tablets edit the same visits offline, sync, and crash, in any order, while
    the service desk edits them on the server."""

    app: Flask
    client: FlaskClient
    tokens: list[str]
    uids: list[str]
    feed_position: Callable[[], int]

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="tablets-"))
        self.stores: list[LocalStore] = []
        self.transports = [FlaskTransport(self.client, token) for token in self.tokens]
        # New tablets that have already pulled everything earlier examples left on the
        # server: each example then costs the same, however many ran before it.
        position = self.feed_position()
        for device in range(DEVICES):
            self.stores.append(self._open(device))
            self.stores[-1].apply_pulled([], position)
        self.visit_ids: list[str] = []
        self.notes: set[str] = set()
        self.last_edit: dict[tuple[int, str, str], Edit] = {}
        self.all_edits: list[Edit] = []

    def _open(self, device: int) -> LocalStore:
        return LocalStore(self.root / f"tablet-{device}", self.uids[device])

    def _engine(self, device: int) -> SyncEngine:
        return SyncEngine(self.stores[device], self.transports[device], batch_size=5)  # type: ignore[arg-type]

    @initialize()
    def check_in(self) -> None:
        """Tablet 0 checks in the visits; every tablet syncs, so all start knowing them."""
        store = self.stores[0]
        for n in range(VISITS_PER_EXAMPLE):
            customer = domain.Customer(name=f"Customer {n}", phone="+8613812345678")
            vehicle = domain.Vehicle(customer_id=customer.id, plate=f"粤B{n:05d}")
            visit = domain.Visit(
                ticket_number=f"H-{n:03d}", customer_id=customer.id, vehicle_id=vehicle.id
            )
            for kind, record in (("customer", customer), ("vehicle", vehicle), ("visit", visit)):
                saved = store.save(kind, record.id, fields_of(record))
            for name in EDITABLE_FIELDS:
                value = saved.fields[name]
                self.all_edits.append(Edit(0, visit.id, name, value, saved.hlc, None))
            self.visit_ids.append(visit.id)
        for device in range(DEVICES):
            self._engine(device).sync_once()

    @rule(
        device=st.integers(0, DEVICES - 1),
        visit=st.integers(0, VISITS_PER_EXAMPLE - 1),
        data=st.data(),
    )
    def edit(self, device: int, visit: int, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(EDITABLE_FIELDS)), label="field")
        value = data.draw(EDITABLE_FIELDS[name], label="value")
        visit_id = self.visit_ids[visit]
        base = self.stores[device].clocks("visit", visit_id).get(name)
        change = self.stores[device].save("visit", visit_id, {name: value})
        made = Edit(device, visit_id, name, value, change.hlc, base)
        self.last_edit[(device, visit_id, name)] = made
        self.all_edits.append(made)

    @rule(visit=st.integers(0, VISITS_PER_EXAMPLE - 1), data=st.data())
    def desk_edit(self, visit: int, data: st.DataObject) -> None:
        """The advisor at the service desk edits the visit on the server itself."""
        name = data.draw(st.sampled_from(sorted(EDITABLE_FIELDS)), label="field")
        value = data.draw(EDITABLE_FIELDS[name], label="value")
        visit_id = self.visit_ids[visit]
        with self.app.app_context():
            session = db.session()
            lock_feed(session)
            before = session.get(SyncRecord, ("visit", visit_id))
            base = before.clocks.get(name) if before else None
            update_server_record(session, "visit", visit_id, {name: value})
            session.commit()
            hlc = session.get(SyncRecord, ("visit", visit_id)).clocks[name]
        made = Edit(DESK, visit_id, name, value, hlc, base)
        self.last_edit[(DESK, visit_id, name)] = made
        self.all_edits.append(made)

    @rule(device=st.integers(0, DEVICES - 1), visit=st.integers(0, VISITS_PER_EXAMPLE - 1))
    def add_note(self, device: int, visit: int) -> None:
        note = domain.VisitNote(visit_id=self.visit_ids[visit], text=f"note by {device}")
        self.stores[device].save("note", note.id, fields_of(note))
        self.notes.add(note.id)

    @rule(device=st.integers(0, DEVICES - 1))
    def sync(self, device: int) -> None:
        self._engine(device).sync_once()

    @rule(device=st.integers(0, DEVICES - 1), answers=st.integers(0, 3))
    def crash_while_syncing(self, device: int, answers: int) -> None:
        """The server handles the requests, but after ``answers`` of them the device dies."""
        transport = self.transports[device]
        transport.lose_answers_after = answers
        try:
            self._engine(device).sync_once()
        except SyncError:
            pass
        finally:
            transport.lose_answers_after = None
        self.restart(device)

    @rule(device=st.integers(0, DEVICES - 1))
    def restart(self, device: int) -> None:
        """The app is killed between two operations and starts again on the same data."""
        self.stores[device].close()
        self.stores[device] = self._open(device)

    @invariant()
    def nothing_waits_forever_parked(self) -> None:
        for store in self.stores:
            assert store.status().parked == 0, store.parked()

    def teardown(self) -> None:
        try:
            if self.visit_ids:
                self.everyone_agrees()
        finally:
            for store in self.stores:
                store.close()
            shutil.rmtree(self.root, ignore_errors=True)

    def assert_no_edit_lost(self, visit_id: str, record: dict[str, Any]) -> None:
        """Each tablet's last edit of a field is the value now, or kept in the history.

        An edit is accounted for when its value is the field's value now; when the
        history has it (its clock among the losers); when a tablet replaced it knowing it
        (that edit's base is its clock: an update, not a loss); or when a newer edit with
        the same value is accounted for (a change arriving after a newer one with the
        very value the field holds is no loss, so it leaves no entry of its own).
        """
        now = record["fields"]
        lost = {
            (c["field"], c["losing_hlc"], json.dumps(c["losing_value"]))
            for c in record["conflicts"]
        }
        edits = [e for e in self.all_edits if e.visit_id == visit_id]
        seen = {(e.field, e.base) for e in edits if e.base is not None}

        def accounted(edit: Edit) -> bool:
            if (now.get(edit.field), record["clocks"].get(edit.field)) == (edit.value, edit.hlc):
                return True
            if (edit.field, edit.hlc, json.dumps(edit.value)) in lost:
                return True
            if (edit.field, edit.hlc) in seen:
                return True
            return any(
                accounted(newer)
                for newer in edits
                if newer.field == edit.field and newer.value == edit.value and newer.hlc > edit.hlc
            )

        for (_, edit_visit, name), edit in self.last_edit.items():
            if edit_visit == visit_id:
                assert accounted(edit), (
                    f"tablet {edit.device}'s {name}={edit.value!r} ({edit.hlc}) is lost: "
                    f"now {now.get(name)!r}, history {record['conflicts']}"
                )

    def everyone_agrees(self) -> None:
        # A full sync of everyone, then everyone pulls what the others sent.
        for _ in range(2):
            for device in range(DEVICES):
                self._engine(device).sync_once()
        for store in self.stores:
            assert_device_drained(store)
        for visit_id in self.visit_ids:
            record = self.client.get(
                f"{API_PREFIX}/records/visit/{visit_id}", headers=self.transports[0].headers
            ).get_json()
            fields = {k: v for k, v in record["fields"].items() if k != "id"}
            for device, store in enumerate(self.stores):
                local = {k: v for k, v in store.get("visit", visit_id).items() if k != "id"}
                assert local == fields, f"tablet {device} differs on visit {visit_id}"
                local_clocks = {
                    k: v for k, v in store.clocks("visit", visit_id).items() if k != "id"
                }
                assert local_clocks == record["clocks"], f"tablet {device} clocks"
            self.assert_no_edit_lost(visit_id, record)
        # Notes merge by union: the server and every tablet have every note.
        for note_id in self.notes:
            response = self.client.get(
                f"{API_PREFIX}/records/note/{note_id}", headers=self.transports[0].headers
            )
            assert response.status_code == 200, note_id
        for store in self.stores:
            assert {note["id"] for note in store.find("note")} >= self.notes


# A passing run takes seconds; the timeout leaves room for Hypothesis to shrink a failure.
@pytest.mark.timeout(900)
def test_random_interleavings_of_edits_syncs_and_crashes_converge(app: Flask, shop: Shop) -> None:
    client = app.test_client()
    tokens = [shop.device_token("tablet", f"Tablet {device}") for device in range(DEVICES)]
    with app.app_context():
        # Each tablet stamps its clocks with its uid, as a paired tablet does.
        paired = db.session().query(Device).order_by(Device.id).all()
        uids = [device.uid for device in paired[-DEVICES:]]

    def feed_position() -> int:
        with app.app_context():
            return db.session().query(SyncCounter.value).scalar() or 0

    class Machine(TabletsMachine):
        pass

    Machine.app, Machine.client, Machine.tokens, Machine.uids = app, client, tokens, uids
    Machine.feed_position = staticmethod(feed_position)
    sqlite = app.config["DATABASE_URL"].startswith("sqlite")
    run_state_machine_as_test(
        Machine,
        settings=settings(
            # Fewer on PostgreSQL: the interleavings are the engine's, the same on both.
            max_examples=int(os.environ.get("SYNC_EXAMPLES", "50" if sqlite else "20")),
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
            phases=[Phase.generate] if os.environ.get("SYNC_NO_SHRINK") else list(Phase),
        ),
    )
