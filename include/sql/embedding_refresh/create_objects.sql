-- Objects embedding_refresh reads and writes. Idempotent: runs first in every run. Parameters:
-- database, table_name (RAG.EMB_<MODEL>_<DIMS>, an identifier built by include/knowledge/embedding.py)
-- and dimensions (256, 512 or 1024).
{#- the chunks may not exist yet if this DAG runs before document_ingest ever did -#}
{% include "document_ingest/create_objects.sql" %}

-- Which embedding sets exist and which one retrieval reads (STATUS = 'active'; at most one).
CREATE TABLE IF NOT EXISTS {{ database }}.RAG.EMBEDDING_SETS (
    SET_NAME     VARCHAR       NOT NULL PRIMARY KEY,  -- e.g. AMAZON_TITAN_EMBED_TEXT_V2_0_1024
    MODEL_ID     VARCHAR       NOT NULL,
    DIMENSIONS   NUMBER        NOT NULL,
    TABLE_NAME   VARCHAR       NOT NULL,              -- in schema RAG
    STATUS       VARCHAR       NOT NULL,              -- building | active | retired | dropped
    CREATED_AT   TIMESTAMP_LTZ NOT NULL,
    ACTIVATED_AT TIMESTAMP_LTZ,
    RETIRED_AT   TIMESTAMP_LTZ
);

-- One embedding per distinct chunk text for this (model, dimensions). Chunks find theirs by
-- CONTENT_HASH, so identical text is embedded once and an edit re-embeds only what changed.
CREATE TABLE IF NOT EXISTS {{ database }}.RAG.{{ table_name }} (
    CONTENT_HASH VARCHAR(64)                      NOT NULL PRIMARY KEY,
    EMBEDDING    VECTOR(FLOAT, {{ dimensions }})  NOT NULL,
    INPUT_TOKENS NUMBER,                                    -- as counted by the model
    EMBEDDED_AT  TIMESTAMP_LTZ                    NOT NULL
);

CREATE STAGE IF NOT EXISTS {{ database }}.RAG.EMBEDDINGS_STAGE
    COMMENT = 'embedding_refresh: embeddings on their way to RAG.EMB_* tables';
