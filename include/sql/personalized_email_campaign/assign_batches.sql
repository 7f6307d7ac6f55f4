-- After select_audience.sql, on the same session: number the customers to write to into batches of
-- batch_size (by CUSTOMER_ID), replace the campaign's assignment with this run's, record customers
-- without recommendations as `skipped` with the reason, and record the run. Ends with the batches
-- (number, customers): the only thing that goes to XCom.
{% import "personalized_email_campaign/_macros.sql" as m %}
USE SCHEMA {{ database }}.MARKETING;

-- Earlier runs' assignments go: a cleared task of an older run then finds nothing to do, and this
-- run covers its customers.
DELETE FROM {{ database }}.MARKETING.CAMPAIGN_AUDIENCE WHERE CAMPAIGN_ID = '{{ campaign_id }}';

INSERT INTO {{ database }}.MARKETING.CAMPAIGN_AUDIENCE (CAMPAIGN_ID, RUN_ID, BATCH_NO, CUSTOMER_ID, SELECTED_AT)
SELECT '{{ campaign_id }}', '{{ run_id }}',
       (FLOOR((ROW_NUMBER() OVER (ORDER BY CUSTOMER_ID) - 1) / {{ batch_size | int }}) + 1)::INTEGER,
       CUSTOMER_ID, CURRENT_TIMESTAMP()
FROM CAMPAIGN_TODO
WHERE HAS_RECOMMENDATIONS;

CREATE OR REPLACE TEMPORARY TABLE CAMPAIGN_SKIPPED AS
SELECT t.CUSTOMER_ID, c.PREFERRED_LANGUAGE, PARSE_JSON('["no recommendations for this customer"]') AS REASONS
FROM CAMPAIGN_TODO AS t
JOIN {{ database }}.RAW.CUSTOMERS AS c ON c.CUSTOMER_ID = t.CUSTOMER_ID
WHERE NOT t.HAS_RECOMMENDATIONS;

MERGE INTO {{ database }}.MARKETING.EMAILS AS e
USING CAMPAIGN_SKIPPED AS s
    ON e.CAMPAIGN_ID = '{{ campaign_id }}' AND e.CUSTOMER_ID = s.CUSTOMER_ID
WHEN MATCHED AND e.STATUS <> 'generated' THEN UPDATE SET
    STATUS = 'skipped', PREFERRED_LANGUAGE = s.PREFERRED_LANGUAGE, REASONS = s.REASONS, SUBJECT = NULL,
    PREHEADER = NULL, BODY = NULL, PRODUCT_IDS = NULL, RUN_ID = '{{ run_id }}', UPDATED_AT = CURRENT_TIMESTAMP()
WHEN NOT MATCHED THEN INSERT (CAMPAIGN_ID, CUSTOMER_ID, STATUS, PREFERRED_LANGUAGE, REASONS, RUN_ID, GENERATED_AT, UPDATED_AT)
VALUES ('{{ campaign_id }}', s.CUSTOMER_ID, 'skipped', s.PREFERRED_LANGUAGE, s.REASONS, '{{ run_id }}',
        CURRENT_TIMESTAMP(), CURRENT_TIMESTAMP());

DELETE FROM {{ database }}.MARKETING.CAMPAIGN_RUNS WHERE CAMPAIGN_ID = '{{ campaign_id }}' AND RUN_ID = '{{ run_id }}';
INSERT INTO {{ database }}.MARKETING.CAMPAIGN_RUNS
    (CAMPAIGN_ID, RUN_ID, MODE, AUDIENCE, ELIGIBLE, TO_GENERATE, SKIPPED, BATCH_SIZE, BATCHES, SELECTED_AT)
SELECT '{{ campaign_id }}', '{{ run_id }}', '{{ mode }}', PARSE_JSON('{{ audience_json }}'), {{ eligible | int }},
       {{ to_generate | int }}, {{ skipped | int }}, {{ batch_size | int }}, {{ batches | int }}, CURRENT_TIMESTAMP();

SELECT BATCH_NO, COUNT(*) AS CUSTOMERS
FROM {{ database }}.MARKETING.CAMPAIGN_AUDIENCE
WHERE CAMPAIGN_ID = '{{ campaign_id }}' AND RUN_ID = '{{ run_id }}'
GROUP BY BATCH_NO
ORDER BY BATCH_NO;
