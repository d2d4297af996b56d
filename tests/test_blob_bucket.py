"""Photos in an S3-compatible bucket (issue 15): a real S3 server (moto in server mode)
started for this module, the server's own upload and download endpoints, two app
instances with instance folders of their own on one database, a server process killed
mid-put, and ``checkin-server blobs migrate``."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from flask import Flask
from moto.server import ThreadedMotoServer
from PIL import Image
from server_fixtures import Shop, bearer
from stalling_proxy import StallingProxy

from sync_server import create_app, db
from sync_server.sync.blob_bucket import BucketBlobStore, checksum_sha256

BUCKET = "shop-photos"
CREDENTIALS = {
    "S3_ACCESS_KEY_ID": "shop-key",
    "S3_SECRET_ACCESS_KEY": "shop-secret",
    "S3_REGION": "us-east-1",
}
WAIT_S = 60  # a bound for the killed process's put to get going: a hang fails the test


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    s3(url).create_bucket(Bucket=BUCKET)
    yield url
    server.stop()


def s3(url: str) -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["S3_SECRET_ACCESS_KEY"],
    )


def bucket_settings(url: str, prefix: str) -> dict[str, str]:
    return {"BLOB_STORE": f"s3://{BUCKET}/{prefix}", "S3_ENDPOINT_URL": url, **CREDENTIALS}


def keys(url: str, prefix: str) -> list[str]:
    listed = s3(url).list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/")
    return sorted(item["Key"] for item in listed.get("Contents", []))


def photo(seed: int, size: tuple[int, int] = (160, 120)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (seed * 50 % 256, 120, 200 - seed)).save(buffer, "JPEG")
    return buffer.getvalue()


def noisy_photo(size: tuple[int, int] = (900, 700)) -> bytes:
    """A JPEG of about a megabyte: noise does not compress."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_app(
    instance: Path, database_url: str, settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Flask:
    monkeypatch.setenv("CHECKIN_INSTANCE_PATH", str(instance))
    return create_app({"DATABASE_URL": database_url, "TESTING": True, **settings})


