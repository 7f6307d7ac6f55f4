-- The campaign's retrieved company chunks for the products recommended to one batch's customers
-- (chunks of documents deleted or changed since retrieval are gone: the join drops them).
{% import "personalized_email_campaign/_macros.sql" as m %}
{%- set customers = m.batch_customers(database, campaign_id, run_id, batch_no, final_statuses) %}
SELECT x.PRODUCT_ID, x.CHUNK_ID, x.SCORE, d.TITLE, d.SOURCE_URI, c.TEXT
FROM {{ database }}.MARKETING.CAMPAIGN_CONTEXT AS x
JOIN {{ database }}.RAG.CHUNKS AS c ON c.CHUNK_ID = x.CHUNK_ID
JOIN {{ database }}.RAG.DOCUMENTS AS d ON d.DOC_ID = c.DOC_ID AND d.STATUS = 'active'
WHERE x.CAMPAIGN_ID = '{{ campaign_id }}'
  AND x.PRODUCT_ID IN (SELECT DISTINCT PRODUCT_ID FROM ({{ m.latest_recommendations(database, customers) }}) AS r)
ORDER BY x.PRODUCT_ID, x.RANK
