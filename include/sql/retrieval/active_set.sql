-- The embedding set retrieval reads: the one embedding_refresh activated last (at most one row).
SELECT SET_NAME, MODEL_ID, DIMENSIONS, TABLE_NAME
FROM {{ database }}.RAG.EMBEDDING_SETS
WHERE STATUS = 'active'
