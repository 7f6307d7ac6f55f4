"""Stage one document_ingest batch as local CSV files (dialect: include/staging.py).

Column orders match the temporary tables of include/sql/document_ingest/stage_batch.sql. Documents
are processed one at a time and their chunks written as they are cut, so memory holds one document,
never the batch.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from include.knowledge.chunking import Chunk, chunk_id
from include.knowledge.sync import Change, DocumentStatus, KnownDocument, ListedObject
from include.staging import PartedCsv

DOCUMENT_COLUMNS = (
    "DOC_ID", "SOURCE_URI", "TITLE", "CONTENT_TYPE", "CONTENT_HASH", "SIZE_BYTES", "ETAG", "STATUS", "CHANGE",
    "CHUNKER", "CHUNK_COUNT", "TOKEN_COUNT", "RUN_ID",
)
CHUNK_COLUMNS = ("CHUNK_ID", "DOC_ID", "ORDINAL", "TEXT", "TOKEN_COUNT", "CONTENT_HASH", "CHUNKER")


@dataclass
class StagedDocuments:
    parts: dict[str, list[str]]  # table (chunks, documents, quarantine, sources) -> local CSV files
    row_counts: dict[str, int]
    changes: Counter[str] = field(default_factory=Counter)  # Change / "deleted" -> documents
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    chunks: int = 0
    tokens: int = 0


class DocumentBatchWriter:
    """Write documents, chunks, quarantine rows and read sources for one batch. Use as a context manager."""

    def __init__(self, folder: Path, run_id: str, chunker: str) -> None:
        self.folder = folder
        self.run_id = run_id
        self.chunker = chunker
        self._tables = {name: PartedCsv(folder / name) for name in ("chunks", "documents", "quarantine", "sources")}
        self._chunks = self._tables["chunks"]
        self._changes: Counter[str] = Counter()
        self._reasons: Counter[str] = Counter()
        self._chunk_count = 0
        self._tokens = 0

    def __enter__(self) -> DocumentBatchWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._close()

    def add_document(
        self, uri: str, doc: str, obj: ListedObject, content_hash: str, change: Change,
        title: str | None, content_type: str | None, chunks: list[Chunk],
    ) -> None:
        """A new, changed or touched document; for a touched one ``chunks`` is ignored (they stay as they are)."""
        tokens = sum(chunk.token_count for chunk in chunks)
        if change != Change.TOUCHED:
            for chunk in chunks:
                self._chunks.write((
                    chunk_id(doc, chunk), doc, chunk.ordinal, chunk.text, chunk.token_count, chunk.content_hash,
                    self.chunker,
                ))
            self._chunk_count += len(chunks)
            self._tokens += tokens
        self._document(doc, uri, title, content_type, content_hash, obj, DocumentStatus.ACTIVE, change.value,
                       len(chunks), tokens)

    def add_rejected(self, uri: str, doc: str, obj: ListedObject, content_hash: str, reason: str) -> None:
        """A document skipped with ``reason`` (one line, no content): quarantined, and its old chunks removed."""
        self._document(doc, uri, None, None, content_hash, obj, DocumentStatus.REJECTED, "rejected", 0, 0)
        raw = json.dumps({"key": obj.key, "etag": obj.etag, "size": obj.size}, sort_keys=True)
        self._tables["quarantine"].write((uri, obj.etag, reason, raw, self.run_id))
        self._reasons[reason] += 1

    def add_deleted(self, known: KnownDocument) -> None:
        obj = ListedObject(known.source_uri, known.etag, known.size)
        self._document(known.doc_id, known.source_uri, None, None, known.content_hash, obj, DocumentStatus.DELETED,
                       "deleted", 0, 0)

    def close(self) -> StagedDocuments:
        self._close()
        return StagedDocuments(
            parts={name: [str(part) for part in table.parts] for name, table in self._tables.items()},
            row_counts={name: table.rows for name, table in self._tables.items()},
            changes=self._changes,
            rejected_by_reason=self._reasons,
            chunks=self._chunk_count,
            tokens=self._tokens,
        )

    def _document(
        self, doc: str, uri: str, title: str | None, content_type: str | None, content_hash: str, obj: ListedObject,
        status: DocumentStatus, change: str, chunk_count: int, tokens: int,
    ) -> None:
        self._tables["documents"].write((
            doc, uri, title, content_type, content_hash, obj.size, obj.etag, status.value, change,
            self.chunker if status == DocumentStatus.ACTIVE else None, chunk_count, tokens, self.run_id,
        ))
        self._tables["sources"].write((uri,))
        self._changes[change] += 1

    def _close(self) -> None:
        for table in self._tables.values():
            table.close()
