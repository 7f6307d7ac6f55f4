-- Objects this DAG writes to. Idempotent, so it runs at the start of every load instead of in a
-- one-off migration.
CREATE SCHEMA IF NOT EXISTS {{ database }}.RAW;
CREATE SCHEMA IF NOT EXISTS {{ database }}.OPS;

CREATE TABLE IF NOT EXISTS {{ database }}.RAW.CUSTOMERS (
    CUSTOMER_ID        VARCHAR       NOT NULL PRIMARY KEY,
    FIRST_NAME         VARCHAR,
    LAST_NAME          VARCHAR,
    EMAIL              VARCHAR       NOT NULL,
    PREFERRED_LANGUAGE VARCHAR       NOT NULL,  -- BCP 47, canonical case: de, pt-BR
    COUNTRY            VARCHAR(2)    NOT NULL,  -- ISO 3166-1 alpha-2
    MARKETING_CONSENT  BOOLEAN       NOT NULL,
    SOURCE_FILE        VARCHAR       NOT NULL,  -- s3:// URI of the file that last changed the row
    ROW_HASH           VARCHAR(64)   NOT NULL,  -- sha256 of the business columns: unchanged rows are skipped
    LOADED_AT          TIMESTAMP_LTZ NOT NULL   -- when the row was last inserted or changed
);

{% include "shared/quarantine_table.sql" %}

-- Internal stage for bulk loads; files are purged by the COPY that reads them.
CREATE STAGE IF NOT EXISTS {{ database }}.RAW.CUSTOMER_MASTER_STAGE
    COMMENT = 'customer_master_ingest: validated batches on their way to RAW.CUSTOMERS and OPS.QUARANTINE';