@pytest.fixture
def bucket_app(
    migrated_sqlite_url: str, tmp_path: Path, s3_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    prefix = uuid.uuid4().hex
    app = make_app(
        tmp_path / "instance", migrated_sqlite_url, bucket_settings(s3_url, prefix), monkeypatch
    )
    app.config["TEST_PREFIX"] = prefix
    yield app
    app.extensions["blob_store"].close()  # thumbnails queued: made while the bucket is up
    app.extensions["db_engine"].dispose()


def put_photo(app: Flask, token: str, data: bytes, name: str | None = None) -> Any:
    return app.test_client().put(
        f"/api/v1/blobs/{name or sha(data)}",
        data=data,
        content_type="image/jpeg",
        headers=bearer(token),
    )


def count_puts(store: BucketBlobStore) -> list[str]:
    """The originals this store's client puts from now on (boto3's own event hook)."""
    puts: list[str] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        if "/originals/" in params["url_path"]:
            puts.append(params["url_path"])

    store.client.meta.events.register("before-call.s3.PutObject", count)
    return puts


def test_an_upload_is_kept_whole_in_the_bucket_once_and_a_wrong_or_broken_one_never(
    bucket_app: Flask, s3_url: str
) -> None:
    prefix = bucket_app.config["TEST_PREFIX"]
    store = bucket_app.extensions["blob_store"]
    assert isinstance(store, BucketBlobStore)
    token = Shop(bucket_app).device_token("tablet", "Tablet 1")
    data = photo(1)
    puts = count_puts(store)

    first = put_photo(bucket_app, token, data)
    assert first.status_code == 201 and first.json["stored"] == "new"
    original = f"{prefix}/originals/{sha(data)[:2]}/{sha(data)}"
    assert [key for key in keys(s3_url, prefix) if "/originals/" in key] == [original]
    head = s3(s3_url).head_object(Bucket=BUCKET, Key=original, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == checksum_sha256(sha(data))  # the bucket checks it
    assert head["ContentType"] == "image/jpeg"
    assert len(puts) == 1

    # Sent again (a device that never heard the answer): answered, not put again.
    again = put_photo(bucket_app, token, data)
    assert again.status_code == 200 and again.json["stored"] == "already"
    assert store.receive(sha(data), "image/jpeg", io.BytesIO(data)).size_bytes == len(data)
    assert len(puts) == 1

    # Bytes that are not the photo named, and a photo cut short: refused, nothing kept.
    other = photo(2)
    wrong = put_photo(bucket_app, token, other, name=sha(photo(3)))
    assert wrong.status_code == 422 and wrong.json["type"].endswith("hash-mismatch")
    cut = photo(4)[:-600]
    broken = put_photo(bucket_app, token, cut)
    assert broken.status_code == 422 and broken.json["type"].endswith("image-unreadable")
    assert len(puts) == 1
    assert [key for key in keys(s3_url, prefix) if "/originals/" in key] == [original]
    assert list(store.incoming.iterdir()) == []  # no spooled upload left behind

    # Served through the server to those allowed, thumbnails kept in the bucket too.
    tablet = bucket_app.test_client()
    with tablet.get(f"/api/v1/blobs/{sha(data)}", headers=bearer(token)) as answer:
        assert answer.status_code == 200 and answer.data == data
        assert answer.headers["Content-Length"] == str(len(data))
        assert answer.headers["ETag"] == f'"{sha(data)}"'
    with tablet.get(f"/api/v1/blobs/{sha(data)}/thumbnail", headers=bearer(token)) as small:
        assert Image.open(io.BytesIO(small.data)).format == "JPEG"
    assert f"{prefix}/thumbnails/{sha(data)[:2]}/{sha(data)}.jpg" in keys(s3_url, prefix)
    cached = tablet.get(
        f"/api/v1/blobs/{sha(data)}", headers={**bearer(token), "If-None-Match": f'"{sha(data)}"'}
    )
    assert cached.status_code == 304
    assert bucket_app.test_client().get(f"/api/v1/blobs/{sha(data)}").status_code == 401


def test_a_bucket_that_refuses_the_server_is_answered_503_and_nothing_is_kept(
    migrated_sqlite_url: str, tmp_path: Path, s3_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {**bucket_settings(s3_url, "x"), "BLOB_STORE": "s3://no-such-bucket/x"}
    app = make_app(tmp_path / "instance", migrated_sqlite_url, settings, monkeypatch)
    try:
        token = Shop(app).device_token("tablet", "Tablet 1")
        data = photo(6)
        answer = put_photo(app, token, data)
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "60"
        assert answer.json["type"].endswith("/photo-store-unavailable")
        assert list(app.extensions["blob_store"].incoming.iterdir()) == []
        missing = app.test_client().post(
            "/api/v1/blobs/missing", json={"sha256": [sha(data)]}, headers=bearer(token)
        )
        assert missing.json["missing"] == [sha(data)]  # so the device sends it again
    finally:
        app.extensions["db_engine"].dispose()


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_two_processes_with_their_own_instance_folders_share_photos_keys_and_the_kiosk(
    database: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    s3_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sync_server.demo import seed_demo
    from sync_server.secret_tables import ServerSecret

    database_url = request.getfixturevalue(f"migrated_{database}_url")
    settings = {**bucket_settings(s3_url, uuid.uuid4().hex), "SECRET_KEY": None}
    # The shop ran one process until now: its key is in its instance folder.
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "secret_key").write_text("the-shops-old-key", encoding="ascii")
    one = make_app(tmp_path / "one", database_url, settings, monkeypatch)
    two = make_app(tmp_path / "two", database_url, settings, monkeypatch)  # empty folder
    try:
        assert one.config["SECRET_KEY"] == two.config["SECRET_KEY"] == "the-shops-old-key"
        with one.app_context():
            row = db.session().get(ServerSecret, "secret_key")
            assert row is not None and row.origin == "instance-folder"
            seed_demo(db.session())  # with its walk-around photos and signatures
        shop = Shop(one)
        tablet, kiosk = shop.device_token("tablet", "Tablet 1"), shop.device_token("kiosk")

        data = photo(5)
        assert put_photo(one, tablet, data).status_code == 201
        for app in (one, two):
            with app.test_client().get(f"/api/v1/blobs/{sha(data)}", headers=bearer(tablet)) as got:
                assert got.status_code == 200 and got.data == data
        asked = two.test_client().post(
            "/api/v1/blobs/missing", json={"sha256": [sha(data)]}, headers=bearer(tablet)
        )
        assert asked.json["missing"] == []

        # The kiosk paired through one: the same key and the same snapshot from the other.
        me = [
            app.test_client().get("/api/v1/devices/me", headers=bearer(kiosk)).json
            for app in (one, two)
        ]
        assert me[0]["status_link_key"] == me[1]["status_link_key"]
        snapshots = [
            app.test_client().get("/api/v1/sync/changes", headers=bearer(kiosk)).json
            for app in (one, two)
        ]
        appointments = [
            [c for c in snapshot["changes"] if c["kind"] == "appointment"] for snapshot in snapshots
        ]
        assert len(appointments[0]) == 5 and appointments[0] == appointments[1]

        # A manager signed in through one is signed in on the other.
        shop.user("zhou", "manager")
        signed_in = one.test_client()
        shop.login(signed_in, "zhou")
        cookie = signed_in.get_cookie("session")
        assert cookie is not None
        other = two.test_client()
        other.set_cookie("session", cookie.value)
        assert other.get("/api/v1/auth/me").status_code == 200
    finally:
        for app in (one, two):
            app.extensions["blob_store"].close()
            app.extensions["db_engine"].dispose()


KILLED_UPLOAD = """
import json, sys
from sync_server import create_app

settings = json.loads(sys.argv[1])
data = open(sys.argv[2], "rb").read()
app = create_app(settings)
print("started", flush=True)
answer = app.test_client().put(
    "/api/v1/blobs/" + sys.argv[3], data=data, content_type="image/jpeg",
    headers={"Authorization": "Bearer " + sys.argv[4]},
)
print("answered", answer.status_code, flush=True)
"""


def test_a_server_killed_mid_put_leaves_no_object_and_the_photo_comes_again(
    bucket_app: Flask, tmp_path: Path, s3_url: str
) -> None:
    prefix = bucket_app.config["TEST_PREFIX"]
    token = Shop(bucket_app).device_token("tablet", "Tablet 1")
    data = noisy_photo()
    assert len(data) > 600_000
    upload = tmp_path / "photo.jpg"
    upload.write_bytes(data)
    port = int(s3_url.rsplit(":", 1)[1])
    with StallingProxy(port, stall_after_bytes=300_000) as proxy:
        settings = {
            "DATABASE_URL": bucket_app.config["DATABASE_URL"],
            "TESTING": True,
            **bucket_settings(proxy.url, prefix),
        }
        env = {**os.environ, "CHECKIN_INSTANCE_PATH": str(tmp_path / "killed")}
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                KILLED_UPLOAD,
                json.dumps(settings),
                str(upload),
                sha(data),
                token,
            ],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        try:
            assert proxy.stalled.wait(WAIT_S), "the put never started"
            server.send_signal(signal.SIGKILL)  # mid-put: a third of the photo sent
            server.wait(WAIT_S)
            assert proxy.closed.wait(WAIT_S)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        assert server.stdout is not None and "answered" not in server.stdout.read()
        server.stdout.close()
    assert keys(s3_url, prefix) == []  # nothing partial under the photo's name, nor elsewhere
    missing = bucket_app.test_client().post(
        "/api/v1/blobs/missing", json={"sha256": [sha(data)]}, headers=bearer(token)
    )
    assert missing.json["missing"] == [sha(data)]  # so the device sends it again
    assert put_photo(bucket_app, token, data).status_code == 201
    body = s3(s3_url).get_object(
        Bucket=BUCKET, Key=f"{prefix}/originals/{sha(data)[:2]}/{sha(data)}"
    )
    assert body["Body"].read() == data


def test_blobs_migrate_copies_every_photo_checks_every_hash_and_can_run_again(
    migrated_sqlite_url: str, tmp_path: Path, s3_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder_app = make_app(tmp_path / "instance", migrated_sqlite_url, {}, monkeypatch)
    token = Shop(folder_app).device_token("tablet", "Tablet 1")
    photos = [photo(seed) for seed in range(10, 15)]
    for data in photos:
        assert put_photo(folder_app, token, data).status_code == 201
    folder = folder_app.extensions["blob_store"]
    folder.close()  # every photo has its thumbnail made
    assert len(list(folder.root.glob("thumbnails/*/*.jpg"))) == 5
    damaged = folder.original_path(sha(photos[4]))
    good_bytes = damaged.read_bytes()
    damaged.write_bytes(good_bytes[:-10] + b"0123456789")  # the disk spoilt it
    folder_app.extensions["db_engine"].dispose()

    prefix = uuid.uuid4().hex
    bucket_app = make_app(
        tmp_path / "instance", migrated_sqlite_url, bucket_settings(s3_url, prefix), monkeypatch
    )
    runner = bucket_app.test_cli_runner()
    try:
        first = runner.invoke(args=["blobs", "migrate"])
        assert first.exit_code == 1, first.output
        assert "copied: 4; already in the bucket (hash checked): 0" in first.output
        assert "damaged in the folder: 1. Thumbnails copied: 4." in first.output
        assert f"Damaged: photo {sha(photos[4])}" in first.output

        damaged.write_bytes(good_bytes)  # put right (from the backup, say), then again
        second = runner.invoke(args=["blobs", "migrate"])
        assert second.exit_code == 0, second.output
        assert "copied: 1; already in the bucket (hash checked): 4" in second.output
        assert "missing from the folder: 0; damaged in the folder: 0. Thumbnails copied: 1." in (
            second.output
        )

        # An object in the bucket that does not match is not taken for the photo.
        key = f"{prefix}/originals/{sha(photos[1])[:2]}/{sha(photos[1])}"
        s3(s3_url).put_object(Bucket=BUCKET, Key=key, Body=b"not the photo")
        third = runner.invoke(args=["blobs", "migrate"])
        assert "copied: 1; already in the bucket (hash checked): 4" in third.output

        client = bucket_app.test_client()
        for data in photos:
            with client.get(f"/api/v1/blobs/{sha(data)}", headers=bearer(token)) as answer:
                assert answer.data == data
        folder_only = runner.invoke(args=["blobs", "migrate", "--from", str(tmp_path / "none")])
        assert folder_only.exit_code != 0 and "holds no photos" in folder_only.output
    finally:
        bucket_app.extensions["db_engine"].dispose()


def test_the_nightly_backup_copies_photos_out_of_the_bucket_and_a_restore_puts_them_back(
    bucket_app: Flask, tmp_path: Path, s3_url: str
) -> None:
    from sync_server.backup import make_backup, restore_backup

    prefix = bucket_app.config["TEST_PREFIX"]
    token = Shop(bucket_app).device_token("tablet", "Tablet 1")
    data = photo(7)
    assert put_photo(bucket_app, token, data).status_code == 201
    report = make_backup(bucket_app, tmp_path / "backups")
    assert report.photos == 1 and report.photos_missing == []
    assert (report.folder / "photos" / sha(data)[:2] / sha(data)).read_bytes() == data

    key = f"{prefix}/originals/{sha(data)[:2]}/{sha(data)}"
    s3(s3_url).delete_object(Bucket=BUCKET, Key=key)  # lost with the bucket's disk
    restored = restore_backup(bucket_app, report.folder)
    assert restored.photos_restored == 1
    head = s3(s3_url).head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == checksum_sha256(sha(data))


def test_blobs_migrate_says_what_to_set_when_no_bucket_is_configured(
    migrated_sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path / "instance", migrated_sqlite_url, {}, monkeypatch)
    result = app.test_cli_runner().invoke(args=["blobs", "migrate"])
    assert result.exit_code != 0 and "BLOB_STORE is not an s3:// bucket" in result.output
    app.extensions["db_engine"].dispose()


def test_the_stalling_proxy_holds_a_put_and_passes_a_small_request() -> None:
    """The proxy the kill test relies on: it passes what is below its limit and holds
    the rest (so a killed process's put really is cut)."""
    received: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))

    def upstream() -> None:
        connection, _ = listener.accept()
        with connection:
            while chunk := connection.recv(65536):
                received.append(chunk)

    thread = threading.Thread(target=upstream, daemon=True)
    thread.start()
    with StallingProxy(listener.getsockname()[1], stall_after_bytes=1000) as proxy:
        sock = socket.create_connection(("127.0.0.1", proxy.port))
        sock.sendall(b"x" * 600)
        sock.sendall(b"y" * 5000)
        assert proxy.stalled.wait(WAIT_S)
        sock.close()
        assert proxy.closed.wait(WAIT_S)
    thread.join(WAIT_S)
    listener.close()
    assert len(b"".join(received)) == 1000
