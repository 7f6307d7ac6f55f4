-- OPS.LOAD_LEDGER, shared by the DAGs that load landing files (included by their create_objects.sql,
-- so the columns cannot drift apart): which file versions (file, ETag, size) are loaded. A listed
-- file whose (SOURCE, ETAG, SIZE_BYTES) is here is skipped. A row is written only after the file's
-- records are merged, so a crash in between reads the file again next run, which the MERGE makes
-- harmless.
CREATE TABLE IF NOT EXISTS {{ database }}.OPS.LOAD_LEDGER (
    SOURCE     VARCHAR       NOT NULL,  -- s3://bucket/key
    ETAG       VARCHAR       NOT NULL,  -- without S3's quotes
    SIZE_BYTES NUMBER        NOT NULL,
    RUN_ID     VARCHAR       NOT NULL,  -- the Airflow run that loaded this version
    LOADED_AT  TIMESTAMP_LTZ NOT NULL
);
