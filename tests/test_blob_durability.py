"""The server's photo store: rows written together (group commit), and a device asking
whether a photo is missing told so only once a photo being stored is stored."""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

import pytest
from PIL import Image

from sync_server.sync.blob_folder import FolderBlobStore
from sync_server.sync.group_commit import GroupCommit, GroupWriteFailed

JOIN_S = 30  # a generous bound for a thread to end: a hang fails the test, not a slow run


def jpeg(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (seed * 40 % 256, 90, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_items_handed_in_while_a_write_runs_go_together_in_the_next_one() -> None:
    writes: list[list[int]] = []
    first_started, let_first_finish = threading.Event(), threading.Event()

    def write(items: list[int]) -> None:
        writes.append(list(items))
        if items == [0]:
            first_started.set()
            assert let_first_finish.wait(JOIN_S)

    group: GroupCommit[int] = GroupCommit(write)
    returned: list[int] = []

    def submit(item: int) -> None:
        group.submit(item)
        returned.append(item)

    first = threading.Thread(target=submit, args=(0,))
    first.start()
    assert first_started.wait(JOIN_S)
    others = [threading.Thread(target=submit, args=(n,)) for n in (1, 2, 3)]
    for thread in others:
        thread.start()
    # Each of them waits for the write in progress (its item is not written yet).
    assert returned == []
    let_first_finish.set()
    for thread in [first, *others]:
        thread.join(JOIN_S)
        assert not thread.is_alive()
    assert sorted(returned) == [0, 1, 2, 3]
    assert writes[0] == [0]
    assert sorted(item for batch in writes[1:] for item in batch) == [1, 2, 3]


def test_a_failed_write_fails_every_caller_of_its_group_and_the_next_write_goes_on() -> None:
    calls: list[list[str]] = []

    def write(items: list[str]) -> None:
        calls.append(items)
        if "bad" in items:
            raise OSError("disk full")

    group: GroupCommit[str] = GroupCommit(write)
    with pytest.raises(OSError, match="disk full"):
        group.submit("bad")
    group.submit("good")
    assert calls == [["bad"], ["good"]]


def test_a_caller_whose_item_another_thread_wrote_gets_that_writes_error() -> None:
    started, go_on = threading.Event(), threading.Event()

    def write(items: list[str]) -> None:
        if items == ["first"]:
            started.set()
            assert go_on.wait(JOIN_S)
            return
        raise OSError("the database went away")

    group: GroupCommit[str] = GroupCommit(write)
    errors: list[BaseException] = []

    def submit(item: str) -> None:
        try:
            group.submit(item)
        except BaseException as error:
            errors.append(error)

    first = threading.Thread(target=submit, args=("first",))
    first.start()
    assert started.wait(JOIN_S)
    waiting = [threading.Thread(target=submit, args=(name,)) for name in ("a", "b")]
    for thread in waiting:
        thread.start()
    go_on.set()
    for thread in [first, *waiting]:
        thread.join(JOIN_S)
        assert not thread.is_alive()
    # "a" and "b" went in one write or two; each caller got a failure saying why.
    assert len(errors) == 2
    for error in errors:
        cause = error.__cause__ if isinstance(error, GroupWriteFailed) else error
        assert isinstance(cause, OSError)


def test_asking_about_a_photo_being_stored_waits_until_it_is_stored(tmp_path: Path) -> None:
    store = FolderBlobStore(tmp_path / "blobs")
    data = jpeg(1)
    sha = hashlib.sha256(data).hexdigest()
    events: list[str] = []
    storing, finish = threading.Event(), threading.Event()

    def upload() -> None:
        with store.storing(sha):
            storing.set()
            assert finish.wait(JOIN_S)
            store.receive(sha, "image/jpeg", io.BytesIO(data))
            events.append("stored")

    def ask() -> None:
        store.wait_until_stored([sha], timeout=JOIN_S)
        events.append("answered")

    uploader = threading.Thread(target=upload)
    uploader.start()
    assert storing.wait(JOIN_S)
    asker = threading.Thread(target=ask)
    asker.start()
    finish.set()
    for thread in (uploader, asker):
        thread.join(JOIN_S)
        assert not thread.is_alive()
    assert events == ["stored", "answered"]
    assert store.has(sha)


def test_asking_about_photos_nobody_is_storing_does_not_wait(tmp_path: Path) -> None:
    store = FolderBlobStore(tmp_path / "blobs")
    other = hashlib.sha256(b"another photo").hexdigest()
    with store.storing(other):
        # Nothing of these is being stored: the answer comes at once, even with no
        # time allowed at all.
        assert store.wait_until_stored(["a" * 64, "b" * 64], timeout=0)
        # The one being stored is still being stored when no time is allowed.
        assert not store.wait_until_stored([other, "a" * 64], timeout=0)
    assert store.wait_until_stored([other], timeout=0)


def test_a_photo_stored_in_a_new_folder_is_kept_under_its_hash(tmp_path: Path) -> None:
    store = FolderBlobStore(tmp_path / "blobs")
    for seed in range(3):
        data = jpeg(seed)
        sha = hashlib.sha256(data).hexdigest()
        stored = store.receive(sha, "image/jpeg", io.BytesIO(data), sync_folder=False)
        store.sync_folders([sha])
        assert (stored.width, stored.height) == (64, 48)
        assert store.original_path(sha).read_bytes() == data
    assert not list((tmp_path / "blobs" / "incoming").iterdir())
