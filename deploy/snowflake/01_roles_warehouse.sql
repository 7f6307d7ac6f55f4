-- 01  Roles and the warehouse. Run once per account by an administrator (ACCOUNTADMIN, or a user
-- holding SECURITYADMIN and SYSADMIN); every statement is idempotent, so running it again is safe
-- and brings the warehouse settings back to these values.
--
-- Names are the ones .env.example and docs/real-cloud.md use: role GENAI_PIPELINES (what Airflow
-- connects as), role GENAI_READER (read-only, for people), warehouse GENAI_WH (also the warehouse
-- that refreshes the dynamic tables: GENAI_SNOWFLAKE_WAREHOUSE). To rename, change every file in
-- deploy/snowflake/ and the Airflow settings together; tests/unit/test_real_cloud_setup.py checks
-- that they agree.

USE ROLE SECURITYADMIN;

CREATE ROLE IF NOT EXISTS GENAI_PIPELINES
    COMMENT = 'Airflow GenAI pipelines: creates and writes the objects of database GENAI';
CREATE ROLE IF NOT EXISTS GENAI_READER
    COMMENT = 'Read-only access to database GENAI, customer PII included';

-- Custom roles roll up to SYSADMIN, so administrators can manage what the pipelines own (for
-- example 05_change_tracking.sql, or dropping a table) without using GENAI_PIPELINES itself.
GRANT ROLE GENAI_PIPELINES TO ROLE SYSADMIN;
GRANT ROLE GENAI_READER TO ROLE SYSADMIN;

USE ROLE SYSADMIN;

-- XSMALL is enough for the pipelines at tens of thousands of customers; the heavy statements are
-- MERGEs, the recommendation query and the dynamic-table refreshes. AUTO_SUSPEND = 60: the
-- warehouse wakes for each DAG task and each dynamic-table refresh (every target lag, 15 minutes by
-- default) and should not idle between them. The statement timeout stops a runaway query from
-- burning credits for the default two days; raise it if a large recommendation run needs longer.
CREATE WAREHOUSE IF NOT EXISTS GENAI_WH
    WAREHOUSE_SIZE = 'XSMALL'
    AUTO_SUSPEND = 60
    AUTO_RESUME = TRUE
    INITIALLY_SUSPENDED = TRUE
    COMMENT = 'GenAI personalization pipelines and their dynamic-table refreshes'
    STATEMENT_TIMEOUT_IN_SECONDS = 3600;

-- CREATE ... IF NOT EXISTS leaves an existing warehouse as it is: converge its settings.
ALTER WAREHOUSE GENAI_WH SET
    WAREHOUSE_SIZE = 'XSMALL'
    AUTO_SUSPEND = 60
    AUTO_RESUME = TRUE
    STATEMENT_TIMEOUT_IN_SECONDS = 3600;
