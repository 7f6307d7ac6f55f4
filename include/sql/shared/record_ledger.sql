-- Record the file versions of this batch (session table SOURCES_INCOMING) as loaded, after their
-- records and quarantine rows are merged (a crash before this point re-reads them next run,
-- harmlessly). Keyed on the version, so a re-run adds nothing.
USE SCHEMA {{ database }}.RAW;

MERGE INTO {{ database }}.OPS.LOAD_LEDGER AS t
USING SOURCES_INCOMING AS s
    ON t.SOURCE = s.SOURCE AND t.ETAG = s.ETAG AND t.SIZE_BYTES = s.SIZE_BYTES
WHEN NOT MATCHED THEN INSERT (SOURCE, ETAG, SIZE_BYTES, RUN_ID, LOADED_AT)
    VALUES (s.SOURCE, s.ETAG, s.SIZE_BYTES, s.RUN_ID, CURRENT_TIMESTAMP());
