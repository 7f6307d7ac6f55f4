-- Objects document_ingest writes to. Idempotent: runs first in every run.
CREATE SCHEMA IF NOT EXISTS {{ database }}.RAG;
CREATE SCHEMA IF NOT EXISTS {{ database }}.OPS;

-- One row per source object ever seen under documents/ (S3 is the source of truth; this mirrors it).
CREATE TABLE IF NOT EXISTS {{ database }}.RAG.DOCUMENTS (
    DOC_ID        VARCHAR       NOT NULL PRIMARY KEY,  -- sha256 of SOURCE_URI (32 hex): stable across edits
    SOURCE_URI    VARCHAR       NOT NULL,              -- s3://bucket/documents/...
    TITLE         VARCHAR,                             -- from the document (heading, <title>, PDF metadata)
    CONTENT_TYPE  VARCHAR,                             -- text/plain | text/markdown | text/html | application/pdf
    CONTENT_HASH  VARCHAR(64)   NOT NULL,              -- sha256 of the bytes: what decides "changed"
    SIZE_BYTES    NUMBER        NOT NULL,
    ETAG          VARCHAR       NOT NULL,              -- of the version last read (a shortcut, never the decision)
    STATUS        VARCHAR       NOT NULL,              -- active | rejected (see OPS.QUARANTINE) | deleted
    DELETED       BOOLEAN       NOT NULL,              -- STATUS = 'deleted'
    CHUNKER       VARCHAR,                             -- chunker configuration of the current chunks
    CHUNK_COUNT   NUMBER        NOT NULL,
    TOKEN_COUNT   NUMBER        NOT NULL,              -- tokens in its chunks (overlaps counted twice)
    FIRST_SEEN_AT TIMESTAMP_LTZ NOT NULL,
    UPDATED_AT    TIMESTAMP_LTZ NOT NULL,              -- content, status or ETag last changed
    DELETED_AT    TIMESTAMP_LTZ,
    RUN_ID        VARCHAR       NOT NULL               -- the Airflow run of the last change
);

-- The chunks of every active document. Replaced per changed document, in one transaction with the
-- document row, so a reader never sees a document half re-chunked.
CREATE TABLE IF NOT EXISTS {{ database }}.RAG.CHUNKS (
    CHUNK_ID     VARCHAR       NOT NULL PRIMARY KEY,  -- sha256(doc id, ordinal, content hash), 32 hex
    DOC_ID       VARCHAR       NOT NULL,
    ORDINAL      NUMBER        NOT NULL,              -- 0-based position in the document
    TEXT         VARCHAR       NOT NULL,
    TOKEN_COUNT  NUMBER        NOT NULL,              -- tiktoken tokens, <= the chunker's max_tokens
    CONTENT_HASH VARCHAR(64)   NOT NULL,              -- sha256 of TEXT: embeddings are keyed on it
    CHUNKER      VARCHAR       NOT NULL,              -- e.g. tiktoken:cl100k_base/max=512/overlap=64/v1
    CREATED_AT   TIMESTAMP_LTZ NOT NULL
);

{% include "shared/quarantine_table.sql" %}

-- Internal stage for bulk loads; files are purged by the COPY that reads them.
CREATE STAGE IF NOT EXISTS {{ database }}.RAG.DOCUMENTS_STAGE
    COMMENT = 'document_ingest: extracted documents and chunks on their way to RAG.DOCUMENTS and RAG.CHUNKS';
