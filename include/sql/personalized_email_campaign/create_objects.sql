-- Objects personalized_email_campaign writes to. Idempotent: it runs at the start of every run.
-- Its inputs belong to other pipelines and are not created here: RAW.CUSTOMERS (customer_master_ingest),
-- RAW.PRODUCTS (product_reviews_sentiment), ANALYTICS.RECOMMENDATIONS (customer_recommendations),
-- ANALYTICS.CUSTOMER_PURCHASE_HISTORY (pos_transactions_ingest, a dynamic table), RAG.* (document_ingest,
-- embedding_refresh).
CREATE SCHEMA IF NOT EXISTS {{ database }}.MARKETING;
CREATE SCHEMA IF NOT EXISTS {{ database }}.OPS;

-- One email per (CAMPAIGN_ID, CUSTOMER_ID): every write is a MERGE on that key, and a `generated`
-- row is never overwritten (Snowflake does not enforce the key; the MERGEs keep it).
CREATE TABLE IF NOT EXISTS {{ database }}.MARKETING.EMAILS (
    CAMPAIGN_ID             VARCHAR       NOT NULL,
    CUSTOMER_ID             VARCHAR       NOT NULL,
    STATUS                  VARCHAR       NOT NULL,  -- generated | needs_review | failed | skipped
    LANGUAGE                VARCHAR,                 -- BCP 47 tag written in: the customer's, or en (fallback)
    PREFERRED_LANGUAGE      VARCHAR,                 -- the customer's tag when the email was written
    LANGUAGE_FALLBACK       BOOLEAN,                 -- true: the preferred language is not supported, English written
    DETECTED_LANGUAGE       VARCHAR,                 -- what language identification found in the email
    SUBJECT                 VARCHAR,
    PREHEADER               VARCHAR,
    BODY                    VARCHAR,
    PRODUCT_IDS             ARRAY,                   -- products the email mentions (the model's list)
    RECOMMENDED_PRODUCT_IDS ARRAY,                   -- the customer's recommendations it was written from
    CONTEXT_CHUNK_IDS       ARRAY,                   -- RAG.CHUNKS the prompt carried
    REASONS                 ARRAY,                   -- why needs_review / failed / skipped (one line each, no data)
    NOTES                   ARRAY,                   -- flags on any status, e.g. the language fallback
    MODEL_ID                VARCHAR,
    MODE                    VARCHAR,                 -- on_demand | batch
    ATTEMPTS                INTEGER,                 -- model answers used: 1, or 2 after a validation retry
    INPUT_TOKENS            INTEGER,                 -- as the model counted them, all attempts
    OUTPUT_TOKENS           INTEGER,
    ESTIMATED_INPUT_TOKENS  INTEGER,                 -- tiktoken estimate of the requests, all attempts
    BATCH_NO                INTEGER,
    RUN_ID                  VARCHAR,                 -- the Airflow run that wrote the row last
    GENERATED_AT            TIMESTAMP_LTZ,           -- first written
    UPDATED_AT              TIMESTAMP_LTZ,           -- last written
    PRIMARY KEY (CAMPAIGN_ID, CUSTOMER_ID)
);

-- Which customers a run works on, in which batch: select_audience writes it, each mapped
-- generate_batch task reads its batch from it (so no customer id travels through XCom).
CREATE TABLE IF NOT EXISTS {{ database }}.MARKETING.CAMPAIGN_AUDIENCE (
    CAMPAIGN_ID VARCHAR       NOT NULL,
    RUN_ID      VARCHAR       NOT NULL,
    BATCH_NO    INTEGER       NOT NULL,
    CUSTOMER_ID VARCHAR       NOT NULL,
    SELECTED_AT TIMESTAMP_LTZ NOT NULL
);

-- One row per run: what it selected and how (parameters, mode, batch size).
CREATE TABLE IF NOT EXISTS {{ database }}.MARKETING.CAMPAIGN_RUNS (
    CAMPAIGN_ID   VARCHAR       NOT NULL,
    RUN_ID        VARCHAR       NOT NULL,
    MODE          VARCHAR       NOT NULL,  -- on_demand | batch
    AUDIENCE      VARIANT,                 -- the filter: languages, countries, max_customers
    ELIGIBLE      INTEGER,                 -- consenting customers matching the filter
    TO_GENERATE   INTEGER,                 -- of those, not generated yet, with recommendations
    SKIPPED       INTEGER,                 -- of those, without recommendations
    BATCH_SIZE    INTEGER,
    BATCHES       INTEGER,
    SELECTED_AT   TIMESTAMP_LTZ NOT NULL
);

-- Company chunks retrieved for each recommended product of a campaign (top k by cosine
-- similarity); CHUNK_ID NULL marks a product for which nothing was found. Retrieved once per
-- campaign: a re-run or a retry embeds nothing again.
CREATE TABLE IF NOT EXISTS {{ database }}.MARKETING.CAMPAIGN_CONTEXT (
    CAMPAIGN_ID  VARCHAR       NOT NULL,
    PRODUCT_ID   VARCHAR       NOT NULL,
    RANK         INTEGER       NOT NULL,  -- 1 best; 0 for the nothing-found marker
    CHUNK_ID     VARCHAR,
    SCORE        FLOAT,
    RETRIEVED_AT TIMESTAMP_LTZ NOT NULL
);

-- Model usage per task attempt (one row per run, task, map index, try and model), rewritten at
-- every flush, so a killed task still shows what it spent. Cost is an estimate from the price
-- table in include/campaign/pricing.py (GENAI_LLM_PRICES).
CREATE TABLE IF NOT EXISTS {{ database }}.OPS.LLM_USAGE (
    RUN_ID                 VARCHAR       NOT NULL,
    DAG_ID                 VARCHAR       NOT NULL,
    TASK_ID                VARCHAR       NOT NULL,
    MAP_INDEX              INTEGER       NOT NULL,  -- -1 when not mapped
    TRY_NUMBER             INTEGER       NOT NULL,
    MODEL_ID               VARCHAR       NOT NULL,
    PURPOSE                VARCHAR       NOT NULL,  -- email | retrieval
    CAMPAIGN_ID            VARCHAR,
    BATCH_NO               INTEGER,
    MODE                   VARCHAR,
    ITEMS                  INTEGER,                 -- customers (email) or queries (retrieval) handled
    CALLS                  INTEGER,                 -- requests sent, retries included
    THROTTLES              INTEGER,
    SERVER_ERRORS          INTEGER,
    RETRIES                INTEGER,                 -- backoff retries of throttled / failed requests
    FAILURES               INTEGER,                 -- items given up on after all attempts
    VALIDATION_RETRIES     INTEGER,                 -- second answers asked for after a failed check
    INPUT_TOKENS           INTEGER,
    OUTPUT_TOKENS          INTEGER,
    ESTIMATED_INPUT_TOKENS INTEGER,                 -- tiktoken estimate of what was sent
    ESTIMATED_COST_USD     NUMBER(18, 6),           -- NULL when the model has no price
    STARTED_AT             TIMESTAMP_LTZ,
    UPDATED_AT             TIMESTAMP_LTZ
);

-- Internal stage for the flushes; files are purged by the COPY that reads them.
CREATE STAGE IF NOT EXISTS {{ database }}.MARKETING.CAMPAIGN_STAGE
    COMMENT = 'personalized_email_campaign: emails, retrieved context and model usage on their way to their tables';
