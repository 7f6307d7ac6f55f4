"""The load ledger (OPS.LOAD_LEDGER): which landing files, in which version, are already in bronze.

A file version is (S3 URI, ETag, size). Firehose never rewrites a file, but a person re-uploading a
corrected file does: the new version has a new ETag and is read again; the MERGE makes a second
read of the same content harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class FileVersion:
    uri: str  # s3://bucket/key
    etag: str  # without S3's surrounding quotes
    size: int

    @property
    def key(self) -> str:
        return self.uri.split("/", 3)[3]

    @classmethod
    def of(cls, bucket: str, key: str, etag: str, size: int) -> FileVersion:
        return cls(f"s3://{bucket}/{key}", etag.strip('"'), int(size))


@dataclass(frozen=True)
class LoadPlan:
    to_load: tuple[FileVersion, ...]  # in key order, which is delivery order: the first copy of an event wins
    already_loaded: tuple[FileVersion, ...]


def plan_loads(candidates: Iterable[FileVersion], ledger: Iterable[tuple[str, str, int]]) -> LoadPlan:
    """Split listed files into those to read and those whose exact version the ledger already holds."""
    loaded = {(uri, etag.strip('"'), int(size)) for uri, etag, size in ledger}
    to_load, skipped = [], []
    for version in sorted(set(candidates)):
        (skipped if (version.uri, version.etag, version.size) in loaded else to_load).append(version)
    return LoadPlan(tuple(to_load), tuple(skipped))
