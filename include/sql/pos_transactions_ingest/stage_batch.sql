-- Bulk-load one validated batch into session-scoped tables: PUT the files to the internal stage,
-- then COPY INTO. No record value ever appears in SQL text or bind parameters (both get logged).
-- Runs on the same session as the steps that read the temporary tables. Events come in parts
-- (a PUT reads a local file whole); an empty file is not staged at all (the fakesnow stand-in
-- cannot COPY an empty CSV; Snowflake would load 0 rows).
{% import "shared/stage.sql" as stage %}
{%- set stage_name = database ~ ".RAW.POS_EVENTS_STAGE" %}
USE SCHEMA {{ database }}.RAW;

CREATE OR REPLACE TEMPORARY TABLE POS_INCOMING (
    EVENT_ID VARCHAR, EVENT_TS TIMESTAMP_TZ, CUSTOMER_ID VARCHAR, CHANNEL VARCHAR, STORE_ID VARCHAR,
    CURRENCY VARCHAR, PAYMENT_TYPE VARCHAR, ITEMS VARCHAR, RAW_RECORD VARCHAR, RECORD_HASH VARCHAR,
    SOURCE_FILE VARCHAR, LINE_NUMBER INTEGER, RECORD_KEY VARCHAR
);
CREATE OR REPLACE TEMPORARY TABLE QUARANTINE_INCOMING (
    SOURCE VARCHAR, RECORD_KEY VARCHAR, REASON VARCHAR, RAW_RECORD VARCHAR, RUN_ID VARCHAR
);
CREATE OR REPLACE TEMPORARY TABLE SOURCES_INCOMING (SOURCE VARCHAR, ETAG VARCHAR, SIZE_BYTES NUMBER, RUN_ID VARCHAR);

{% for part in event_parts %}
{{ stage.put(part, stage_name, stage_path ~ "/events") }}
{% endfor %}
{% if event_parts %}
{{ stage.copy_csv("POS_INCOMING", stage_name, stage_path ~ "/events/") }}
{% endif %}
{% for name, table in [('quarantine', 'QUARANTINE_INCOMING'), ('sources', 'SOURCES_INCOMING')] %}
{% if row_counts[name] %}
{{ stage.put(files[name], stage_name, stage_path) }}
{{ stage.copy_csv(table, stage_name, stage_path ~ "/" ~ name ~ ".csv") }}
{% endif %}
{% endfor %}
