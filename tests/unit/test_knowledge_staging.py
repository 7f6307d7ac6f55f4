"""The staged CSV files of one document_ingest batch (include/knowledge/staging.py)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from include.knowledge.chunking import Chunk, chunk_id
from include.knowledge.staging import CHUNK_COLUMNS, DOCUMENT_COLUMNS, DocumentBatchWriter
from include.knowledge.sync import Change, DocumentStatus, KnownDocument, ListedObject

CHUNKER = "tiktoken:cl100k_base/max=512/overlap=64/v1"


def read(paths: list[str], columns: tuple[str, ...]) -> list[dict[str, str]]:
    rows = []
    for path in paths:
        with open(path, newline="", encoding="utf-8") as f:
            rows += [dict(zip(columns, row)) for row in csv.reader(f)]
    return rows


def chunk(ordinal: int, text: str) -> Chunk:
    import hashlib

    return Chunk(ordinal, text, 5, hashlib.sha256(text.encode()).hexdigest())


def test_a_batch_stages_documents_chunks_quarantine_and_sources(tmp_path: Path) -> None:
    chunks = [chunk(0, 'Line one, with "quotes"\nand a second line'), chunk(1, "Grüße \\N not null")]
    with DocumentBatchWriter(tmp_path, "run-1", CHUNKER) as writer:
        writer.add_document("s3://b/documents/a.md", "doc-a", ListedObject("documents/a.md", "e1", 10), "h-a",
                            Change.NEW, "Title", "text/markdown", chunks)
        writer.add_document("s3://b/documents/t.md", "doc-t", ListedObject("documents/t.md", "e2", 10), "h-t",
                            Change.TOUCHED, None, None, [chunk(0, "ignored")])
        writer.add_rejected("s3://b/documents/x.docx", "doc-x", ListedObject("documents/x.docx", "e3", 3), "unread",
                            "unsupported type .docx")
        writer.add_deleted(KnownDocument("doc-d", "s3://b/documents/d.md", "e4", 7, "h-d", CHUNKER, DocumentStatus.ACTIVE))
        staged = writer.close()

    assert staged.row_counts == {"chunks": 2, "documents": 4, "quarantine": 1, "sources": 4}
    assert dict(staged.changes) == {"new": 1, "touched": 1, "rejected": 1, "deleted": 1}
    assert (staged.chunks, staged.tokens) == (2, 10)
    staged_chunks = read(staged.parts["chunks"], CHUNK_COLUMNS)
    assert [r["TEXT"] for r in staged_chunks] == [c.text for c in chunks]  # commas, quotes, newlines survive
    assert [r["CHUNK_ID"] for r in staged_chunks] == [chunk_id("doc-a", c) for c in chunks]
    documents = {r["DOC_ID"]: r for r in read(staged.parts["documents"], DOCUMENT_COLUMNS)}
    assert (documents["doc-a"]["STATUS"], documents["doc-a"]["CHUNK_COUNT"], documents["doc-a"]["CHUNKER"]) == (
        "active", "2", CHUNKER)
    assert (documents["doc-x"]["STATUS"], documents["doc-d"]["CHANGE"], documents["doc-t"]["CHANGE"]) == (
        "rejected", "deleted", "touched")
    [quarantined] = read(staged.parts["quarantine"], ("SOURCE", "RECORD_KEY", "REASON", "RAW_RECORD", "RUN_ID"))
    assert quarantined["REASON"] == "unsupported type .docx" and quarantined["RECORD_KEY"] == "e3"
    assert json.loads(quarantined["RAW_RECORD"]) == {"key": "documents/x.docx", "etag": "e3", "size": 3}
