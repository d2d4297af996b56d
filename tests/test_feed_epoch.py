"""The feed epoch and "which of these changes do you lack?" (issue 10, item 16).

Server side through the test client; device side (``kiosk.services.feed_recovery``)
with a local store and plain functions for the server's answers. The whole story,
backup and restore of a real server while devices work, is in test_backup_restore.py.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop, bearer
from sync_changes import push, walk_in

from kiosk.services import feed_recovery
from kiosk.services.local_store import LocalStore
from sync_server import db
from sync_server.sync.epoch import start_new_epoch

DEVICE = "5e1f3a2b-0c4d-4e5f-8a6b-7c8d9e0f1a2b"


def feed_of(client: FlaskClient, token: str) -> dict:
    return client.get("/api/v1/sync/changes", headers=bearer(token)).json["feed"]


def test_the_server_answers_which_changes_it_lacks(client: FlaskClient, shop: Shop) -> None:
    tablet = shop.device_token("tablet")
    changes, _visit = walk_in()
    assert push(client, tablet, changes).status_code == 200
    unknown = str(uuid.uuid4())
    asked = [changes[0]["change_id"], unknown, changes[2]["change_id"]]
    answer = client.post(
        "/api/v1/sync/changes/missing", json={"change_ids": asked}, headers=bearer(tablet)
    )
    assert answer.status_code == 200 and answer.json == {"missing": [unknown]}
    for bad in ({"change_ids": "x"}, {"change_ids": ["not-an-id"]},
                {"change_ids": [unknown] * 1001}):  # fmt: skip
        refused = client.post(
            "/api/v1/sync/changes/missing",
            json=bad,
            headers=bearer(tablet) | {"Accept-Language": "zh-CN"},
        )
        assert refused.status_code == 422
        assert "change_ids" in refused.json["detail"]
    assert client.post("/api/v1/sync/changes/missing", json={"change_ids": []}).status_code == 401


def test_a_restore_starts_a_new_epoch_and_a_push_for_the_old_one_is_refused(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    tablet = shop.device_token("tablet")
    before = feed_of(client, tablet)
    changes, _visit = walk_in()
    assert push(client, tablet, changes).json["results"][0]["status"] == 201
    assert feed_of(client, tablet)["head"] == before["head"] + 3
    with app.app_context():
        start_new_epoch(db.session(), restored_from="backup-20261206T020000Z")
    after = feed_of(client, tablet)
    assert after["server_id"] == before["server_id"] and after["epoch"] != before["epoch"]

    more, _visit = walk_in(at=1_700_000_100_000)
    stale = client.post(
        "/api/v1/sync/push",
        json={"schema": 1, "changes": more},
        headers=bearer(tablet) | {"X-Feed-Epoch": before["epoch"]},
    )
    assert stale.status_code == 409
    assert stale.json["type"].endswith("/feed-epoch-changed")
    assert stale.json["feed"]["epoch"] == after["epoch"]
    missing = client.post(
        "/api/v1/sync/changes/missing",
        json={"change_ids": [c["change_id"] for c in more]},
        headers=bearer(tablet),
    )
    assert len(missing.json["missing"]) == 3  # nothing of the refused push was applied
    current = client.post(
        "/api/v1/sync/push",
        json={"schema": 1, "changes": more},
        headers=bearer(tablet) | {"X-Feed-Epoch": after["epoch"]},
    )
    assert [r["status"] for r in current.json["results"]] == [201, 201, 201]


def test_a_cursor_ahead_of_the_feed_means_a_restore_even_in_the_same_epoch(
    tmp_path: Path,
) -> None:
    with LocalStore(tmp_path, DEVICE) as store:
        feed = {"server_id": "s", "epoch": "e1", "head": 40}
        assert not feed_recovery.note_feed(store, feed)  # first contact
        store.apply_pulled([], 40)
        assert not feed_recovery.note_feed(store, feed)
        assert not feed_recovery.recovery_due(store)
        # The database was put back by hand (no new epoch): the head went back.
        assert feed_recovery.note_feed(store, feed | {"head": 25})
        assert store.pull_cursor() == 0 and feed_recovery.recovery_due(store)


def test_recovery_resends_only_what_the_server_lacks_in_first_order(tmp_path: Path) -> None:
    with LocalStore(tmp_path, DEVICE) as store:
        saved = [store.save("note", str(uuid.uuid4()), {"text": f"note {n}"}) for n in range(5)]
        store.acknowledge([change.change_id for change in saved])
        later = store.save("note", str(uuid.uuid4()), {"text": "made while the server was down"})
        assert [c.change_id for c in store.pending_changes()] == [later.change_id]
        feed_recovery.note_feed(store, {"server_id": "s", "epoch": "e1", "head": 9})
        assert feed_recovery.note_feed(store, {"server_id": "s", "epoch": "e2", "head": 3})

        asked: list[list[str]] = []
        lacking = {saved[1].change_id, saved[3].change_id}

        def missing_changes(ids: list[str]) -> list[str]:
            asked.append(list(ids))
            return [change_id for change_id in ids if change_id in lacking]

        assert feed_recovery.recover(store, missing_changes, lambda shas: []) == (2, 0)
        assert asked == [[change.change_id for change in saved]]
        # The lost changes go first, before the one made later, as they were made.
        assert [c.change_id for c in store.pending_changes()] == [
            saved[1].change_id,
            saved[3].change_id,
            later.change_id,
        ]
        assert not feed_recovery.recovery_due(store)
        assert feed_recovery.recover(store, missing_changes, lambda shas: []) == (0, 0)


def test_acknowledged_changes_are_kept_for_sixty_days(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    with LocalStore(tmp_path, DEVICE) as store:
        kept = store.save("note", str(uuid.uuid4()), {"text": "kept"})
        store.acknowledge([kept.change_id])
        now = datetime.now(UTC)
        assert feed_recovery.forget_old_sent(store, now + timedelta(days=59)) == 0
        assert feed_recovery.forget_old_sent(store, now + timedelta(days=61)) == 1
        later = store.save("note", str(uuid.uuid4()), {"text": "later"})
        store.acknowledge([later.change_id])
        day_61 = now + timedelta(days=61)
        assert feed_recovery.forget_old_sent(store, day_61 + timedelta(minutes=10)) == 0
        assert feed_recovery.forget_old_sent(store, day_61 + timedelta(hours=2)) == 1
