"""The daily run on a schedule inside ``serve`` (beside the message sender's thread). It
runs every ``FOLLOW_UP_RUN_SECONDS`` (default hourly): the run is safe to repeat, queues
nothing in quiet hours, and each contact once, so the first run after the quiet hours
end is the day's run and later ones only pick up what came due since."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from flask import Flask

log = logging.getLogger(__name__)


def start_reminder_thread(
    app: Flask, base_url: str, interval_seconds: float = 3600.0
) -> threading.Event:
    """Run the reminders while the server runs; set the event to stop."""
    stop = threading.Event()

    def loop() -> None:
        from sync_server import db
        from sync_server.follow_up.run import run

        wait = min(60.0, interval_seconds)
        while not stop.wait(wait):
            wait = interval_seconds
            try:
                with app.app_context():
                    plan = run(db.session(), datetime.now(UTC), base_url)
                    if plan.queued:
                        log.info("reminders: %d queued, %d held back", plan.queued, len(plan.held))
            except Exception:
                log.exception("reminder run failed; trying again later")

    threading.Thread(target=loop, name="reminders", daemon=True).start()
    return stop
