-- Shared by every ingest DAG: the session holds QUARANTINE_INCOMING (SOURCE, RECORD_KEY, REASON,
-- RAW_RECORD as JSON text, RUN_ID) and SOURCES_INCOMING (SOURCE, ...), the files this batch read.
-- Quarantine rows are keyed on (SOURCE, RECORD_KEY, REASON), none of which depends on the run:
-- a re-run inserts nothing and keeps the first RUN_ID and QUARANTINED_AT. For every file in this
-- batch, rows it no longer produces (the file was corrected and re-uploaded) are removed, so the
-- table always describes the files as they are now.
DELETE FROM {{ database }}.OPS.QUARANTINE AS t
WHERE t.SOURCE IN (SELECT SOURCE FROM SOURCES_INCOMING)
  AND NOT EXISTS (
      SELECT 1 FROM QUARANTINE_INCOMING AS s
      WHERE s.SOURCE = t.SOURCE AND s.RECORD_KEY = t.RECORD_KEY AND s.REASON = t.REASON
  );

MERGE INTO {{ database }}.OPS.QUARANTINE AS t
USING (
    SELECT SOURCE, RECORD_KEY, REASON, PARSE_JSON(RAW_RECORD) AS RAW_RECORD, RUN_ID FROM QUARANTINE_INCOMING
) AS s
    ON t.SOURCE = s.SOURCE AND t.RECORD_KEY = s.RECORD_KEY AND t.REASON = s.REASON
WHEN NOT MATCHED THEN INSERT (SOURCE, RECORD_KEY, REASON, RAW_RECORD, RUN_ID, QUARANTINED_AT)
    VALUES (s.SOURCE, s.RECORD_KEY, s.REASON, s.RAW_RECORD, s.RUN_ID, CURRENT_TIMESTAMP());
