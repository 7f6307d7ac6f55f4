"""Mirror company documents from S3 (``documents/**``) into RAG.DOCUMENTS and RAG.CHUNKS.

Hooks, settings and SQL steps come from S3ToSnowflakeOperator (operators/snowflake_steps.py); change
detection, extraction, chunking and staging from include/knowledge/. Those are imported when the
task runs: tiktoken and pypdf must not load when the DAG file is parsed.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from contextlib import closing
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from genai_personalization.operators.snowflake_steps import S3ToSnowflakeOperator
from genai_personalization.sql import render_sql

if TYPE_CHECKING:
    from airflow.sdk import Context

    from include.knowledge.chunking import Chunker, ChunkerConfig
    from include.knowledge.staging import DocumentBatchWriter
    from include.knowledge.sync import KnownDocument, ListedObject

DAG_SQL = "document_ingest"
UNREAD = "unread"  # CONTENT_HASH of a document rejected from its listing alone


class DocumentIngestOperator(S3ToSnowflakeOperator):
    """Bring RAG.DOCUMENTS and RAG.CHUNKS in step with the documents under ``prefix`` in the landing bucket.

    Lists the prefix and reads RAG.DOCUMENTS' metadata for it (one query). A listed object with the
    recorded ETag, size and chunker configuration is skipped unread; every other one is downloaded and
    hashed, and decided by its content hash: new, changed (extracted, chunked with tiktoken, its
    chunks replaced), touched (same bytes under a new ETag: only the ETag is recorded) or rejected
    (unsupported type, empty, undecodable, binary, unreadable PDF or over ``max_document_bytes``: a row
    in OPS.QUARANTINE with the reason, and any old chunks removed). A recorded document that is no
    longer listed is marked deleted and its chunks removed. All changes of a run are applied in one
    transaction. Returns (and logs) counts; never document text.

    :param prefix: where the documents are (templated), default ``documents/``
    :param max_document_bytes: larger objects are rejected unread; default GENAI_DOCUMENT_MAX_BYTES or 10 MiB
    :param chunker_config: default from GENAI_CHUNK_ENCODING / GENAI_CHUNK_MAX_TOKENS / GENAI_CHUNK_OVERLAP_TOKENS
    """

    template_fields: Sequence[str] = (*S3ToSnowflakeOperator.template_fields, "prefix")
    dag_sql = DAG_SQL

    def __init__(
        self, *, prefix: str = "documents/", max_document_bytes: int | None = None,
        chunker_config: ChunkerConfig | None = None, **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.prefix = prefix
        self.max_document_bytes = max_document_bytes
        self.chunker_config = chunker_config

    def execute(self, context: Context) -> dict[str, Any]:
        from include.knowledge.chunking import Chunker, ChunkerConfig
        from include.knowledge.staging import DocumentBatchWriter
        from include.knowledge.sync import ListedObject, is_document_key, plan_sync, source_uri

        bucket = self.resolve_bucket()
        database = self.resolve_database()
        try:
            config = self.chunker_config or ChunkerConfig.from_env()
            max_bytes = self._max_bytes()
        except ValueError as e:
            raise AirflowFailException(str(e)) from e
        chunker = Chunker(config)
        listed = [
            ListedObject.of(obj["Key"], obj["ETag"], obj["Size"])
            for obj in self.s3_hook.iter_file_metadata(prefix=self.prefix, bucket_name=bucket)
            if is_document_key(obj["Key"], self.prefix)
        ]
        with closing(self.snowflake_hook.get_conn()) as conn:
            self.run_step(conn, "create_objects", {"database": database})
            known = self._known_documents(conn, database, source_uri(bucket, self.prefix))
            plan = plan_sync(bucket, listed, known.values(), config.describe())
            self.log.info(
                "%d document(s) under s3://%s/%s: %d to read, %d unchanged, %d deleted",
                len(listed), bucket, self.prefix, len(plan.to_read), len(plan.unchanged), len(plan.deleted),
            )
            summary: dict[str, Any] = {"listed": len(listed), "unchanged": len(plan.unchanged), "read": len(plan.to_read),
                                       "new": 0, "changed": 0, "touched": 0, "rejected": 0, "deleted": 0,
                                       "chunks_written": 0, "chunk_tokens_written": 0, "rejected_by_reason": {}}
            if plan.to_read or plan.deleted:
                with self.staging_folder(prefix="documents-") as folder:
                    with DocumentBatchWriter(folder, str(context["run_id"]), config.describe()) as writer:
                        for obj in plan.to_read:
                            uri = source_uri(bucket, obj.key)
                            self._read_document(writer, bucket, obj, uri, known.get(uri), chunker, max_bytes)
                        for doc in plan.deleted:
                            writer.add_deleted(doc)
                        staged = writer.close()
                    params = {"database": database, "stage_path": uuid.uuid4().hex, "parts": staged.parts}
                    self.run_step(conn, "stage_batch", params)
                    self.run_step(conn, "apply_changes", params)
                    self.run_step(conn, "merge_quarantine", params)
                summary.update({change: staged.changes.get(change, 0) for change in ("new", "changed", "touched", "rejected", "deleted")})
                summary.update(chunks_written=staged.chunks, chunk_tokens_written=staged.tokens,
                               rejected_by_reason=dict(sorted(staged.rejected_by_reason.items())))
        self.log.info("document ingest summary: %s", json.dumps(summary, sort_keys=True))
        return summary

    def _max_bytes(self) -> int:
        from include.knowledge.extract import DEFAULT_MAX_BYTES

        if self.max_document_bytes is not None:
            value = int(self.max_document_bytes)
        else:
            raw = os.environ.get("GENAI_DOCUMENT_MAX_BYTES", "").strip()
            if raw and not raw.isdigit():
                raise ValueError(f"GENAI_DOCUMENT_MAX_BYTES must be a whole number of bytes, got {raw!r}")
            value = int(raw) if raw else DEFAULT_MAX_BYTES
        if value < 1:
            raise ValueError(f"the document size limit must be at least 1 byte, got {value}")
        return value

    def _known_documents(self, conn: Any, database: str, uri_prefix: str) -> dict[str, KnownDocument]:
        from include.knowledge.sync import DocumentStatus, KnownDocument

        with closing(conn.cursor()) as cursor:
            cursor.execute(render_sql(DAG_SQL, "known_documents", database=database), {"uri_prefix": uri_prefix})
            return {
                row[1]: KnownDocument(row[0], row[1], row[2], int(row[3]), row[4], row[5], DocumentStatus(row[6]))
                for row in cursor.fetchall()
            }

    def _read_document(
        self, writer: DocumentBatchWriter, bucket: str, obj: ListedObject, uri: str, known: KnownDocument | None,
        chunker: Chunker, max_bytes: int,
    ) -> None:
        from include.knowledge.extract import DocumentRejected, extract, precheck
        from include.knowledge.sync import Change, ListedObject, classify_content, content_hash, doc_id

        doc = doc_id(uri)
        reason = precheck(obj.key, obj.size, max_bytes=max_bytes)
        if reason is not None:  # too large, unsupported or empty: the listing tells, no download needed
            writer.add_rejected(uri, doc, obj, UNREAD, reason)
            self.log.info("%s: rejected unread (%s)", obj.key, reason)
            return
        response = self.s3_hook.get_conn().get_object(Bucket=bucket, Key=obj.key)
        try:
            data = response["Body"].read()
        finally:
            response["Body"].close()
        # record the version actually read, which may be newer than the listing
        obj = ListedObject.of(obj.key, response["ETag"], len(data))
        digest = content_hash(data)
        change = classify_content(known, digest, writer.chunker)
        if change == Change.TOUCHED:
            writer.add_document(uri, doc, obj, digest, change, None, None, [])
            self.log.info("%s: same content under a new ETag", obj.key)
            return
        try:
            extracted = extract(obj.key, data, max_bytes=max_bytes)
        except DocumentRejected as e:
            writer.add_rejected(uri, doc, obj, digest, e.reason)
            self.log.info("%s: rejected (%s)", obj.key, e.reason)
            return
        chunks = chunker.chunk(extracted.text)
        writer.add_document(uri, doc, obj, digest, change, extracted.title, extracted.content_type, chunks)
        self.log.info("%s: %s, %d chunk(s)", obj.key, change.value, len(chunks))
