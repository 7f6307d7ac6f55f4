-- Stage one flush of embeddings (CONTENT_HASH, vector as JSON text, input tokens) and insert it into
-- the set's table on CONTENT_HASH: a retry that embeds a text again inserts nothing twice.
{% import "shared/stage.sql" as stage %}
{%- set stage_name = database ~ ".RAG.EMBEDDINGS_STAGE" %}
USE SCHEMA {{ database }}.RAG;

CREATE OR REPLACE TEMPORARY TABLE EMBEDDINGS_INCOMING (CONTENT_HASH VARCHAR, EMBEDDING_JSON VARCHAR, INPUT_TOKENS NUMBER);
{{ stage.put(file, stage_name, stage_path) }}
{{ stage.copy_csv("EMBEDDINGS_INCOMING", stage_name, stage_path ~ "/") }}

-- Insert-if-absent on CONTENT_HASH (the operator writes each hash once per flush: missing.sql groups
-- by it; one refresh runs at a time). A plain INSERT ... WHERE NOT EXISTS rather than a MERGE: the
-- stand-in's MERGE cannot carry an expression over a source column (PARSE_JSON(s.x)) into its INSERT.
INSERT INTO {{ database }}.RAG.{{ table_name }} (CONTENT_HASH, EMBEDDING, INPUT_TOKENS, EMBEDDED_AT)
SELECT s.CONTENT_HASH, PARSE_JSON(s.EMBEDDING_JSON)::ARRAY::VECTOR(FLOAT, {{ dimensions }}), s.INPUT_TOKENS, CURRENT_TIMESTAMP()
FROM EMBEDDINGS_INCOMING AS s
WHERE NOT EXISTS (SELECT 1 FROM {{ database }}.RAG.{{ table_name }} AS t WHERE t.CONTENT_HASH = s.CONTENT_HASH);
