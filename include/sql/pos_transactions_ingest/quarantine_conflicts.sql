-- Conflicting events join the batch's quarantine rows (merged by merge_quarantine.sql), keyed like
-- the rows validation rejected: (file, "line N: event_id", reason). The run id comes from the staged
-- SOURCES_INCOMING, so no run-dependent text is spliced into SQL. Ends with the batch's outcome
-- counts for the run summary.
USE SCHEMA {{ database }}.RAW;

INSERT INTO QUARANTINE_INCOMING (SOURCE, RECORD_KEY, REASON, RAW_RECORD, RUN_ID)
SELECT c.SOURCE_FILE, c.RECORD_KEY, '{{ conflict_reason }}', c.RAW_RECORD, f.RUN_ID
FROM POS_CLASSIFIED AS c
JOIN SOURCES_INCOMING AS f ON f.SOURCE = c.SOURCE_FILE
WHERE c.OUTCOME = 'conflict';

SELECT OUTCOME, COUNT(*) AS EVENTS FROM POS_CLASSIFIED GROUP BY OUTCOME ORDER BY OUTCOME;
