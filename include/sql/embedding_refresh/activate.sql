-- The set is complete (every chunk text has an embedding): make it the one retrieval reads, in one
-- UPDATE (the previous active set is retired by the same statement, so there is never zero or two),
-- then point the RAG.CHUNK_EMBEDDINGS view at it. Parameters: set_name, table_name (identifiers),
-- model_id (validated by include/knowledge/embedding.py: no quotes), dimensions.
UPDATE {{ database }}.RAG.EMBEDDING_SETS
SET STATUS       = IFF(SET_NAME = '{{ set_name }}', 'active', 'retired'),
    ACTIVATED_AT = IFF(SET_NAME = '{{ set_name }}', CURRENT_TIMESTAMP(), ACTIVATED_AT),
    RETIRED_AT   = IFF(SET_NAME = '{{ set_name }}', NULL, CURRENT_TIMESTAMP())
WHERE SET_NAME = '{{ set_name }}' OR STATUS = 'active';

-- For people and tools: one row per chunk with its embedding in the active set.
CREATE OR REPLACE VIEW {{ database }}.RAG.CHUNK_EMBEDDINGS
    COMMENT = 'Chunks with their embedding in the active set (see RAG.EMBEDDING_SETS); kept by embedding_refresh'
AS
SELECT c.CHUNK_ID, c.DOC_ID, c.CONTENT_HASH, '{{ model_id }}' AS MODEL_ID, {{ dimensions }} AS DIMENSIONS, e.EMBEDDING
FROM {{ database }}.RAG.CHUNKS AS c
JOIN {{ database }}.RAG.{{ table_name }} AS e ON e.CONTENT_HASH = c.CONTENT_HASH;
