-- Silver and gold of the purchase flow, as Snowflake Dynamic Tables over the bronze table
-- RAW.POS_TRANSACTIONS. Run by pos_transactions_ingest after it has created bronze; checked by
-- dynamic_table_freshness. Parameters: database, warehouse (identifiers), target_lag ('15 minutes'
-- or DOWNSTREAM, validated by include/settings.py).
--
-- CREATE ... IF NOT EXISTS, not CREATE OR REPLACE: this file runs at every ingest run, and OR
-- REPLACE would re-initialise both tables each time (a full recompute on the warehouse), wipe
-- their refresh history (the first thing on-call reads), make a stale table look fresh, and
-- silently RESUME a table someone suspended on purpose. Settings that come from config are
-- applied with ALTER ... SET below, which changes neither data nor history. A change to a
-- table's query is a deliberate migration: run this file with replace=true once (the tables are
-- derived, so re-initialising them loses nothing but their history).
{%- set replace = replace | default(false) %}
{%- set create = "CREATE OR REPLACE DYNAMIC TABLE" if replace else "CREATE DYNAMIC TABLE IF NOT EXISTS" %}
{%- set lag = "DOWNSTREAM" if target_lag | upper == "DOWNSTREAM" else "'" ~ target_lag ~ "'" %}

CREATE SCHEMA IF NOT EXISTS {{ database }}.RAW;
CREATE SCHEMA IF NOT EXISTS {{ database }}.CURATED;
CREATE SCHEMA IF NOT EXISTS {{ database }}.ANALYTICS;

-- The product catalog is loaded by a later pipeline (product_reviews_sentiment), which owns this
-- table. It is created here, empty, only so that the gold table can be created and refreshed
-- before that pipeline exists: favourite categories stay empty until products arrive. Keep these
-- columns a subset of the catalog pipeline's.
CREATE TABLE IF NOT EXISTS {{ database }}.RAW.PRODUCTS (
    PRODUCT_ID   VARCHAR NOT NULL,
    PRODUCT_NAME VARCHAR,
    CATEGORY     VARCHAR  -- top-level category
);

-- One row per item of a purchase event, unique on (EVENT_ID, LINE_NO). Bronze is already unique on
-- EVENT_ID (MERGE) and holds validated records only; the ROW_NUMBER guard keeps the silver key
-- unique even if a duplicate ever slipped into bronze (the latest load wins), and the WHERE repeats
-- the item rules so a bad line can never reach spend figures.
-- INCREMENTAL: LATERAL FLATTEN and a window function with PARTITION BY are both supported for
-- incremental refresh, so each refresh only processes new bronze rows.
{{ create }} {{ database }}.CURATED.PURCHASE_LINES
    TARGET_LAG = {{ lag }}
    WAREHOUSE = {{ warehouse }}
    REFRESH_MODE = INCREMENTAL
    COMMENT = 'One row per purchased item, from RAW.POS_TRANSACTIONS (pos_transactions_ingest)'
AS
SELECT EVENT_ID, LINE_NO, EVENT_TS, CUSTOMER_ID, CHANNEL, STORE_ID, CURRENCY,
       PRODUCT_ID, QUANTITY, UNIT_PRICE, LINE_AMOUNT
FROM (
    SELECT
        t.EVENT_ID,
        item.INDEX + 1                                  AS LINE_NO,  -- 1-based position in ITEMS
        t.EVENT_TS,
        t.CUSTOMER_ID,
        t.CHANNEL,
        t.STORE_ID,
        t.CURRENCY,
        item.VALUE:product_id::VARCHAR                  AS PRODUCT_ID,
        item.VALUE:quantity::INTEGER                    AS QUANTITY,
        -- 4 decimals: room for 3-decimal currencies (KWD, BHD) and sub-unit unit prices
        item.VALUE:unit_price::NUMBER(18, 4)            AS UNIT_PRICE,
        (item.VALUE:quantity::INTEGER * item.VALUE:unit_price::NUMBER(18, 4))::NUMBER(18, 4) AS LINE_AMOUNT,
        ROW_NUMBER() OVER (
            PARTITION BY t.EVENT_ID, item.INDEX ORDER BY t.LOADED_AT DESC, t.RECORD_HASH
        )                                               AS COPY_NO
    FROM {{ database }}.RAW.POS_TRANSACTIONS AS t,
         LATERAL FLATTEN(INPUT => t.ITEMS) AS item
    WHERE item.VALUE:product_id::VARCHAR IS NOT NULL
      AND item.VALUE:quantity::INTEGER > 0
      AND item.VALUE:unit_price::NUMBER(18, 4) >= 0
) AS lines
WHERE COPY_NO = 1;

-- One row per customer, what the recommendation and email pipelines read.
--   ORDER_COUNT / ITEM_COUNT      distinct events / units bought
--   SPEND_BY_CURRENCY             OBJECT currency -> total spend, e.g. {"EUR": 120.5, "USD": 20}.
--                                 Events carry their own currency and there are no exchange rates
--                                 in the warehouse, so amounts are never added across currencies.
--   MAIN_CURRENCY, MAIN_CURRENCY_SPEND
--                                 the currency of most orders (ties: higher spend, then code) and
--                                 the spend in it, for a prompt that needs one figure
--   RECENT_PRODUCT_IDS            ARRAY of up to 10 distinct product ids, most recently bought
--                                 first (ties: product id)
--   FAVOURITE_CATEGORIES          ARRAY of up to 3 top-level categories by units bought (ties:
--                                 spend, then name); products not (yet) in RAW.PRODUCTS count for
--                                 nothing here, so it is [] before the catalog is loaded
--   FIRST_PURCHASE_AT / LAST_PURCHASE_AT
-- Purchases without a customer id (anonymous till sales) are not anyone's history.
-- AUTO: Snowflake decides at creation whether ordered ARRAY_AGG / OBJECT_AGG and the ranking
-- windows refresh incrementally; SHOW DYNAMIC TABLES says which (refresh_mode, refresh_mode_reason).
{{ create }} {{ database }}.ANALYTICS.CUSTOMER_PURCHASE_HISTORY
    TARGET_LAG = {{ lag }}
    WAREHOUSE = {{ warehouse }}
    REFRESH_MODE = AUTO
    COMMENT = 'Purchase history per customer, from CURATED.PURCHASE_LINES (pos_transactions_ingest)'
