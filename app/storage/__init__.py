"""Content-addressed blob storage: bytes are kept under their sha256 in a directory or an S3-compatible bucket.

The same bytes uploaded twice are stored once. Nothing here knows about deals or permissions.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from app.errors import PayloadTooLarge
from app.settings import Settings

CHUNK = 1 << 16


class BlobStore(Protocol):
    def put_file(self, path: Path, sha256: str) -> None: ...
    def open(self, sha256: str) -> Iterator[bytes]: ...
    def read(self, sha256: str) -> bytes: ...


class SpooledUpload:
    """An upload copied into a temporary file while its sha256 and size are measured; refused past `limit`."""

    def __init__(self, source: BinaryIO, *, limit: int, spool_dir: Path) -> None:
        spool_dir.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        self.size = 0
        fd, name = tempfile.mkstemp(dir=spool_dir, prefix=".upload-")
        self.path = Path(name)
        self.head = b""
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK):
                    self.size += len(chunk)
                    if self.size > limit:
                        raise PayloadTooLarge(f"the file is larger than the limit of {limit} bytes")
                    if len(self.head) < 8192:
                        self.head += chunk[: 8192 - len(self.head)]
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            self.discard()
            raise
        self.sha256 = digest.hexdigest()

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


class DirectoryStore:
    """`<root>/ab/cd/abcd…`: two levels of fan-out keep directories small."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put_file(self, path: Path, sha256: str) -> None:
        target = self._path(sha256)
        if target.exists():
            path.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)  # atomic: a reader never sees half a file

    def open(self, sha256: str) -> Iterator[bytes]:
        with self._path(sha256).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def read(self, sha256: str) -> bytes:
        return self._path(sha256).read_bytes()


class S3Store:
    """Any S3-compatible bucket through boto3 (an optional dependency: `pip install voronka[s3]`)."""

    def __init__(self, bucket: str, *, prefix: str, endpoint_url: str | None) -> None:
        try:
            import boto3
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise RuntimeError("VORONKA_S3_BUCKET is set but boto3 is not installed: pip install 'voronka[s3]'") \
                from exc
        self.client = boto3.client("s3", endpoint_url=endpoint_url)
        self.bucket = bucket
        self.prefix = prefix

    def put_file(self, path: Path, sha256: str) -> None:
        try:
            self.client.upload_file(str(path), self.bucket, self.prefix + sha256)
        finally:
            path.unlink(missing_ok=True)

    def open(self, sha256: str) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=self.prefix + sha256)["Body"]
        yield from body.iter_chunks(CHUNK)

    def read(self, sha256: str) -> bytes:
        return b"".join(self.open(sha256))


def make_store(settings: Settings) -> BlobStore:
    if settings.s3_bucket:
        return S3Store(settings.s3_bucket, prefix=settings.s3_prefix, endpoint_url=settings.s3_endpoint_url)
    return DirectoryStore(settings.files_dir)


def spool_dir(settings: Settings) -> Path:
    return settings.files_dir / "tmp"
