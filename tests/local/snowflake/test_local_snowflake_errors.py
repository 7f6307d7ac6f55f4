"""Whatever fakesnow cannot run must fail as a Snowflake SQL error, at once, never as an HTTP 500."""

from __future__ import annotations

from typing import Any

import pytest
from snowflake.connector.errors import ProgrammingError

from local.snowflake.extensions import as_sql_error


def test_bad_data_is_a_data_exception(cur: Any) -> None:
    with pytest.raises(ProgrammingError) as error:
        cur.execute("SELECT PARSE_JSON('{')")
    assert (error.value.errno, error.value.sqlstate) == (100069, "22000")
    assert "Malformed JSON" in error.value.msg and "\n" not in error.value.msg


def test_anything_else_says_the_stand_in_cannot_run_it() -> None:
    error = as_sql_error(RuntimeError("internal detail\nsecond line"))
    assert error.sqlstate == "0A000"
    assert str(error).endswith("the local Snowflake stand-in cannot run this statement: RuntimeError: internal detail")


@pytest.mark.integration
@pytest.mark.timeout(60)  # before the fix the connector retried the server's 500 for minutes
def test_through_the_server_the_client_gets_the_error_immediately(local_stack: Any) -> None:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    with pytest.raises(ProgrammingError, match="Malformed JSON"):
        SnowflakeHook().get_first("SELECT PARSE_JSON('{')")
