"""A device that does nothing but sync, as its own OS process, for kill tests.

    python tests/sync_client.py DATA_DIR NODE_ID URL TOKEN

Opens the :class:`LocalStore` in ``DATA_DIR``, prints ``ready`` and runs
:meth:`SyncEngine.sync_once` in a loop until nothing is pending, then prints ``done``
and exits 0. A failed round (the network, a restarting server) is simply tried again.
``test_sync_faults.py`` SIGKILLs this process at random moments and starts it again.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from urllib3.util import Retry

from kiosk.services.local_store import LocalStore
from kiosk.services.sync import SyncEngine, SyncError, SyncTransport

DEADLINE_S = 240.0


def main(argv: list[str]) -> int:
    data_dir, node_id, url, token = argv
    retry = Retry(
        total=2,
        connect=2,
        read=2,
        backoff_factor=0.02,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=None,
        raise_on_status=False,
    )
    deadline = time.monotonic() + DEADLINE_S
    with (
        LocalStore(Path(data_dir), node_id) as store,
        SyncTransport(url, token, timeout=(1, 10), retry=retry) as transport,
    ):
        # Small batches: more round trips, so a kill lands between them as often as in one.
        engine = SyncEngine(store, transport, batch_size=50)
        print("ready", flush=True)
        while time.monotonic() < deadline:
            try:
                engine.sync_once()
            except SyncError as error:
                print(f"round failed: {error}", file=sys.stderr, flush=True)
                time.sleep(0.05)
                continue
            counts = store.status()
            if counts.pending_changes == counts.pending_blobs == 0:
                print("done", flush=True)
                return 0
    print("gave up", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
