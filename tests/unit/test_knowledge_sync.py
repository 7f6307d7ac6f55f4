"""Change detection for document_ingest: what is read, skipped, touched, re-chunked or deleted."""

from __future__ import annotations

from include.knowledge.sync import (
    Change, DocumentStatus, KnownDocument, ListedObject, classify_content, content_hash, doc_id, is_document_key,
    plan_sync, source_uri,
)

BUCKET = "landing"
CHUNKER = "tiktoken:cl100k_base/max=512/overlap=64/v1"


def known(key: str, etag: str = "e1", size: int = 10, digest: str = "h1", chunker: str = CHUNKER,
          status: DocumentStatus = DocumentStatus.ACTIVE) -> KnownDocument:
    uri = source_uri(BUCKET, key)
    return KnownDocument(doc_id(uri), uri, etag, size, digest, chunker, status)


def test_same_etag_size_and_chunker_is_skipped_unread() -> None:
    plan = plan_sync(BUCKET, [ListedObject.of("documents/a.md", '"e1"', 10)], [known("documents/a.md")], CHUNKER)
    assert plan.unchanged == (ListedObject("documents/a.md", "e1", 10),)
    assert plan.to_read == () and plan.deleted == ()


def test_new_etag_new_object_or_new_chunker_is_read() -> None:
    listed = [ListedObject.of("documents/a.md", "e2", 10), ListedObject.of("documents/b.md", "x", 5),
              ListedObject.of("documents/c.md", "e1", 10)]
    docs = [known("documents/a.md"), known("documents/c.md", chunker="tiktoken:cl100k_base/max=256/overlap=32/v1")]
    plan = plan_sync(BUCKET, listed, docs, CHUNKER)
    assert [o.key for o in plan.to_read] == ["documents/a.md", "documents/b.md", "documents/c.md"]


def test_rejected_document_is_skipped_until_its_bytes_change_whatever_the_chunker() -> None:
    doc = known("documents/bad.docx", chunker="", status=DocumentStatus.REJECTED)
    same = plan_sync(BUCKET, [ListedObject.of("documents/bad.docx", "e1", 10)], [doc], CHUNKER)
    changed = plan_sync(BUCKET, [ListedObject.of("documents/bad.docx", "e9", 12)], [doc], CHUNKER)
    assert same.unchanged and not same.to_read
    assert changed.to_read and not changed.unchanged


def test_missing_objects_are_deleted_once() -> None:
    docs = [known("documents/gone.md"), known("documents/old.md", status=DocumentStatus.DELETED)]
    plan = plan_sync(BUCKET, [], docs, CHUNKER)
    assert [d.source_uri for d in plan.deleted] == [source_uri(BUCKET, "documents/gone.md")]


def test_a_deleted_document_that_comes_back_is_read_again() -> None:
    doc = known("documents/back.md", status=DocumentStatus.DELETED)
    plan = plan_sync(BUCKET, [ListedObject.of("documents/back.md", "e1", 10)], [doc], CHUNKER)
    assert [o.key for o in plan.to_read] == ["documents/back.md"]
    assert classify_content(doc, "h1", CHUNKER) == Change.NEW


def test_content_hash_decides_after_download() -> None:
    doc = known("documents/a.md", digest=content_hash(b"same bytes"))
    assert classify_content(None, "h", CHUNKER) == Change.NEW
    assert classify_content(doc, content_hash(b"same bytes"), CHUNKER) == Change.TOUCHED
    assert classify_content(doc, content_hash(b"other bytes"), CHUNKER) == Change.CHANGED
    assert classify_content(doc, content_hash(b"same bytes"), "tiktoken:o200k_base/max=512/overlap=64/v1") == Change.CHANGED
    rejected = known("documents/a.md", digest=content_hash(b"same bytes"), status=DocumentStatus.REJECTED)
    assert classify_content(rejected, content_hash(b"same bytes"), CHUNKER) == Change.CHANGED


def test_document_keys_and_ids() -> None:
    assert is_document_key("documents/about/story.md", "documents/")
    assert not is_document_key("documents/about/", "documents/")
    assert not is_document_key("documents/.keep", "documents/")
    assert not is_document_key("catalog/products.csv", "documents/")
    uri = source_uri(BUCKET, "documents/a.md")
    assert doc_id(uri) == doc_id(uri) and len(doc_id(uri)) == 32
    assert doc_id(uri) != doc_id(source_uri(BUCKET, "documents/b.md"))
