-- The run's audience, computed in Snowflake: consenting customers matching the filter, the first
-- max_customers of them by CUSTOMER_ID, minus those whose email for this campaign is final
-- (generated, and needs_review unless the run redoes them). Ends with one row of counts; the
-- operator plans the batches from it and runs assign_batches.sql on the same session.
{% import "personalized_email_campaign/_macros.sql" as m %}
USE SCHEMA {{ database }}.MARKETING;

CREATE OR REPLACE TEMPORARY TABLE CAMPAIGN_ELIGIBLE AS
SELECT DISTINCT c.CUSTOMER_ID
FROM {{ database }}.RAW.CUSTOMERS AS c
WHERE c.MARKETING_CONSENT = TRUE
{% if languages %}
  AND (LOWER(REPLACE(c.PREFERRED_LANGUAGE, '_', '-')) IN ({{ m.in_list(languages) }})
       OR LOWER(SPLIT_PART(REPLACE(c.PREFERRED_LANGUAGE, '_', '-'), '-', 1)) IN ({{ m.in_list(languages) }}))
{% endif %}
{% if countries %}
  AND UPPER(c.COUNTRY) IN ({{ m.in_list(countries) }})
{% endif %}
ORDER BY c.CUSTOMER_ID
{% if max_customers %}
LIMIT {{ max_customers | int }}
{% endif %};

-- a join, not a correlated EXISTS in the select list: Snowflake refuses most of those
CREATE OR REPLACE TEMPORARY TABLE CAMPAIGN_TODO AS
SELECT x.CUSTOMER_ID, r.CUSTOMER_ID IS NOT NULL AS HAS_RECOMMENDATIONS
FROM CAMPAIGN_ELIGIBLE AS x
LEFT JOIN (SELECT DISTINCT CUSTOMER_ID FROM {{ database }}.ANALYTICS.RECOMMENDATIONS) AS r
    ON r.CUSTOMER_ID = x.CUSTOMER_ID
LEFT JOIN {{ database }}.MARKETING.EMAILS AS e
    ON e.CAMPAIGN_ID = '{{ campaign_id }}' AND e.CUSTOMER_ID = x.CUSTOMER_ID
WHERE e.STATUS IS NULL OR e.STATUS NOT IN ({{ m.in_list(final_statuses) }});

SELECT (SELECT COUNT(*) FROM CAMPAIGN_ELIGIBLE) AS ELIGIBLE,
       COUNT_IF(HAS_RECOMMENDATIONS) AS TO_GENERATE,
       COUNT_IF(NOT HAS_RECOMMENDATIONS) AS WITHOUT_RECOMMENDATIONS
FROM CAMPAIGN_TODO;
