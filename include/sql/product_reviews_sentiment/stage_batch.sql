-- Bulk-load one validated catalog batch into session-scoped tables: PUT the CSV parts to the internal
-- stage, then COPY INTO. No record value ever appears in SQL text or bind parameters (both get
-- logged). Runs on the same session as the merge steps that read the temporary tables. A kind with
-- no rows is not staged at all (the stand-in cannot COPY an empty CSV; Snowflake would load 0 rows).
{% import "shared/stage.sql" as stage %}
{%- set stage_name = database ~ ".RAW.CATALOG_STAGE" %}
USE SCHEMA {{ database }}.RAW;

CREATE OR REPLACE TEMPORARY TABLE PRODUCTS_INCOMING (
    PRODUCT_ID VARCHAR, PRODUCT_NAME VARCHAR, CATEGORY VARCHAR, CATEGORY_PATH VARCHAR, SUB_CATEGORY VARCHAR,
    DISCOUNTED_PRICE NUMBER(12, 2), ACTUAL_PRICE NUMBER(12, 2), CURRENCY VARCHAR, DISCOUNT_PERCENTAGE NUMBER(5, 2),
    RATING FLOAT, RATING_COUNT INTEGER, ABOUT_PRODUCT VARCHAR, IMG_LINK VARCHAR, PRODUCT_LINK VARCHAR,
    ROW_HASH VARCHAR, SOURCE VARCHAR, LINE_NUMBER INTEGER
);
CREATE OR REPLACE TEMPORARY TABLE REVIEWS_INCOMING (
    PRODUCT_ID VARCHAR, REVIEW_ID VARCHAR, USER_ID VARCHAR, USER_NAME VARCHAR, REVIEW_TITLE VARCHAR,
    REVIEW_CONTENT VARCHAR, CONTENT_HASH VARCHAR, SOURCE VARCHAR, LINE_NUMBER INTEGER, ORDINAL INTEGER
);
CREATE OR REPLACE TEMPORARY TABLE QUARANTINE_INCOMING (
    SOURCE VARCHAR, RECORD_KEY VARCHAR, REASON VARCHAR, RAW_RECORD VARCHAR, RUN_ID VARCHAR
);
CREATE OR REPLACE TEMPORARY TABLE SOURCES_INCOMING (SOURCE VARCHAR, ETAG VARCHAR, SIZE_BYTES NUMBER, RUN_ID VARCHAR);

{% for kind, table in [('products', 'PRODUCTS_INCOMING'), ('reviews', 'REVIEWS_INCOMING'),
                       ('quarantine', 'QUARANTINE_INCOMING'), ('sources', 'SOURCES_INCOMING')] %}
{% if row_counts[kind] %}
{% for part in files[kind] %}
{{ stage.put(part, stage_name, stage_path ~ "/" ~ kind) }}
{% endfor %}
{{ stage.copy_csv(table, stage_name, stage_path ~ "/" ~ kind ~ "/") }}
{% endif %}
{% endfor %}
