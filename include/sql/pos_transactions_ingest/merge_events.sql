-- Classify every staged event against this batch and bronze, then insert the new ones.
--   new:       EVENT_ID not in bronze, first occurrence in the batch (files in key order, then line)
--   duplicate: the same content (RECORD_HASH) as bronze or as the batch's first occurrence
--   conflict:  the same EVENT_ID with other content: quarantined, never applied, so bronze keeps the
--              version loaded first and a backfill cannot rewrite history
-- Set-based, so the check costs the same whatever the batch size and needs no memory in the task.
USE SCHEMA {{ database }}.RAW;

CREATE OR REPLACE TEMPORARY TABLE POS_CLASSIFIED AS
SELECT
    s.*,
    CASE
        WHEN b.RECORD_HASH IS NOT NULL AND b.RECORD_HASH <> s.RECORD_HASH THEN 'conflict'
        WHEN b.RECORD_HASH IS NOT NULL THEN 'duplicate'
        WHEN s.RECORD_HASH <> s.FIRST_HASH THEN 'conflict'
        WHEN s.OCCURRENCE > 1 THEN 'duplicate'
        ELSE 'new'
    END AS OUTCOME
FROM (
    SELECT
        i.*,
        ROW_NUMBER() OVER (PARTITION BY i.EVENT_ID ORDER BY i.SOURCE_FILE, i.LINE_NUMBER) AS OCCURRENCE,
        FIRST_VALUE(i.RECORD_HASH) OVER (PARTITION BY i.EVENT_ID ORDER BY i.SOURCE_FILE, i.LINE_NUMBER) AS FIRST_HASH
    FROM POS_INCOMING AS i
) AS s
LEFT JOIN {{ database }}.RAW.POS_TRANSACTIONS AS b ON b.EVENT_ID = s.EVENT_ID;

MERGE INTO {{ database }}.RAW.POS_TRANSACTIONS AS t
USING (
    SELECT EVENT_ID, EVENT_TS, CUSTOMER_ID, CHANNEL, STORE_ID, CURRENCY, PAYMENT_TYPE,
           PARSE_JSON(ITEMS) AS ITEMS, PARSE_JSON(RAW_RECORD) AS RAW_RECORD, RECORD_HASH, SOURCE_FILE
    FROM POS_CLASSIFIED
    WHERE OUTCOME = 'new'
) AS s
    ON t.EVENT_ID = s.EVENT_ID
WHEN NOT MATCHED THEN INSERT (
    EVENT_ID, EVENT_TS, CUSTOMER_ID, CHANNEL, STORE_ID, CURRENCY, PAYMENT_TYPE, ITEMS, RAW_RECORD,
    RECORD_HASH, SOURCE_FILE, LOADED_AT
) VALUES (
    s.EVENT_ID, s.EVENT_TS, s.CUSTOMER_ID, s.CHANNEL, s.STORE_ID, s.CURRENCY, s.PAYMENT_TYPE, s.ITEMS, s.RAW_RECORD,
    s.RECORD_HASH, s.SOURCE_FILE, CURRENT_TIMESTAMP()
);
