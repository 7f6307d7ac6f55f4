{#- Shared by the campaign's steps. Values spliced into SQL text here are codes validated by
    include/campaign/config.py (campaign id, run id, language and country codes, statuses), never
    record values. Import with {% import "personalized_email_campaign/_macros.sql" as m %}. -#}

{% macro in_list(values) -%}
{% for value in values %}'{{ value }}'{{ ", " if not loop.last }}{% endfor %}
{%- endmacro %}

{#- Customers of one run's batch whose email is still to write: not in a final status for the campaign. -#}
{% macro batch_customers(database, campaign_id, run_id, batch_no, final_statuses) -%}
SELECT a.CUSTOMER_ID
FROM {{ database }}.MARKETING.CAMPAIGN_AUDIENCE AS a
LEFT JOIN {{ database }}.MARKETING.EMAILS AS e
    ON e.CAMPAIGN_ID = a.CAMPAIGN_ID AND e.CUSTOMER_ID = a.CUSTOMER_ID
WHERE a.CAMPAIGN_ID = '{{ campaign_id }}' AND a.RUN_ID = '{{ run_id }}' AND a.BATCH_NO = {{ batch_no | int }}
  AND (e.STATUS IS NULL OR e.STATUS NOT IN ({{ in_list(final_statuses) }}))
{%- endmacro %}

{#- The latest recommendations (AS_OF_DATE) of each customer of a set, given as a SELECT of CUSTOMER_ID. -#}
{% macro latest_recommendations(database, customers) -%}
SELECT r.CUSTOMER_ID, r.RANK, r.PRODUCT_ID, r.REASON_CODE
FROM {{ database }}.ANALYTICS.RECOMMENDATIONS AS r
JOIN (
    SELECT r2.CUSTOMER_ID, MAX(r2.AS_OF_DATE) AS AS_OF_DATE
    FROM {{ database }}.ANALYTICS.RECOMMENDATIONS AS r2
    WHERE r2.CUSTOMER_ID IN ({{ customers }})
    GROUP BY r2.CUSTOMER_ID
) AS l ON l.CUSTOMER_ID = r.CUSTOMER_ID AND l.AS_OF_DATE = r.AS_OF_DATE
{%- endmacro %}
