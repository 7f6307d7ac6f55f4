-- Objects pos_transactions_ingest writes to. Idempotent, so it runs first in every run instead of
-- in a one-off migration. CURATED and ANALYTICS are created here too, for the dynamic tables
-- (create_dynamic_tables.sql) that refine bronze.
CREATE SCHEMA IF NOT EXISTS {{ database }}.RAW;
CREATE SCHEMA IF NOT EXISTS {{ database }}.OPS;
CREATE SCHEMA IF NOT EXISTS {{ database }}.CURATED;
CREATE SCHEMA IF NOT EXISTS {{ database }}.ANALYTICS;

-- Bronze: one row per EVENT_ID, validated, never updated (a later different version of an event
-- is quarantined, not applied). Typed columns for the common questions, the record as received
-- for everything else.
CREATE TABLE IF NOT EXISTS {{ database }}.RAW.POS_TRANSACTIONS (
    EVENT_ID     VARCHAR       NOT NULL PRIMARY KEY,  -- unique (the MERGE key; Snowflake does not enforce it)
    EVENT_TS     TIMESTAMP_TZ  NOT NULL,              -- with the offset the till or web shop sent
    CUSTOMER_ID  VARCHAR       NOT NULL,
    CHANNEL      VARCHAR       NOT NULL,              -- pos | web
    STORE_ID     VARCHAR,                             -- NULL for web
    CURRENCY     VARCHAR(3)    NOT NULL,              -- ISO 4217
    PAYMENT_TYPE VARCHAR,
    ITEMS        VARIANT       NOT NULL,              -- [{"product_id", "quantity", "unit_price"}] as validated
    RAW_RECORD   VARIANT       NOT NULL,              -- the JSON object as received
    RECORD_HASH  VARCHAR(64)   NOT NULL,              -- sha256 of the record's canonical JSON
    SOURCE_FILE  VARCHAR       NOT NULL,              -- s3:// URI of the file the event was first loaded from
    LOADED_AT    TIMESTAMP_LTZ NOT NULL
);

{% include "shared/quarantine_table.sql" %}

{% include "shared/load_ledger_table.sql" %}

-- Internal stage for bulk loads; files are purged by the COPY that reads them.
CREATE STAGE IF NOT EXISTS {{ database }}.RAW.POS_EVENTS_STAGE
    COMMENT = 'pos_transactions_ingest: validated batches on their way to RAW.POS_TRANSACTIONS and OPS.QUARANTINE';
