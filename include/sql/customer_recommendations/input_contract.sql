-- NOT run by the DAG. The input columns compute.sql reads, as tables: the unit and integration
-- tests and the benchmark create its inputs with this file until (or where) the pipelines that own
-- them have not run. Owners: CURATED.PURCHASE_LINES (pos_transactions_ingest, a dynamic table
-- there), RAW.CUSTOMERS (customer_master_ingest), RAW.PRODUCTS and CURATED.REVIEW_SENTIMENT
-- (product_reviews_sentiment). CREATE ... IF NOT EXISTS: an owner's table wins.
-- Parameters: database; purchase_lines (default true) creates CURATED.PURCHASE_LINES as a plain table.
CREATE SCHEMA IF NOT EXISTS {{ database }}.RAW;
CREATE SCHEMA IF NOT EXISTS {{ database }}.CURATED;
CREATE SCHEMA IF NOT EXISTS {{ database }}.ANALYTICS;

{% if purchase_lines | default(true) -%}
CREATE TABLE IF NOT EXISTS {{ database }}.CURATED.PURCHASE_LINES (
    EVENT_ID    VARCHAR,
    LINE_NO     INTEGER,
    EVENT_TS    TIMESTAMP_TZ,
    CUSTOMER_ID VARCHAR,
    CHANNEL     VARCHAR,
    STORE_ID    VARCHAR,
    CURRENCY    VARCHAR,
    PRODUCT_ID  VARCHAR,
    QUANTITY    INTEGER,
    UNIT_PRICE  NUMBER(18, 4),
    LINE_AMOUNT NUMBER(18, 4)
);
{%- endif %}

CREATE TABLE IF NOT EXISTS {{ database }}.RAW.CUSTOMERS (
    CUSTOMER_ID        VARCHAR       NOT NULL,
    FIRST_NAME         VARCHAR,
    LAST_NAME          VARCHAR,
    EMAIL              VARCHAR,
    PREFERRED_LANGUAGE VARCHAR,
    COUNTRY            VARCHAR(2),
    MARKETING_CONSENT  BOOLEAN
);

CREATE TABLE IF NOT EXISTS {{ database }}.RAW.PRODUCTS (
    PRODUCT_ID          VARCHAR NOT NULL,
    PRODUCT_NAME        VARCHAR,
    CATEGORY            VARCHAR,        -- top level
    CATEGORY_PATH       VARCHAR,        -- "A|B|C"
    SUB_CATEGORY        VARCHAR,
    DISCOUNTED_PRICE    NUMBER(18, 2),
    ACTUAL_PRICE        NUMBER(18, 2),
    CURRENCY            VARCHAR(3),
    DISCOUNT_PERCENTAGE FLOAT,
    RATING              FLOAT,          -- nullable
    RATING_COUNT        INTEGER         -- nullable
);

CREATE TABLE IF NOT EXISTS {{ database }}.CURATED.REVIEW_SENTIMENT (
    PRODUCT_ID   VARCHAR NOT NULL,
    REVIEW_ID    VARCHAR NOT NULL,
    CONTENT_HASH VARCHAR,
    SENTIMENT    VARCHAR,               -- POSITIVE | NEGATIVE | NEUTRAL | MIXED
    POSITIVE     FLOAT,
    NEGATIVE     FLOAT,
    NEUTRAL      FLOAT,
    MIXED        FLOAT,
    ANALYZED_AT  TIMESTAMP_LTZ
);
