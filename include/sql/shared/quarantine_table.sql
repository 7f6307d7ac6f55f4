-- OPS.QUARANTINE, shared by every ingest DAG (included by their create_objects.sql, so the columns
-- cannot drift apart).
CREATE TABLE IF NOT EXISTS {{ database }}.OPS.QUARANTINE (
    SOURCE         VARCHAR       NOT NULL,  -- where the record came from, e.g. s3://bucket/customers/x.csv
    RECORD_KEY     VARCHAR       NOT NULL,  -- run-independent key of the record within SOURCE
    REASON         VARCHAR       NOT NULL,  -- one line, no record data
    RAW_RECORD     VARIANT,                 -- the record as received
    RUN_ID         VARCHAR       NOT NULL,  -- the Airflow run that first quarantined it
    QUARANTINED_AT TIMESTAMP_LTZ NOT NULL
);