AS
WITH lines AS (
    SELECT l.CUSTOMER_ID, l.EVENT_ID, l.EVENT_TS, l.CURRENCY, l.PRODUCT_ID, l.QUANTITY, l.LINE_AMOUNT,
           p.CATEGORY
    FROM {{ database }}.CURATED.PURCHASE_LINES AS l
    LEFT JOIN {{ database }}.RAW.PRODUCTS AS p ON p.PRODUCT_ID = l.PRODUCT_ID
    WHERE l.CUSTOMER_ID IS NOT NULL
),
totals AS (
    SELECT CUSTOMER_ID,
           COUNT(DISTINCT EVENT_ID) AS ORDER_COUNT,
           SUM(QUANTITY)::INTEGER   AS ITEM_COUNT,
           MIN(EVENT_TS)            AS FIRST_PURCHASE_AT,
           MAX(EVENT_TS)            AS LAST_PURCHASE_AT
    FROM lines
    GROUP BY CUSTOMER_ID
),
by_currency AS (
    SELECT CUSTOMER_ID, CURRENCY,
           SUM(LINE_AMOUNT)::NUMBER(18, 4) AS SPEND,
           COUNT(DISTINCT EVENT_ID) AS ORDERS,
           ROW_NUMBER() OVER (
               PARTITION BY CUSTOMER_ID ORDER BY COUNT(DISTINCT EVENT_ID) DESC, SUM(LINE_AMOUNT) DESC, CURRENCY
           )                        AS CURRENCY_RANK
    FROM lines
    GROUP BY CUSTOMER_ID, CURRENCY
),
spend AS (
    SELECT CUSTOMER_ID,
           OBJECT_AGG(CURRENCY, SPEND::VARIANT)                     AS SPEND_BY_CURRENCY,
           MAX(CASE WHEN CURRENCY_RANK = 1 THEN CURRENCY END)       AS MAIN_CURRENCY,
           MAX(CASE WHEN CURRENCY_RANK = 1 THEN SPEND END)          AS MAIN_CURRENCY_SPEND
    FROM by_currency
    GROUP BY CUSTOMER_ID
),
by_product AS (
    SELECT CUSTOMER_ID, PRODUCT_ID,
           ROW_NUMBER() OVER (PARTITION BY CUSTOMER_ID ORDER BY MAX(EVENT_TS) DESC, PRODUCT_ID) AS RECENCY_RANK
    FROM lines
    GROUP BY CUSTOMER_ID, PRODUCT_ID
),
recent AS (
    SELECT CUSTOMER_ID,
           ARRAY_AGG(PRODUCT_ID) WITHIN GROUP (ORDER BY RECENCY_RANK) AS RECENT_PRODUCT_IDS
    FROM by_product
    WHERE RECENCY_RANK <= 10
    GROUP BY CUSTOMER_ID
),
by_category AS (
    SELECT CUSTOMER_ID, CATEGORY,
           ROW_NUMBER() OVER (
               PARTITION BY CUSTOMER_ID ORDER BY SUM(QUANTITY) DESC, SUM(LINE_AMOUNT) DESC, CATEGORY
           ) AS CATEGORY_RANK
    FROM lines
    WHERE CATEGORY IS NOT NULL
    GROUP BY CUSTOMER_ID, CATEGORY
),
favourites AS (
    SELECT CUSTOMER_ID,
           ARRAY_AGG(CATEGORY) WITHIN GROUP (ORDER BY CATEGORY_RANK) AS FAVOURITE_CATEGORIES
    FROM by_category
    WHERE CATEGORY_RANK <= 3
    GROUP BY CUSTOMER_ID
)
SELECT t.CUSTOMER_ID,
       t.ORDER_COUNT,
       t.ITEM_COUNT,
       s.SPEND_BY_CURRENCY,
       s.MAIN_CURRENCY,
       s.MAIN_CURRENCY_SPEND,
       r.RECENT_PRODUCT_IDS,
       COALESCE(f.FAVOURITE_CATEGORIES, ARRAY_CONSTRUCT()) AS FAVOURITE_CATEGORIES,
       t.FIRST_PURCHASE_AT,
       t.LAST_PURCHASE_AT
FROM totals AS t
JOIN spend AS s ON s.CUSTOMER_ID = t.CUSTOMER_ID
JOIN recent AS r ON r.CUSTOMER_ID = t.CUSTOMER_ID
LEFT JOIN favourites AS f ON f.CUSTOMER_ID = t.CUSTOMER_ID;

-- Config changes reach existing tables without re-initialising them (see the top of this file).
ALTER DYNAMIC TABLE {{ database }}.CURATED.PURCHASE_LINES SET TARGET_LAG = {{ lag }} WAREHOUSE = {{ warehouse }};
ALTER DYNAMIC TABLE {{ database }}.ANALYTICS.CUSTOMER_PURCHASE_HISTORY SET TARGET_LAG = {{ lag }} WAREHOUSE = {{ warehouse }};
