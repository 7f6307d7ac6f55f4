-- Embeddings of chunk texts that no chunk has any more (documents edited or deleted).
DELETE FROM {{ database }}.RAG.{{ table_name }} AS e
WHERE NOT EXISTS (SELECT 1 FROM {{ database }}.RAG.CHUNKS AS c WHERE c.CONTENT_HASH = e.CONTENT_HASH);
