"""Every Snowflake table the project's DAGs produce, as Airflow Assets (one place, so producers
and consumers cannot drift apart).

URIs follow the Snowflake provider's form ``snowflake://<account>/<database>/<schema>/<table>``;
account and database come from project settings, read once here (environment only, no I/O).
"""

from __future__ import annotations

from airflow.sdk import Asset

from include.settings import Settings

_settings = Settings.from_env()


def snowflake_table(schema: str, table: str) -> Asset:
    database = _settings.snowflake_database
    return Asset(
        name=f"{database}.{schema}.{table}",
        uri=f"snowflake://{_settings.snowflake_account}/{database}/{schema}/{table}",
    )


RAW_CUSTOMERS = snowflake_table("RAW", "CUSTOMERS")
OPS_QUARANTINE = snowflake_table("OPS", "QUARANTINE")
