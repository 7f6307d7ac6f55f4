-- The table customer_recommendations writes. Idempotent, so it runs at the start of every run.
-- Its inputs belong to other pipelines and are not created here: CURATED.PURCHASE_LINES
-- (pos_transactions_ingest), RAW.CUSTOMERS (customer_master_ingest), RAW.PRODUCTS and
-- CURATED.REVIEW_SENTIMENT (product_reviews_sentiment).
CREATE SCHEMA IF NOT EXISTS {{ database }}.ANALYTICS;

-- Five products per customer and as-of date; unique on (AS_OF_DATE, CUSTOMER_ID, RANK) (Snowflake
-- does not enforce it: publish.sql replaces a date's rows in one transaction). Readers take the
-- latest AS_OF_DATE per customer.
CREATE TABLE IF NOT EXISTS {{ database }}.ANALYTICS.RECOMMENDATIONS (
    AS_OF_DATE  DATE          NOT NULL,  -- purchases up to the end of this UTC day were used
    CUSTOMER_ID VARCHAR       NOT NULL,
    RANK        INTEGER       NOT NULL,  -- 1..5, 1 best
    PRODUCT_ID  VARCHAR       NOT NULL,
    SCORE       FLOAT         NOT NULL,  -- higher is better; comparable within one as-of date only
    REASON_CODE VARCHAR       NOT NULL,  -- BOUGHT_TOGETHER | CATEGORY_AFFINITY | TOP_RATED | POPULAR
    RUN_ID      VARCHAR       NOT NULL,  -- the Airflow run that computed the row
    COMPUTED_AT TIMESTAMP_LTZ NOT NULL,
    PRIMARY KEY (AS_OF_DATE, CUSTOMER_ID, RANK)
);
