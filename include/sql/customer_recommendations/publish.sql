-- Replace the as-of date's recommendations with the session's REC_TOP5 (compute.sql), atomically:
-- readers see the old five or the new five per customer, never none or both, and a re-run for the
-- same date leaves exactly one set. Parameters: database, as_of_date ('YYYY-MM-DD'), run_id
-- (validated by include/recommendations/config.py). The operator rolls back if a statement fails.
USE SCHEMA {{ database }}.ANALYTICS;

BEGIN;

DELETE FROM {{ database }}.ANALYTICS.RECOMMENDATIONS
WHERE AS_OF_DATE = '{{ as_of_date }}'::DATE;

INSERT INTO {{ database }}.ANALYTICS.RECOMMENDATIONS
    (AS_OF_DATE, CUSTOMER_ID, RANK, PRODUCT_ID, SCORE, REASON_CODE, RUN_ID, COMPUTED_AT)
SELECT '{{ as_of_date }}'::DATE, CUSTOMER_ID, RANK, PRODUCT_ID, SCORE, REASON_CODE, '{{ run_id }}', CURRENT_TIMESTAMP()
FROM REC_TOP5;

COMMIT;
