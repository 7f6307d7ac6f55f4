-- Top-k chunks of active documents for one query vector (bind parameter query_vector: a JSON array),
-- by cosine similarity in the warehouse. Ties are broken by CHUNK_ID, so results are deterministic.
-- Chunks not embedded yet (just ingested) are not found until embedding_refresh has run; chunks of
-- deleted documents are gone at once.
SELECT c.CHUNK_ID, c.DOC_ID, d.SOURCE_URI, d.TITLE, c.ORDINAL, c.TEXT,
       VECTOR_COSINE_SIMILARITY(e.EMBEDDING, PARSE_JSON(%(query_vector)s)::ARRAY::VECTOR(FLOAT, {{ dimensions }})) AS SCORE
FROM {{ database }}.RAG.{{ table_name }} AS e
JOIN {{ database }}.RAG.CHUNKS AS c ON c.CONTENT_HASH = e.CONTENT_HASH
JOIN {{ database }}.RAG.DOCUMENTS AS d ON d.DOC_ID = c.DOC_ID AND d.STATUS = 'active'
ORDER BY SCORE DESC, c.CHUNK_ID
LIMIT {{ k }}
