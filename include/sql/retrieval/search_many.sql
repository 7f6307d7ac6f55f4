-- Top-k chunks of active documents for each of several query vectors in ONE statement (bind
-- parameter query_vectors: a JSON array of vectors; QUERY_NO is the position in it). Ranked by
-- cosine similarity in the warehouse; ties broken by CHUNK_ID.
WITH queries AS (
    SELECT f.INDEX AS QUERY_NO, f.VALUE::ARRAY::VECTOR(FLOAT, {{ dimensions }}) AS QUERY_VECTOR
    FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(query_vectors)s))) AS f
)
SELECT q.QUERY_NO, c.CHUNK_ID, c.DOC_ID, d.SOURCE_URI, d.TITLE, c.ORDINAL, c.TEXT,
       VECTOR_COSINE_SIMILARITY(e.EMBEDDING, q.QUERY_VECTOR) AS SCORE
FROM queries AS q
CROSS JOIN {{ database }}.RAG.{{ table_name }} AS e
JOIN {{ database }}.RAG.CHUNKS AS c ON c.CONTENT_HASH = e.CONTENT_HASH
JOIN {{ database }}.RAG.DOCUMENTS AS d ON d.DOC_ID = c.DOC_ID AND d.STATUS = 'active'
QUALIFY ROW_NUMBER() OVER (PARTITION BY q.QUERY_NO ORDER BY SCORE DESC, c.CHUNK_ID) <= {{ k }}
ORDER BY q.QUERY_NO, SCORE DESC, c.CHUNK_ID
