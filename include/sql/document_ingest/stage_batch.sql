-- Bulk-load one batch into session tables: PUT the local CSV files to the internal stage, COPY INTO.
-- Document text travels only in staged files, never in SQL text or bind parameters. An empty file is
-- not staged (the fakesnow stand-in cannot COPY an empty CSV; Snowflake would load 0 rows).
{% import "shared/stage.sql" as stage %}
{%- set stage_name = database ~ ".RAG.DOCUMENTS_STAGE" %}
USE SCHEMA {{ database }}.RAG;

-- One row per document this run read or deleted; CHANGE is new | changed | touched | rejected | deleted
CREATE OR REPLACE TEMPORARY TABLE DOCUMENTS_INCOMING (
    DOC_ID VARCHAR, SOURCE_URI VARCHAR, TITLE VARCHAR, CONTENT_TYPE VARCHAR, CONTENT_HASH VARCHAR,
    SIZE_BYTES NUMBER, ETAG VARCHAR, STATUS VARCHAR, CHANGE VARCHAR, CHUNKER VARCHAR,
    CHUNK_COUNT NUMBER, TOKEN_COUNT NUMBER, RUN_ID VARCHAR
);
CREATE OR REPLACE TEMPORARY TABLE CHUNKS_INCOMING (
    CHUNK_ID VARCHAR, DOC_ID VARCHAR, ORDINAL NUMBER, TEXT VARCHAR, TOKEN_COUNT NUMBER,
    CONTENT_HASH VARCHAR, CHUNKER VARCHAR
);
CREATE OR REPLACE TEMPORARY TABLE QUARANTINE_INCOMING (
    SOURCE VARCHAR, RECORD_KEY VARCHAR, REASON VARCHAR, RAW_RECORD VARCHAR, RUN_ID VARCHAR
);
CREATE OR REPLACE TEMPORARY TABLE SOURCES_INCOMING (SOURCE VARCHAR);

{% for name, table in [('chunks', 'CHUNKS_INCOMING'), ('documents', 'DOCUMENTS_INCOMING'),
                       ('quarantine', 'QUARANTINE_INCOMING'), ('sources', 'SOURCES_INCOMING')] %}
{% if parts[name] %}
{% for part in parts[name] %}
{{ stage.put(part, stage_name, stage_path ~ "/" ~ name) }}
{% endfor %}
{{ stage.copy_csv(table, stage_name, stage_path ~ "/" ~ name ~ "/") }}
{% endif %}
{% endfor %}
