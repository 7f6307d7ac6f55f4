"""The one-line reason a failed Snowflake step gives: the cause must survive, never a bare "error:"."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException
from snowflake.connector.errors import ProgrammingError

from genai_personalization.operators.snowflake_steps import SnowflakeSqlStepOperator, snowflake_error_line

COMPILATION = "SQL compilation error:\nObject 'GENAI.RAW.CUSTOMERS' does not exist or not authorized."


@pytest.mark.parametrize(
    ("message", "line"),
    [
        (COMPILATION, "SQL compilation error: Object 'GENAI.RAW.CUSTOMERS' does not exist or not authorized."),
        ("Warehouse 'GENAI_WH' cannot be resumed\nsecond line", "Warehouse 'GENAI_WH' cannot be resumed"),
        ("\n\n  Numeric value 'abc' is not recognized  \n", "Numeric value 'abc' is not recognized"),
        ("ends with a colon:", "ends with a colon:"),
    ],
)
def test_the_line_keeps_the_cause_that_follows_an_introducing_colon(message: str, line: str) -> None:
    # the connector puts the error code in front ("002003: 2003: ..."), which stays: it is what to search for
    assert snowflake_error_line(ProgrammingError(msg=message, errno=2003)) == f"002003: 2003: {line}"


def test_an_error_without_message_still_says_something() -> None:
    assert snowflake_error_line(ValueError("")) == "(no message)"


class FailingConnection:
    def execute_string(self, sql: str, remove_comments: bool = False) -> Any:
        raise ProgrammingError(msg=COMPILATION, errno=2003)


def test_a_failed_step_raises_one_line_naming_the_file_and_the_cause() -> None:
    operator = SnowflakeSqlStepOperator(task_id="create_objects", dag_sql="customer_master_ingest",
                                        step="create_objects")
    with pytest.raises(AirflowException) as raised:
        operator.run_step(FailingConnection(), "create_objects", {"database": "GENAI"})
    assert str(raised.value) == ("customer_master_ingest/create_objects.sql failed: 002003: 2003: SQL compilation error: "
                                 "Object 'GENAI.RAW.CUSTOMERS' does not exist or not authorized.")
    assert "\n" not in str(raised.value)
