"""Kiosk check-in save: the signature picture in the records' transaction, against the
picture written as a file (fsynced, renamed, folder fsynced) before the records.

Builds a kiosk store with ``--visits`` check-ins of the past year (as
``device_scale.py`` does) and an empty one, then times walk-in check-ins saved both
ways, interleaved (one of each in turn, on the same store, so the machine's load falls
on both alike), each customer signing differently so that each save makes a new picture.
Prints p50/p95 of each, the ratio new/old, and the fsyncs of files per save (besides
the one of SQLite's commit, which both make).

    .venv/bin/python benchmarks/kiosk_save_bench.py [--visits 12000] [--runs 60]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from device_scale import DEVICE_ID, kiosk_store, walk_in
from timing import Timings, percentile, print_results

from kiosk.services.local_store import LocalStore, PreparedBlob


class FileFirstStore(LocalStore):
    """The save as it was until 2026-12-07: the picture kept as a durable file first
    (``put_blob``: temporary file fsynced, renamed, folder fsynced), then the records."""

    def save_many(self, changes: Sequence[Any], *, blobs: Sequence[PreparedBlob] = ()) -> list[Any]:
        with self.unfinished_save():
            for blob in blobs:
                self.put_blob(blob.data, blob.info.content_type)
            return super().save_many(changes)


def counted_fsyncs(action: Callable[[], Any]) -> int:
    real, count = os.fsync, [0]

    def fsync(fd: int) -> None:
        count[0] += 1
        real(fd)

    os.fsync = fsync  # type: ignore[assignment]
    try:
        action()
    finally:
        os.fsync = real  # type: ignore[assignment]
    return count[0]


def compare(new: LocalStore, old: LocalStore, runs: int, first: int) -> tuple[list[float], ...]:
    walk_in(new, first)  # warm up
    walk_in(old, first + 1)
    timings = {new: Timings(), old: Timings()}
    for n in range(runs):
        for which, store in enumerate((new, old) if n % 2 == 0 else (old, new)):  # in turn
            with timings[store].run():
                walk_in(store, first + 2 + 2 * n + which)
    return timings[new].wall, timings[old].wall


def p(values: list[float], q: int) -> float:
    return percentile(values, q / 100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=12_000)
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    now = datetime.now(UTC)
    lines = []
    with tempfile.TemporaryDirectory(prefix="kiosk-save-") as tmp_name:
        tmp = Path(tmp_name)
        print(f"Building a kiosk store with {args.visits:,} check-ins ...", flush=True)
        kiosk_store(tmp / "year", args.visits, now).close()
        shutil.copytree(tmp / "year", tmp / "year-old")  # each way on its own copy
        for label, folder, first in (("empty", "empty", 0), ("a year", "year", 5000)):
            new = LocalStore(tmp / folder, DEVICE_ID)
            old = FileFirstStore(tmp / f"{folder}-old", DEVICE_ID)
            fsyncs_new = counted_fsyncs(lambda s=new: walk_in(s, 9000))
            fsyncs_old = counted_fsyncs(lambda s=old: walk_in(s, 9001))
            timed_new, timed_old = compare(new, old, args.runs, first)
            ratio = p(timed_new, 95) / p(timed_old, 95)
            lines.append(
                f"{label}: picture in the transaction p50/p95 {p(timed_new, 50):.1f} / "
                f"{p(timed_new, 95):.1f} ms ({fsyncs_new} file fsyncs), picture file "
                f"first {p(timed_old, 50):.1f} / {p(timed_old, 95):.1f} ms ({fsyncs_old} file "
                "fsyncs); both with SQLite's one commit fsync; "
                f"p95 ratio new/old {ratio:.2f} -- "
                f"{'meets' if p(timed_new, 95) <= 50 else 'MISSES'} goal <= 50 ms"
            )
            old.close()
            new.close()
    print_results(lines)


if __name__ == "__main__":
    main()
