"""Project settings, read from the environment with local-stack defaults.

Kept free of Airflow so that include/ code and its tests can use it; operators resolve settings
at execute time, never at DAG parse time, so a worker's environment is the one that counts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

# Settings are spliced into SQL as identifiers (never as values), so they must be plain identifiers.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,254}$")
# Snowflake's TARGET_LAG: '<n> seconds|minutes|hours|days' (at least 1 minute) or DOWNSTREAM; spliced into DDL
_TARGET_LAG = re.compile(r"^(DOWNSTREAM|\d{1,6} (second|minute|hour|day)s?)$", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    landing_bucket: str = "genai-landing"
    snowflake_database: str = "GENAI"
    snowflake_conn_id: str = "snowflake_default"
    aws_conn_id: str = "aws_default"
    # Snowflake TARGET_LAG of the purchase dynamic tables (silver and gold), e.g. "15 minutes"
    dynamic_table_target_lag: str = "15 minutes"
    # warehouse that refreshes the dynamic tables: DDL must name one, and SQL cannot see the connection's
    snowflake_warehouse: str = "LOCAL_WH"

    def __post_init__(self) -> None:
        if not _IDENTIFIER.match(self.snowflake_database):
            raise ValueError(f"GENAI_SNOWFLAKE_DATABASE must be a plain Snowflake identifier, got {self.snowflake_database!r}")
        if not _IDENTIFIER.match(self.snowflake_warehouse):
            raise ValueError(f"GENAI_SNOWFLAKE_WAREHOUSE must be a plain Snowflake identifier, got {self.snowflake_warehouse!r}")
        if not _TARGET_LAG.match(self.dynamic_table_target_lag):
            raise ValueError(
                "GENAI_DYNAMIC_TABLE_TARGET_LAG must be like '15 minutes' or DOWNSTREAM, "
                f"got {self.dynamic_table_target_lag!r}"
            )
        if not self.landing_bucket:
            raise ValueError("GENAI_LANDING_BUCKET must not be empty")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        return cls(
            landing_bucket=env.get("GENAI_LANDING_BUCKET") or defaults.landing_bucket,
            snowflake_database=(env.get("GENAI_SNOWFLAKE_DATABASE") or defaults.snowflake_database).upper(),
            snowflake_conn_id=env.get("GENAI_SNOWFLAKE_CONN_ID") or defaults.snowflake_conn_id,
            aws_conn_id=env.get("GENAI_AWS_CONN_ID") or defaults.aws_conn_id,
            dynamic_table_target_lag=env.get("GENAI_DYNAMIC_TABLE_TARGET_LAG") or defaults.dynamic_table_target_lag,
            snowflake_warehouse=(env.get("GENAI_SNOWFLAKE_WAREHOUSE") or defaults.snowflake_warehouse).upper(),
        )


def is_identifier(name: str) -> bool:
    """True if ``name`` can be spliced into SQL as an unquoted Snowflake identifier."""
    return bool(_IDENTIFIER.match(name))
