-- The recommended products of this run's audience (latest recommendations) that have no retrieved
-- company context for the campaign yet, with what the retrieval query is built from.
{% import "personalized_email_campaign/_macros.sql" as m %}
{%- set audience -%}
SELECT a.CUSTOMER_ID FROM {{ database }}.MARKETING.CAMPAIGN_AUDIENCE AS a
WHERE a.CAMPAIGN_ID = '{{ campaign_id }}' AND a.RUN_ID = '{{ run_id }}'
{%- endset %}
SELECT p.PRODUCT_ID, p.PRODUCT_NAME, p.CATEGORY, p.SUB_CATEGORY
FROM (SELECT DISTINCT PRODUCT_ID FROM ({{ m.latest_recommendations(database, audience) }}) AS r) AS d
JOIN {{ database }}.RAW.PRODUCTS AS p ON p.PRODUCT_ID = d.PRODUCT_ID
WHERE NOT EXISTS (
    SELECT 1 FROM {{ database }}.MARKETING.CAMPAIGN_CONTEXT AS x
    WHERE x.CAMPAIGN_ID = '{{ campaign_id }}' AND x.PRODUCT_ID = p.PRODUCT_ID
)
ORDER BY p.PRODUCT_ID
