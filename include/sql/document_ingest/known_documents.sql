-- What RAG.DOCUMENTS recorded for the sources under one S3 prefix (metadata only, no text).
SELECT DOC_ID, SOURCE_URI, ETAG, SIZE_BYTES, CONTENT_HASH, COALESCE(CHUNKER, ''), STATUS
FROM {{ database }}.RAG.DOCUMENTS
WHERE STARTSWITH(SOURCE_URI, %(uri_prefix)s)
