"""``checkin-server blobs migrate``: a shop's photos from its folder into the bucket.

For a shop moving to several server processes: set ``BLOB_STORE`` (and the bucket's
endpoint and credentials) as for ``serve``, run this, then start the processes. Every
photo the database lists is copied from the folder, checked against its SHA-256 on the
way out and by the bucket on the way in (``ChecksumSHA256``); one the bucket already
holds with that checksum is skipped, so the command can be stopped and run again at any
time and does only what is left. Thumbnails already made are copied too (others are
made on first view).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from sync_server import db
from sync_server.sync.blob_bucket import BucketBlobStore
from sync_server.sync.blob_folder import FolderBlobStore
from sync_server.sync.blob_stores import folder_root
from sync_server.sync.tables import Blob

PROGRESS_EVERY = 500


@dataclass
class MigrationCounts:
    listed: int = 0
    copied: int = 0
    already: int = 0
    thumbnails: int = 0
    missing: list[str] = field(default_factory=list)  # listed, but no file in the folder
    damaged: list[str] = field(default_factory=list)  # the file does not have its hash


def migrate_photos(
    hashes: list[tuple[str, str]],
    folder: FolderBlobStore,
    bucket: BucketBlobStore,
) -> MigrationCounts:
    """Copy these photos (SHA-256, content type) from ``folder`` into ``bucket``."""
    counts = MigrationCounts(listed=len(hashes))
    for number, (sha, content_type) in enumerate(hashes, start=1):
        if bucket.verified(sha):
            counts.already += 1
        elif not folder.original_path(sha).is_file():
            counts.missing.append(sha)
            continue
        else:
            try:
                bucket.put_file(sha, folder.original_path(sha), content_type)
            except ValueError:
                counts.damaged.append(sha)
                continue
            if not bucket.verified(sha):
                raise click.ClickException(f"the bucket does not hold photo {sha} as sent")
            counts.copied += 1
        thumbnail = folder.thumbnail_path(sha)
        if thumbnail.is_file() and bucket.thumbnail_missing(sha):
            bucket.put_thumbnail(sha, thumbnail.read_bytes())
            counts.thumbnails += 1
        if number % PROGRESS_EVERY == 0:
            click.echo(f"… {number} of {len(hashes)} photos done")
    return counts


@click.group("blobs")
def blobs_group() -> None:
    """Photos and signature pictures: the folder or the bucket they are kept in."""


@blobs_group.command("migrate")
@click.option(
    "--from",
    "from_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The photo folder (default: BLOB_DIR, or blobs/ in the instance folder).",
)
@with_appcontext
def migrate_command(from_dir: Path | None) -> None:
    """Copy every photo the database lists from the folder into the BLOB_STORE bucket,
    checking each hash; safe to stop and run again."""
    bucket = current_app.extensions["blob_store"]
    if not isinstance(bucket, BucketBlobStore):
        raise click.ClickException(
            "BLOB_STORE is not an s3:// bucket: set BLOB_STORE=s3://bucket/prefix, "
            "S3_ENDPOINT_URL and the bucket's credentials, as for serve."
        )
    source = from_dir or folder_root(current_app.config, current_app.instance_path)
    if not (source / "originals").is_dir():
        raise click.ClickException(f"{source} holds no photos (no originals/ folder)")
    hashes = [
        (row.sha256, row.content_type)
        for row in db.session().execute(
            select(Blob.sha256, Blob.content_type).order_by(Blob.sha256)
        )
    ]
    db.session().commit()  # no transaction held open while the photos are copied
    click.echo(f"Copying {len(hashes)} photos from {source} into {bucket.describe()} …")
    counts = migrate_photos(hashes, FolderBlobStore(source), bucket)
    click.echo(
        f"Photos listed: {counts.listed}; copied: {counts.copied}; already in the bucket "
        f"(hash checked): {counts.already}; missing from the folder: {len(counts.missing)}; "
        f"damaged in the folder: {len(counts.damaged)}. Thumbnails copied: {counts.thumbnails}."
    )
    for sha in counts.missing:
        click.echo(f"Missing: photo {sha} has no file in {source}.", err=True)
    for sha in counts.damaged:
        click.echo(f"Damaged: photo {sha} in {source} does not match its hash.", err=True)
    if counts.missing or counts.damaged:
        raise SystemExit(1)
