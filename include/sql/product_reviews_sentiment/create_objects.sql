-- Objects product_reviews_sentiment writes to. Idempotent, so it runs first in every run instead of
-- in a one-off migration.
CREATE SCHEMA IF NOT EXISTS {{ database }}.RAW;
CREATE SCHEMA IF NOT EXISTS {{ database }}.OPS;
CREATE SCHEMA IF NOT EXISTS {{ database }}.CURATED;

-- The product catalog, one row per PRODUCT_ID. pos_transactions_ingest/create_dynamic_tables.sql may
-- have created it already with only its first three columns (the purchase history reads CATEGORY),
-- so it is created with those three and the rest are added: ADD COLUMN IF NOT EXISTS leaves an
-- existing column and its data alone, on Snowflake and on the stand-in alike.
CREATE TABLE IF NOT EXISTS {{ database }}.RAW.PRODUCTS (
    PRODUCT_ID   VARCHAR NOT NULL,
    PRODUCT_NAME VARCHAR,
    CATEGORY     VARCHAR  -- top-level category
);
ALTER TABLE {{ database }}.RAW.PRODUCTS ADD COLUMN IF NOT EXISTS CATEGORY_PATH VARCHAR;           -- the whole path, A|B|C
ALTER TABLE {{ database }}.RAW.PRODUCTS ADD COLUMN IF NOT EXISTS SUB_CATEGORY VARCHAR;            -- the last element of the path
ALTER TABLE {{ database }}.RAW.PRODUCTS ADD COLUMN IF NOT EXISTS DISCOUNTED_PRICE NUMBER(12, 2);  -- in CURRENCY
ALTER TABLE {{ database }}.RAW.PRODUCTS ADD COLUMN IF NOT EXISTS ACTUAL_PRICE NUMBER(12, 2);      -- list price, in CURRENCY
ALTER TABLE {{ database }}.RAW.PRODUCTS ADD COLUMN IF NOT EXISTS CURRENCY VARCHAR;                -- ISO 4217, from the price symbol
ALTER TABLE {{ database }}.RAW.PRODUCTS ADD COLUMN IF NOT EXISTS DISCOUNT_PERCENTAGE NUMBER(5, 2);-- as published: 64 for "64%"
ALTER TABLE {{ database }}.RAW.PRODUCTS ADD COLUMN IF NOT EXISTS RATING FLOAT;                    -- 0..5; NULL when not a number
ALTER TABLE {{ database }}.RAW.PRODUCTS ADD COLUMN IF NOT EXISTS RATING_COUNT INTEGER;            -- NULL when empty
ALTER TABLE {{ database }}.RAW.PRODUCTS ADD COLUMN IF NOT EXISTS ABOUT_PRODUCT VARCHAR;
ALTER TABLE {{ database }}.RAW.PRODUCTS ADD COLUMN IF NOT EXISTS IMG_LINK VARCHAR;
ALTER TABLE {{ database }}.RAW.PRODUCTS ADD COLUMN IF NOT EXISTS PRODUCT_LINK VARCHAR;
ALTER TABLE {{ database }}.RAW.PRODUCTS ADD COLUMN IF NOT EXISTS ROW_HASH VARCHAR;                -- sha256 of the parsed attributes
ALTER TABLE {{ database }}.RAW.PRODUCTS ADD COLUMN IF NOT EXISTS SOURCE VARCHAR;                  -- s3:// URI of the file loaded from
ALTER TABLE {{ database }}.RAW.PRODUCTS ADD COLUMN IF NOT EXISTS LOADED_AT TIMESTAMP_LTZ;         -- last insert or change

-- One row per (PRODUCT_ID, REVIEW_ID). CONTENT_HASH is sha256(title + "\n" + content): sentiment is
-- measured again when it changes.
CREATE TABLE IF NOT EXISTS {{ database }}.RAW.PRODUCT_REVIEWS (
    PRODUCT_ID     VARCHAR       NOT NULL,
    REVIEW_ID      VARCHAR       NOT NULL,
    USER_ID        VARCHAR,
    USER_NAME      VARCHAR,
    REVIEW_TITLE   VARCHAR,
    REVIEW_CONTENT VARCHAR,
    CONTENT_HASH   VARCHAR   NOT NULL,
    SOURCE         VARCHAR       NOT NULL,
    LOADED_AT      TIMESTAMP_LTZ NOT NULL
);

-- Comprehend's verdict per review, one row per (PRODUCT_ID, REVIEW_ID), for the review text whose
-- hash is CONTENT_HASH (equal to RAW.PRODUCT_REVIEWS.CONTENT_HASH when it is current).
CREATE TABLE IF NOT EXISTS {{ database }}.CURATED.REVIEW_SENTIMENT (
    PRODUCT_ID    VARCHAR       NOT NULL,
    REVIEW_ID     VARCHAR       NOT NULL,
    CONTENT_HASH  VARCHAR   NOT NULL,
    SENTIMENT     VARCHAR       NOT NULL,  -- POSITIVE | NEGATIVE | NEUTRAL | MIXED
    POSITIVE      FLOAT         NOT NULL,
    NEGATIVE      FLOAT         NOT NULL,
    NEUTRAL       FLOAT         NOT NULL,
    MIXED         FLOAT         NOT NULL,
    LANGUAGE_CODE VARCHAR       NOT NULL,  -- the language the text was analysed as
    ANALYZED_AT   TIMESTAMP_LTZ NOT NULL
);
-- customer_recommendations/input_contract.sql may have created the table first, without this column.
ALTER TABLE {{ database }}.CURATED.REVIEW_SENTIMENT ADD COLUMN IF NOT EXISTS LANGUAGE_CODE VARCHAR;

{% include "shared/quarantine_table.sql" %}

-- catalog files are keyed by their catalog/ URIs
{% include "shared/load_ledger_table.sql" %}

-- Internal stages for bulk loads; files are purged by the COPY that reads them.
CREATE STAGE IF NOT EXISTS {{ database }}.RAW.CATALOG_STAGE
    COMMENT = 'product_reviews_sentiment: validated catalog batches on their way to RAW.PRODUCTS, RAW.PRODUCT_REVIEWS and OPS.QUARANTINE';
CREATE STAGE IF NOT EXISTS {{ database }}.CURATED.REVIEW_SENTIMENT_STAGE
    COMMENT = 'product_reviews_sentiment: Comprehend results on their way to CURATED.REVIEW_SENTIMENT';
