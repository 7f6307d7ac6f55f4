"""Every table and landing prefix the project's DAGs read or write, as Airflow Assets (one place, so
producers and consumers cannot drift apart). DAG tasks list them as ``inlets`` and ``outlets``, which
the Airflow UI draws as the flow from the S3 landing bucket to ``MARKETING.EMAILS``.

Each asset is named only, with no URI. A ``snowflake://`` or ``s3://`` URI would make Airflow load
every provider's URI normalizers (the amazon S3 hook and boto3 among them) while the DAG file is
parsed: ~0.2 s at every parse, measured by `make bench`. So a table is named by its fully qualified
name (``GENAI.RAW.CUSTOMERS``) and a landing prefix by bucket and prefix (``genai-landing/pos/``),
neither of which looks like a URI to Airflow. The database and bucket come from project settings,
read once here (environment only, no I/O).

What is left out on purpose: temporary session tables (``*_INCOMING``, ``REC_*``, ...) and the internal
stages files pass through on their way into a table (PUT, COPY ... PURGE = TRUE): they hold nothing
between runs, so they are steps of a task, not data flowing between tasks. The embedding sets' own
tables (``RAG.EMB_<MODEL>_<DIMS>``, one per model and dimensions, named from settings at run time)
are represented by ``RAG.CHUNK_EMBEDDINGS``, the view over the active set.

Outlets emit asset events, and three DAGs are scheduled on some: ``embedding_refresh`` on
``RAG.CHUNKS``, ``customer_recommendations`` on ``ANALYTICS.CUSTOMER_PURCHASE_HISTORY`` and
``CURATED.REVIEW_SENTIMENT``. An outlet means "this task changed the rows", so DDL-only steps
(``create_objects``, ``create_dynamic_tables``) have none (tests/dags/test_lineage.py).
"""

from __future__ import annotations

from airflow.sdk import Asset

from include.settings import Settings

_settings = Settings.from_env()


def snowflake_table(schema: str, table: str) -> Asset:
    return Asset(name=f"{_settings.snowflake_database}.{schema}.{table}")


def landing_prefix(prefix: str) -> Asset:
    """A key prefix of the landing bucket, e.g. ``pos/``: named ``<bucket>/<prefix>`` (no scheme, see above)."""
    return Asset(name=f"{_settings.landing_bucket}/{prefix}")


# S3 landing bucket (include/settings.py), the layout in DESIGN.md
S3_POS = landing_prefix("pos/")  # purchase events, pos/YYYY/MM/DD/HH/*.jsonl[.gz]
S3_CUSTOMERS = landing_prefix("customers/")  # customer master, customers/*.csv
S3_DOCUMENTS = landing_prefix("documents/")  # company documents, documents/**
S3_CATALOG = landing_prefix("catalog/")  # products with reviews, catalog/*.csv
# Bedrock batch inference input and output of the campaign's batch mode (operators/campaign_batch.py)
S3_BATCH_INFERENCE = landing_prefix("batch-inference/")

RAW_CUSTOMERS = snowflake_table("RAW", "CUSTOMERS")
OPS_QUARANTINE = snowflake_table("OPS", "QUARANTINE")
OPS_LOAD_LEDGER = snowflake_table("OPS", "LOAD_LEDGER")  # landing file versions already loaded
# purchases (pos_transactions_ingest, dynamic_table_freshness)
RAW_POS_TRANSACTIONS = snowflake_table("RAW", "POS_TRANSACTIONS")
CURATED_PURCHASE_LINES = snowflake_table("CURATED", "PURCHASE_LINES")
ANALYTICS_CUSTOMER_PURCHASE_HISTORY = snowflake_table("ANALYTICS", "CUSTOMER_PURCHASE_HISTORY")
# company knowledge (document_ingest, embedding_refresh)
RAG_DOCUMENTS = snowflake_table("RAG", "DOCUMENTS")
RAG_CHUNKS = snowflake_table("RAG", "CHUNKS")
RAG_CHUNK_EMBEDDINGS = snowflake_table("RAG", "CHUNK_EMBEDDINGS")  # also stands for the RAG.EMB_* set tables
RAG_EMBEDDING_SETS = snowflake_table("RAG", "EMBEDDING_SETS")
# products, reviews and recommendations (product_reviews_sentiment, customer_recommendations)
RAW_PRODUCTS = snowflake_table("RAW", "PRODUCTS")
RAW_PRODUCT_REVIEWS = snowflake_table("RAW", "PRODUCT_REVIEWS")
CURATED_REVIEW_SENTIMENT = snowflake_table("CURATED", "REVIEW_SENTIMENT")
ANALYTICS_RECOMMENDATIONS = snowflake_table("ANALYTICS", "RECOMMENDATIONS")
# the email campaign (personalized_email_campaign)
MARKETING_EMAILS = snowflake_table("MARKETING", "EMAILS")
MARKETING_CAMPAIGN_AUDIENCE = snowflake_table("MARKETING", "CAMPAIGN_AUDIENCE")
MARKETING_CAMPAIGN_RUNS = snowflake_table("MARKETING", "CAMPAIGN_RUNS")
MARKETING_CAMPAIGN_CONTEXT = snowflake_table("MARKETING", "CAMPAIGN_CONTEXT")
OPS_LLM_USAGE = snowflake_table("OPS", "LLM_USAGE")
