-- Bulk-load one validated batch into session-scoped tables: PUT the files to the internal stage,
-- then COPY INTO. No customer value ever appears in SQL text or bind parameters (both get logged).
-- Runs on the same session as the MERGE steps that read the temporary tables. An empty file is
-- not staged at all (the fakesnow stand-in cannot COPY an empty CSV; Snowflake would load 0 rows).
{% import "shared/stage.sql" as stage %}
USE SCHEMA {{ database }}.RAW;

CREATE OR REPLACE TEMPORARY TABLE CUSTOMERS_INCOMING (
    CUSTOMER_ID VARCHAR, FIRST_NAME VARCHAR, LAST_NAME VARCHAR, EMAIL VARCHAR, PREFERRED_LANGUAGE VARCHAR,
    COUNTRY VARCHAR, MARKETING_CONSENT BOOLEAN, SOURCE_FILE VARCHAR, ROW_HASH VARCHAR
);
CREATE OR REPLACE TEMPORARY TABLE QUARANTINE_INCOMING (
    SOURCE VARCHAR, RECORD_KEY VARCHAR, REASON VARCHAR, RAW_RECORD VARCHAR, RUN_ID VARCHAR
);
CREATE OR REPLACE TEMPORARY TABLE SOURCES_INCOMING (SOURCE VARCHAR);

{% for name, table in [('customers', 'CUSTOMERS_INCOMING'), ('quarantine', 'QUARANTINE_INCOMING'), ('sources', 'SOURCES_INCOMING')] %}
{% if row_counts[name] %}
{{ stage.put(files[name], database ~ ".RAW.CUSTOMER_MASTER_STAGE", stage_path) }}
{{ stage.copy_csv(table, database ~ ".RAW.CUSTOMER_MASTER_STAGE", stage_path ~ "/" ~ name ~ ".csv") }}
{% endif %}
{% endfor %}
