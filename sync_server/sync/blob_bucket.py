"""The photo store in an S3-compatible bucket (MinIO, Ceph RGW, AWS S3), through boto3.

``BLOB_STORE=s3://bucket/prefix`` puts every server process's photos in one place:
``<prefix>/originals/ab/<sha256>`` and ``<prefix>/thumbnails/ab/<sha256>.jpg``.

The local store's promises, kept:

* **checked before visible**: an upload is spooled to a local temp file and checked
  there (hash, format, pixel cap, decoded in full) before anything is sent to the bucket;
* **nothing partial**: the object is sent in one ``PutObject`` (uploads are at most
  25 MB), which a bucket makes visible whole or not at all — a server killed mid-put
  leaves no object — and it carries ``ChecksumSHA256``, so the bucket itself refuses
  bytes damaged on the way;
* **acknowledged = durable**: the put has returned (the bucket has it on its disks)
  before the photo's row is written and the device is answered;
* **a duplicate upload is a no-op**: a photo the bucket already holds is not sent again.
"""

from __future__ import annotations

import base64
import contextlib
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from shared.atomic_file import spool_file
from sync_server.sync.blobs import (
    BlobContent,
    BlobMissing,
    BlobStore,
    PhotoStoreUnavailable,
    file_sha256,
    thumbnail_jpeg,
)

SCHEME = "s3://"
_MISSING = {"404", "NoSuchKey", "NotFound"}


def parse_bucket_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ``("bucket", "some/prefix/")`` (the prefix may be empty)."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"BLOB_STORE must look like s3://bucket/prefix, got {url!r}")
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""


def checksum_sha256(sha256: str) -> str:
    """S3's ``ChecksumSHA256``: the digest in base64, not hex."""
    return base64.b64encode(bytes.fromhex(sha256)).decode("ascii")


def make_s3_client(config: Mapping[str, Any]) -> Any:
    """A boto3 S3 client from the server's settings; credentials not given here come
    from boto3's own chain (``AWS_ACCESS_KEY_ID``…, ``~/.aws``, an instance role)."""
    import boto3
    from botocore.config import Config

    endpoint = config.get("S3_ENDPOINT_URL") or None
    # MinIO and Ceph RGW answer at one host name: path-style URLs need no wildcard DNS.
    style = config.get("S3_ADDRESSING_STYLE") or ("path" if endpoint else "auto")
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=config.get("S3_REGION") or None,
        aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
        aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
        config=Config(
            s3={"addressing_style": style},
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
            # Checksums only where this store asks for them (MinIO, Ceph, older S3s).
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


class BucketBlobStore(BlobStore):
    """Photos as objects in ``bucket`` under ``prefix``; uploads spooled in ``spool``."""

    def __init__(self, client: Any, bucket: str, prefix: str, spool: Path) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        super().__init__(spool)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], spool: Path) -> BucketBlobStore:
        bucket, prefix = parse_bucket_url(str(config["BLOB_STORE"]))
        return cls(make_s3_client(config), bucket, prefix, spool)

    def describe(self) -> str:
        return f"bucket s3://{self.bucket}/{self.prefix}"

    def original_key(self, sha256: str) -> str:
        return f"{self.prefix}originals/{sha256[:2]}/{sha256}"

    def thumbnail_key(self, sha256: str) -> str:
        return f"{self.prefix}thumbnails/{sha256[:2]}/{sha256}.jpg"

    def has(self, sha256: str) -> bool:
        return self._head(self.original_key(sha256)) is not None

    def verified(self, sha256: str) -> bool:
        """True when the bucket holds the photo with its hash: from the checksum the
        bucket keeps (no download), or by reading it when it was put without one."""
        head = self._head(self.original_key(sha256), checksum=True)
        if head is None:
            return False
        kept = head.get("ChecksumSHA256")
        if kept and "-" not in kept:  # a multipart object's checksum is of its parts
            return kept == checksum_sha256(sha256)
        return self.matches(sha256)

    def open_original(self, sha256: str) -> BlobContent:
        try:
            with _bucket_errors():
                answer = self.client.get_object(Bucket=self.bucket, Key=self.original_key(sha256))
        except self.client.exceptions.ClientError:  # only "no such key" gets here
            raise BlobMissing(sha256) from None
        return BlobContent(answer["Body"], int(answer["ContentLength"]))

    @contextlib.contextmanager
    def _receiving(self, sha256: str, content_type: str, sync_folder: bool) -> Iterator[IO[bytes]]:
        with spool_file(self.incoming, suffix=".part") as temp_file:
            yield temp_file  # written and checked by the caller; an exception ends here
            temp_file.flush()
            if not self.has(sha256):  # already there (another process, a migration)
                temp_file.seek(0)
                self._put(self.original_key(sha256), temp_file, content_type, sha256)

    def put_file(self, sha256: str, path: Path, content_type: str) -> None:
        if file_sha256(path) != sha256:
            raise ValueError(f"{path} does not match its hash {sha256}: it is damaged")
        with path.open("rb") as reader:
            self._put(self.original_key(sha256), reader, content_type, sha256)

    def put_thumbnail(self, sha256: str, jpeg: bytes) -> None:
        with _bucket_errors():
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.thumbnail_key(sha256),
                Body=jpeg,
                ContentType="image/jpeg",
            )

    def thumbnail_missing(self, sha256: str) -> bool:
        return self._head(self.thumbnail_key(sha256)) is None

    def make_thumbnail(self, sha256: str) -> None:
        if self.thumbnail_missing(sha256):
            self.thumbnail_bytes(sha256)

    def thumbnail_bytes(self, sha256: str) -> bytes:
        try:
            with _bucket_errors():
                answer = self.client.get_object(Bucket=self.bucket, Key=self.thumbnail_key(sha256))
        except self.client.exceptions.ClientError:  # no thumbnail yet: made below
            pass
        else:
            with contextlib.closing(answer["Body"]) as body:
                return body.read()
        jpeg = thumbnail_jpeg(io.BytesIO(self.original_bytes(sha256)))
        self.put_thumbnail(sha256, jpeg)
        return jpeg

    def _put(self, key: str, body: IO[bytes], content_type: str, sha256: str) -> None:
        """One whole object, refused by the bucket if its bytes do not have this hash."""
        with _bucket_errors():
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",  # kept with the object: checks without a download
                ChecksumSHA256=checksum_sha256(sha256),
            )

    def _head(self, key: str, *, checksum: bool = False) -> dict[str, Any] | None:
        extra = {"ChecksumMode": "ENABLED"} if checksum else {}
        try:
            with _bucket_errors():
                return self.client.head_object(Bucket=self.bucket, Key=key, **extra)
        except self.client.exceptions.ClientError:  # only "no such key" gets here
            return None


@contextlib.contextmanager
def _bucket_errors() -> Iterator[None]:
    """Lets "no such key" through as boto3 raised it; any other failure of the bucket
    (down, refusing these credentials, no such bucket) is :class:`PhotoStoreUnavailable`."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as error:
        if _is_missing(error):
            raise
        raise PhotoStoreUnavailable(_error_code(error)) from error
    except BotoCoreError as error:
        raise PhotoStoreUnavailable(type(error).__name__) from error


def _error_code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code"))


def _is_missing(error: Any) -> bool:
    return _error_code(error) in _MISSING
