-- 02  The database and every schema the DAGs use. Run after 01, as SYSADMIN (or ACCOUNTADMIN).
-- Idempotent. The schemas belong to SYSADMIN and are MANAGED ACCESS: GENAI_PIPELINES creates and
-- owns the tables, views, dynamic tables and stages inside them (03_grants.sql), but only the
-- schema owner or a role with MANAGE GRANTS decides who else may read them.
--
-- Keep the default Time Travel retention (1 day) or more: the dynamic tables refresh incrementally
-- from the change tracking of RAW.POS_TRANSACTIONS and RAW.PRODUCTS, which needs it
-- (05_change_tracking.sql). A TRANSIENT database or DATA_RETENTION_TIME_IN_DAYS = 0 would break that.

USE ROLE SYSADMIN;

CREATE DATABASE IF NOT EXISTS GENAI
    COMMENT = 'GenAI personalization: purchases, catalog, company knowledge, recommendations, emails';

CREATE SCHEMA IF NOT EXISTS GENAI.RAW WITH MANAGED ACCESS
    COMMENT = 'Bronze: landing data as loaded (POS_TRANSACTIONS, CUSTOMERS, PRODUCTS, PRODUCT_REVIEWS) and load stages';
CREATE SCHEMA IF NOT EXISTS GENAI.CURATED WITH MANAGED ACCESS
    COMMENT = 'Silver: PURCHASE_LINES (dynamic table), REVIEW_SENTIMENT';
CREATE SCHEMA IF NOT EXISTS GENAI.ANALYTICS WITH MANAGED ACCESS
    COMMENT = 'Gold: CUSTOMER_PURCHASE_HISTORY (dynamic table), RECOMMENDATIONS';
CREATE SCHEMA IF NOT EXISTS GENAI.OPS WITH MANAGED ACCESS
    COMMENT = 'Operations: QUARANTINE, LOAD_LEDGER, LLM_USAGE';
CREATE SCHEMA IF NOT EXISTS GENAI.RAG WITH MANAGED ACCESS
    COMMENT = 'Company knowledge: DOCUMENTS, CHUNKS, EMBEDDING_SETS, EMB_* vector tables, CHUNK_EMBEDDINGS view';
CREATE SCHEMA IF NOT EXISTS GENAI.MARKETING WITH MANAGED ACCESS
    COMMENT = 'Campaigns: EMAILS, CAMPAIGN_AUDIENCE, CAMPAIGN_RUNS, CAMPAIGN_CONTEXT';

-- CREATE ... IF NOT EXISTS leaves an existing schema as it is: make sure it is managed access.
ALTER SCHEMA GENAI.RAW ENABLE MANAGED ACCESS;
ALTER SCHEMA GENAI.CURATED ENABLE MANAGED ACCESS;
ALTER SCHEMA GENAI.ANALYTICS ENABLE MANAGED ACCESS;
ALTER SCHEMA GENAI.OPS ENABLE MANAGED ACCESS;
ALTER SCHEMA GENAI.RAG ENABLE MANAGED ACCESS;
ALTER SCHEMA GENAI.MARKETING ENABLE MANAGED ACCESS;
