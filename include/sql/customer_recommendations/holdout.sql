-- Offline evaluation, part 1: leave each customer's last purchase out. Builds the session tables
--   EVAL_TRAINING   the purchase lines of `lines` before the cut-off, minus each customer's last event
--                   (what compute.sql then reads as its `lines`)
--   EVAL_HELD_OUT   (CUSTOMER_ID, PRODUCT_ID) of each customer's last event
--   EVAL_CUSTOMERS  customers with a purchase before their last one (BOUGHT: distinct products)
-- Customers with a single purchase have nothing to learn from and are not evaluated. The last event
-- is the latest EVENT_TS (ties: the larger EVENT_ID). Other customers' later purchases stay in
-- the training lines (leave-one-out, not a time split). Parameters: database, lines, cutoff.
{%- set cutoff_ts = "'" ~ cutoff ~ "'::TIMESTAMP_TZ" %}
USE SCHEMA {{ database }}.ANALYTICS;

CREATE OR REPLACE TEMPORARY TABLE EVAL_LAST_EVENT AS
SELECT CUSTOMER_ID, EVENT_ID
FROM (
    SELECT DISTINCT CUSTOMER_ID, EVENT_ID, EVENT_TS
    FROM {{ lines }}
    WHERE CUSTOMER_ID IS NOT NULL AND PRODUCT_ID IS NOT NULL AND EVENT_TS < {{ cutoff_ts }}
) AS e
QUALIFY ROW_NUMBER() OVER (PARTITION BY CUSTOMER_ID ORDER BY EVENT_TS DESC, EVENT_ID DESC) = 1;

CREATE OR REPLACE TEMPORARY TABLE EVAL_TRAINING AS
SELECT l.CUSTOMER_ID, l.EVENT_ID, l.EVENT_TS, l.PRODUCT_ID
FROM {{ lines }} AS l
WHERE l.EVENT_TS < {{ cutoff_ts }}
  AND NOT EXISTS (SELECT 1 FROM EVAL_LAST_EVENT AS x WHERE x.EVENT_ID = l.EVENT_ID);

CREATE OR REPLACE TEMPORARY TABLE EVAL_HELD_OUT AS
SELECT DISTINCT l.CUSTOMER_ID, l.PRODUCT_ID
FROM {{ lines }} AS l
JOIN EVAL_LAST_EVENT AS x ON x.EVENT_ID = l.EVENT_ID AND x.CUSTOMER_ID = l.CUSTOMER_ID
WHERE l.PRODUCT_ID IS NOT NULL;

CREATE OR REPLACE TEMPORARY TABLE EVAL_CUSTOMERS AS
SELECT t.CUSTOMER_ID, COUNT(DISTINCT t.PRODUCT_ID) AS BOUGHT
FROM EVAL_TRAINING AS t
WHERE t.CUSTOMER_ID IN (SELECT CUSTOMER_ID FROM EVAL_LAST_EVENT)
GROUP BY t.CUSTOMER_ID;
