"""Project settings: defaults for the local stack, overrides from the environment, safe identifiers."""

from __future__ import annotations

import dataclasses

import pytest

from include.settings import Settings


def test_defaults_match_the_local_stack() -> None:
    assert Settings.from_env({}) == Settings(
        landing_bucket="genai-landing", snowflake_database="GENAI", snowflake_conn_id="snowflake_default",
        aws_conn_id="aws_default",
    )


def test_environment_overrides() -> None:
    settings = Settings.from_env({
        "GENAI_LANDING_BUCKET": "prod-landing", "GENAI_SNOWFLAKE_DATABASE": "genai_prod",
        "GENAI_SNOWFLAKE_CONN_ID": "sf", "GENAI_AWS_CONN_ID": "aws",
    })
    assert (settings.landing_bucket, settings.snowflake_database, settings.snowflake_conn_id,
            settings.aws_conn_id) == ("prod-landing", "GENAI_PROD", "sf", "aws")


@pytest.mark.parametrize("database", ["GENAI; DROP TABLE X", "my-db", '"GENAI"', "1GENAI"])
def test_database_must_be_a_plain_identifier(database: str) -> None:
    # it is spliced into SQL as an identifier, so anything else is refused up front
    with pytest.raises(ValueError, match="GENAI_SNOWFLAKE_DATABASE"):
        Settings.from_env({"GENAI_SNOWFLAKE_DATABASE": database})


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().landing_bucket = "x"  # type: ignore[misc]


@pytest.mark.parametrize("lag", ["15 minutes", "1 minute", "2 hours", "DOWNSTREAM", "downstream", "90 seconds"])
def test_target_lag_accepts_snowflake_forms(lag: str) -> None:
    assert Settings.from_env({"GENAI_DYNAMIC_TABLE_TARGET_LAG": lag}).dynamic_table_target_lag == lag


@pytest.mark.parametrize("lag", ["15", "15 minutes'; DROP TABLE X; --", "soon"])
def test_target_lag_refuses_anything_else(lag: str) -> None:
    with pytest.raises(ValueError, match="GENAI_DYNAMIC_TABLE_TARGET_LAG"):
        Settings.from_env({"GENAI_DYNAMIC_TABLE_TARGET_LAG": lag})
