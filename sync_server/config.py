"""Server configuration: read from the environment, with defaults that suit one shop.

``DATABASE_URL`` picks the database (default: a SQLite file in the instance folder);
``SECRET_KEY`` signs sessions (default: a random key kept in the database, the same for
every server process; ``sync_server.server_secrets``). ``BLOB_STORE`` picks the photo
store (default: a folder; ``s3://bucket/prefix`` for a bucket). A test passes its own
mapping to ``create_app``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from shared.sync_protocol import MAX_PUSH_BYTES


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from exc


def settings_from_environment(instance_path: Path) -> dict[str, Any]:
    """Every setting the server reads, with its default."""
    database_url = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{instance_path / 'service_lane.sqlite3'}"
    )
    return {
        "DATABASE_URL": database_url,
        # None: the key every process shares, from the database (sync_server.server_secrets).
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        # JSON bodies are small; photo uploads raise their own limit per request.
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", MAX_PUSH_BYTES),
        "PAIRING_CODE_MINUTES": _env_int("PAIRING_CODE_MINUTES", 10),
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", ""),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "") == "1",
        "PERMANENT_SESSION_LIFETIME": _env_int("SESSION_HOURS", 12) * 3600,
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "BLOB_DIR": os.environ.get("BLOB_DIR", ""),
        # Photos in an S3-compatible bucket (MinIO, Ceph RGW): s3://bucket/prefix.
        "BLOB_STORE": os.environ.get("BLOB_STORE", ""),
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL", ""),
        "S3_REGION": os.environ.get("S3_REGION") or os.environ.get("AWS_DEFAULT_REGION", ""),
        "S3_ADDRESSING_STYLE": os.environ.get("S3_ADDRESSING_STYLE", ""),
        # Else boto3's own: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, ~/.aws, a role.
        "S3_ACCESS_KEY_ID": os.environ.get("S3_ACCESS_KEY_ID", ""),
        "S3_SECRET_ACCESS_KEY": os.environ.get("S3_SECRET_ACCESS_KEY", ""),
        # Messages to customers: email through this SMTP host (none: logged, not sent).
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": _env_int("SMTP_PORT", 25),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": os.environ.get("SMTP_STARTTLS", "") == "1",
        "MAIL_FROM": os.environ.get("MAIL_FROM", "service@localhost"),
        "MESSAGE_SEND_SECONDS": _env_int("MESSAGE_SEND_SECONDS", 15),
        # A mail server that has not answered in this long is given up on for this try.
        "SMTP_TIMEOUT_SECONDS": _env_int("SMTP_TIMEOUT_SECONDS", 20),
        # A sender's claim on a message holds this long; a dead sender's message goes
        # out again after it (keep it well above the SMTP time-out).
        "OUTBOX_LEASE_SECONDS": _env_int("OUTBOX_LEASE_SECONDS", 120),
        # How often ``serve`` looks for background jobs that are due (sync_server/jobs.py).
        "JOB_TICK_SECONDS": _env_int("JOB_TICK_SECONDS", 5),
        # ``serve``'s limits against slow or endless requests (see sync_server/serving.py).
        "HEADER_TIMEOUT_SECONDS": _env_int("HEADER_TIMEOUT_SECONDS", 10),
        "CHANNEL_TIMEOUT_SECONDS": _env_int("CHANNEL_TIMEOUT_SECONDS", 60),
        "CONNECTION_LIMIT": _env_int("CONNECTION_LIMIT", 500),
        "TRUSTED_PROXY": os.environ.get("TRUSTED_PROXY", ""),
        # A customer checked in and not greeted by an advisor this long is highlighted.
        "GREETING_TARGET_MINUTES": _env_int("GREETING_TARGET_MINUTES", 10),
        # Live events (sync_server/live): open streams per process (each holds a worker
        # thread; ``serve`` adds that many), the quiet time between heartbeats, and how
        # long a stream lasts before its reader opens a new one.
        "LIVE_MAX_STREAMS": _env_int("LIVE_MAX_STREAMS", 20),
        # ... of which one person or tablet may hold this many (sync_server/live).
        "LIVE_MAX_STREAMS_PER_READER": _env_int("LIVE_MAX_STREAMS_PER_READER", 4),
        # Links that do not exist one address may open before the customers' pages
        # refuse it for a while (sync_server/public_links.py).
        "PUBLIC_LINK_MISSES": _env_int("PUBLIC_LINK_MISSES", 30),
        "PUBLIC_LINK_WINDOW_MINUTES": _env_int("PUBLIC_LINK_WINDOW_MINUTES", 10),
        # ... and wrong pairing codes, before pairing from there is refused for as long.
        "PAIRING_MISSES": _env_int("PAIRING_MISSES", 10),
        "LIVE_HEARTBEAT_SECONDS": _env_int("LIVE_HEARTBEAT_SECONDS", 15),
        "LIVE_STREAM_MAX_SECONDS": _env_int("LIVE_STREAM_MAX_SECONDS", 600),
        # Database connections each process keeps open (PostgreSQL): at least ``serve``'s
        # threads (8) and the job runner's, so a busy process never opens and closes
        # connections (a new server process each) request after request.
        "DATABASE_POOL_SIZE": _env_int("DATABASE_POOL_SIZE", 10),
        # How far ahead of the server's clock a device's change may be clocked.
        "SYNC_MAX_CLOCK_OFFSET_MS": _env_int("SYNC_MAX_CLOCK_OFFSET_SECONDS", 300) * 1000,
    }
