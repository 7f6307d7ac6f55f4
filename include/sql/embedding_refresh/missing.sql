-- The difference, computed in the warehouse: each distinct chunk text with no embedding in this set.
-- Only these rows (hash and text) leave Snowflake; the texts are company documents, not customer data.
{%- if count_only | default(false) %}
SELECT COUNT(DISTINCT c.CONTENT_HASH)
{%- else %}
SELECT c.CONTENT_HASH, MIN(c.TEXT) AS TEXT
{%- endif %}
FROM {{ database }}.RAG.CHUNKS AS c
LEFT JOIN {{ database }}.RAG.{{ table_name }} AS e ON e.CONTENT_HASH = c.CONTENT_HASH
WHERE e.CONTENT_HASH IS NULL
{%- if not count_only | default(false) %}
GROUP BY c.CONTENT_HASH
ORDER BY c.CONTENT_HASH
{%- endif %}
