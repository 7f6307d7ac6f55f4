"""Every Snowflake table the project's DAGs produce, as Airflow Assets (one place, so producers
and consumers cannot drift apart).

Each asset is named by its fully qualified table name, with no URI. A ``snowflake://`` URI would
make Airflow load every provider's URI normalizers (the amazon S3 hook and boto3 among them) while
the DAG file is parsed: ~0.2 s at every parse, measured by `make bench`. The database comes from
project settings, read once here (environment only, no I/O).
"""

from __future__ import annotations

from airflow.sdk import Asset

from include.settings import Settings

_settings = Settings.from_env()


def snowflake_table(schema: str, table: str) -> Asset:
    return Asset(name=f"{_settings.snowflake_database}.{schema}.{table}")


RAW_CUSTOMERS = snowflake_table("RAW", "CUSTOMERS")
OPS_QUARANTINE = snowflake_table("OPS", "QUARANTINE")
# purchases (pos_transactions_ingest, dynamic_table_freshness)
RAW_POS_TRANSACTIONS = snowflake_table("RAW", "POS_TRANSACTIONS")
CURATED_PURCHASE_LINES = snowflake_table("CURATED", "PURCHASE_LINES")
ANALYTICS_CUSTOMER_PURCHASE_HISTORY = snowflake_table("ANALYTICS", "CUSTOMER_PURCHASE_HISTORY")
# company knowledge (document_ingest, embedding_refresh)
RAG_DOCUMENTS = snowflake_table("RAG", "DOCUMENTS")
RAG_CHUNKS = snowflake_table("RAG", "CHUNKS")
RAG_CHUNK_EMBEDDINGS = snowflake_table("RAG", "CHUNK_EMBEDDINGS")
# products, reviews and recommendations (product_reviews_sentiment, customer_recommendations)
RAW_PRODUCTS = snowflake_table("RAW", "PRODUCTS")
RAW_PRODUCT_REVIEWS = snowflake_table("RAW", "PRODUCT_REVIEWS")
CURATED_REVIEW_SENTIMENT = snowflake_table("CURATED", "REVIEW_SENTIMENT")
ANALYTICS_RECOMMENDATIONS = snowflake_table("ANALYTICS", "RECOMMENDATIONS")
# the email campaign (personalized_email_campaign)
MARKETING_EMAILS = snowflake_table("MARKETING", "EMAILS")
OPS_LLM_USAGE = snowflake_table("OPS", "LLM_USAGE")
