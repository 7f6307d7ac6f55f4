"""Which documents a document_ingest run must read, re-chunk, touch or delete.

S3 is the source of truth and ``RAG.DOCUMENTS`` mirrors it. A listed object whose (ETag, size) and
chunker configuration match what the table recorded is unchanged without being downloaded: the
cheap path for the common case. Anything else is downloaded and decided by its *content* hash, not
by its ETag: a re-upload of identical bytes (a new ETag after a copy or a multipart upload) only
refreshes the recorded ETag and is never re-chunked or re-embedded. A recorded document no longer
listed is deleted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class DocumentStatus(str, Enum):
    ACTIVE = "active"  # extracted and chunked
    REJECTED = "rejected"  # skipped with a reason in OPS.QUARANTINE; no chunks
    DELETED = "deleted"  # gone from S3; no chunks


class Change(str, Enum):
    NEW = "new"
    CHANGED = "changed"  # content (or chunker configuration) differs: chunks replaced
    TOUCHED = "touched"  # new ETag, same content: only the recorded ETag changes
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class ListedObject:
    key: str
    etag: str  # without S3's surrounding quotes
    size: int

    @classmethod
    def of(cls, key: str, etag: str, size: int) -> ListedObject:
        return cls(key, etag.strip('"'), int(size))


@dataclass(frozen=True)
class KnownDocument:
    """What RAG.DOCUMENTS holds about one source."""

    doc_id: str
    source_uri: str
    etag: str
    size: int
    content_hash: str
    chunker: str
    status: DocumentStatus


@dataclass(frozen=True)
class SyncPlan:
    to_read: tuple[ListedObject, ...]  # download, hash, then classify with classify_content()
    unchanged: tuple[ListedObject, ...]
    deleted: tuple[KnownDocument, ...]


def source_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def doc_id(uri: str) -> str:
    """Stable id of a document: its source URI, hashed (a re-upload keeps the id, a rename is a new document)."""
    return hashlib.sha256(uri.encode("utf-8")).hexdigest()[:32]


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_document_key(key: str, prefix: str) -> bool:
    """Objects under the prefix, minus "folder" placeholders and hidden files (``.keep``, ``._x``)."""
    if not key.startswith(prefix) or key.endswith("/"):
        return False
    return not key.rsplit("/", 1)[-1].startswith(".")


def plan_sync(bucket: str, listed: Iterable[ListedObject], known: Iterable[KnownDocument], chunker: str) -> SyncPlan:
    by_uri = {doc.source_uri: doc for doc in known}
    to_read, unchanged, seen = [], [], set()
    for obj in sorted(set(listed), key=lambda o: o.key):
        uri = source_uri(bucket, obj.key)
        seen.add(uri)
        doc = by_uri.get(uri)
        same_version = doc is not None and doc.status != DocumentStatus.DELETED and (doc.etag, doc.size) == (obj.etag, obj.size)
        # a rejected document is skipped until its bytes change; an active one also needs the same chunker
        if same_version and (doc.status == DocumentStatus.REJECTED or doc.chunker == chunker):
            unchanged.append(obj)
        else:
            to_read.append(obj)
    deleted = tuple(
        doc for uri, doc in sorted(by_uri.items()) if uri not in seen and doc.status != DocumentStatus.DELETED
    )
    return SyncPlan(tuple(to_read), tuple(unchanged), deleted)


def classify_content(known: KnownDocument | None, new_hash: str, chunker: str) -> Change:
    """After a download: NEW, CHANGED (re-chunk) or TOUCHED (same bytes under a new ETag)."""
    if known is None or known.status == DocumentStatus.DELETED:
        return Change.NEW
    if known.status == DocumentStatus.ACTIVE and known.content_hash == new_hash and known.chunker == chunker:
        return Change.TOUCHED
    return Change.CHANGED
