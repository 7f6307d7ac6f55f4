-- 05  Change tracking on the base tables of the dynamic tables. Run after the first
-- pos_transactions_ingest run (which creates the tables), as SYSADMIN: GENAI_PIPELINES owns the
-- tables and rolls up to SYSADMIN (01). Idempotent, and a no-op for a table that does not exist yet.
--
-- CURATED.PURCHASE_LINES (REFRESH_MODE = INCREMENTAL) reads RAW.POS_TRANSACTIONS, and
-- ANALYTICS.CUSTOMER_PURCHASE_HISTORY joins RAW.PRODUCTS; incremental refresh reads the changes of
-- those tables. Snowflake switches change tracking on by itself when the role creating a dynamic
-- table owns its base tables, which is the case here (GENAI_PIPELINES creates all of them), so
-- this file makes it explicit and repairs it if a base table was ever re-created by another role
-- or had it switched off. tests/unit/test_real_cloud_setup.py derives the base tables from
-- include/sql/pos_transactions_ingest/create_dynamic_tables.sql and checks that each is listed here.

USE ROLE SYSADMIN;

ALTER TABLE IF EXISTS GENAI.RAW.POS_TRANSACTIONS SET CHANGE_TRACKING = TRUE;
ALTER TABLE IF EXISTS GENAI.RAW.PRODUCTS SET CHANGE_TRACKING = TRUE;
