"""DynamicTableFreshnessOperator with a scripted Snowflake connection: what it asks, what it refreshes, how it fails."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from snowflake.connector.errors import ProgrammingError

from genai_personalization.operators.freshness import DynamicTableFreshnessError, DynamicTableFreshnessOperator

NOW = datetime(2025, 3, 1, 10, 30, tzinfo=UTC)
SILVER = "GENAI.CURATED.PURCHASE_LINES"
GOLD = "GENAI.ANALYTICS.CUSTOMER_PURCHASE_HISTORY"
SHOW_COLUMNS = ["name", "database_name", "schema_name", "target_lag", "scheduling_state", "data_timestamp"]


class FakeSnowflake:
    """Answers the operator's statements from a dict of tables; records every statement."""

    def __init__(self, tables: dict[str, dict[str, Any]], failing: dict[str, str] | None = None) -> None:
        self.tables = tables
        self.failing = failing or {}
        self.statements: list[str] = []
        self.closed = False

    # connection
    def cursor(self) -> FakeSnowflake:
        return self

    def close(self) -> None:
        self.closed = True

    # cursor
    def execute(self, sql: str) -> None:
        self.statements.append(sql)
        self.description: list[tuple[str]] = []
        self.rows: list[tuple[Any, ...]] = []
        if sql.startswith("SELECT CURRENT_TIMESTAMP()"):
            self.description, self.rows = [("NOW",)], [(NOW,)]
        elif match := re.fullmatch(r"SHOW DYNAMIC TABLES LIKE '(\w+)' IN SCHEMA (\w+)\.(\w+)", sql):
            name, database, schema = match.groups()
            self.description = [(c,) for c in SHOW_COLUMNS]
            # LIKE is a pattern: '_' also matches other names, which the operator must ignore
            pattern = re.compile(name.replace("_", "."))
            self.rows = [
                (t.split(".")[2], *t.split(".")[:2], v["target_lag"], v["state"], v["data_timestamp"])
                for t, v in sorted(self.tables.items())
                if t.startswith(f"{database}.{schema}.") and pattern.fullmatch(t.split(".")[2])
            ]
        elif match := re.search(r"DYNAMIC_TABLE_REFRESH_HISTORY\(NAME => '([\w.]+)'\)", sql):
            self.description = [("STATE",), ("STATE_MESSAGE",), ("REFRESH_START_TIME",), ("REFRESH_END_TIME",)]
            history = self.tables.get(match[1], {}).get("history", [])
            self.rows = [(state, message, at, at) for state, message, at in reversed(history)]
        elif match := re.fullmatch(r"ALTER DYNAMIC TABLE ([\w.]+) REFRESH", sql):
            table = self.tables[match[1]]
            if match[1] in self.failing:
                table["history"].append(("FAILED", self.failing[match[1]], NOW))
                raise ProgrammingError(msg=self.failing[match[1]], errno=904)
            table["data_timestamp"] = NOW
            table["history"].append(("SUCCEEDED", None, NOW))
        else:
            raise AssertionError(f"unexpected statement: {sql}")

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows


def table(lag_minutes: float, target: str = "15 minutes", state: str = "RUNNING", history: Any = None) -> dict[str, Any]:
    data_timestamp = NOW - timedelta(minutes=lag_minutes)
    return {
        "target_lag": target, "state": state, "data_timestamp": data_timestamp,
        "history": list(history) if history is not None else [("SUCCEEDED", None, data_timestamp)],
    }  # fmt: skip


def run(snowflake: FakeSnowflake, **kwargs: Any) -> dict[str, dict[str, object]]:
    kwargs.setdefault("tables", ["CURATED.PURCHASE_LINES", "ANALYTICS.CUSTOMER_PURCHASE_HISTORY"])
    operator = DynamicTableFreshnessOperator(task_id="check", database="genai", **kwargs)
    operator.__dict__["snowflake_hook"] = type("Hook", (), {"get_conn": lambda self: snowflake})()
    return operator.execute(context={})  # type: ignore[arg-type]


def refreshes(snowflake: FakeSnowflake) -> list[str]:
    return [s.split()[3] for s in snowflake.statements if s.endswith(" REFRESH")]


def test_nothing_is_built_at_init_and_fields_are_templated() -> None:
    operator = DynamicTableFreshnessOperator(task_id="check", tables=["CURATED.PURCHASE_LINES"])
    assert "snowflake_hook" not in operator.__dict__
    assert set(operator.template_fields) == {"tables", "tolerance", "downstream_target_lag", "database", "snowflake_conn_id"}


def test_fresh_tables_pass_with_a_summary_and_no_refresh() -> None:
    snowflake = FakeSnowflake({SILVER: table(3), GOLD: table(4)})
    assert run(snowflake) == {
        SILVER: {"verdict": "FRESH", "lag_seconds": 180.0, "refreshed": False},
        GOLD: {"verdict": "FRESH", "lag_seconds": 240.0, "refreshed": False},
    }
    assert refreshes(snowflake) == [] and snowflake.closed


def test_only_the_exact_name_counts_not_other_like_matches() -> None:
    snowflake = FakeSnowflake({"GENAI.CURATED.PURCHASEXLINES": table(3)})
    with pytest.raises(DynamicTableFreshnessError, match=rf"^{SILVER} is unknown: SHOW DYNAMIC TABLES does not list it$"):
        run(snowflake, tables=["CURATED.PURCHASE_LINES"])


def test_stale_tables_are_refreshed_upstream_first_then_rechecked() -> None:
    snowflake = FakeSnowflake({SILVER: table(40), GOLD: table(50)})
    summary = run(snowflake)
    assert refreshes(snowflake) == [SILVER, GOLD]
    assert summary == {
        SILVER: {"verdict": "FRESH", "lag_seconds": 0.0, "refreshed": True},
        GOLD: {"verdict": "FRESH", "lag_seconds": 0.0, "refreshed": True},
    }
    # read, refresh, read again
    assert [s.split()[0] for s in snowflake.statements].count("SHOW") == 4


def test_only_stale_tables_are_refreshed() -> None:
    snowflake = FakeSnowflake({SILVER: table(3), GOLD: table(50)})
    run(snowflake)
    assert refreshes(snowflake) == [GOLD]


def test_stale_without_refresh_fails_naming_lag_target_and_last_refresh() -> None:
    snowflake = FakeSnowflake({SILVER: table(3), GOLD: table(42)})
    with pytest.raises(DynamicTableFreshnessError) as error:
        run(snowflake, refresh_when_stale=False)
    assert str(error.value) == (
        f"{GOLD} is stale: lag 42m > target 15m + tolerance 5m; last refresh SUCCEEDED at 2025-03-01 09:48:00 UTC"
    )
    assert refreshes(snowflake) == []


def test_a_refresh_that_fails_is_reported_with_its_error_and_the_others_still_refresh() -> None:
    snowflake = FakeSnowflake(
        {SILVER: table(40), GOLD: table(50)}, failing={SILVER: "SQL compilation error:\ninvalid identifier 'T.ITEMS'"}
    )
    with pytest.raises(DynamicTableFreshnessError) as error:
        run(snowflake)
    assert refreshes(snowflake) == [SILVER, GOLD]
    assert str(error.value) == (
        f"{SILVER} is failing: lag 40m > target 15m + tolerance 5m; last refresh FAILED at 2025-03-01 10:30:00 UTC: "
        "SQL compilation error: invalid identifier 'T.ITEMS'"
    )


def test_suspended_and_failing_tables_are_not_refreshed_and_all_are_in_one_line() -> None:
    failed = [("FAILED", "boom", NOW - timedelta(minutes=2))]
    snowflake = FakeSnowflake({SILVER: table(60, state="SUSPENDED"), GOLD: table(45, history=failed)})
    with pytest.raises(DynamicTableFreshnessError) as error:
        run(snowflake)
    assert refreshes(snowflake) == []
    assert str(error.value) == (
        f"{SILVER} is suspended: lag 1h > target 15m + tolerance 5m; last refresh SUCCEEDED at 2025-03-01 09:30:00 UTC; "
        f"{GOLD} is failing: lag 45m > target 15m + tolerance 5m; last refresh FAILED at 2025-03-01 10:28:00 UTC: boom"
    )


def test_downstream_is_judged_by_the_checked_consumers_target_or_the_configured_one() -> None:
    snowflake = FakeSnowflake({SILVER: table(25, target="DOWNSTREAM"), GOLD: table(3)})
    with pytest.raises(DynamicTableFreshnessError, match=r"lag 25m > target DOWNSTREAM \(15m\) \+ tolerance 5m"):
        run(snowflake, refresh_when_stale=False)
    assert run(FakeSnowflake({SILVER: table(25, target="DOWNSTREAM"), GOLD: table(3)}),
               downstream_target_lag="1 hour")[SILVER]["verdict"] == "FRESH"  # fmt: skip


def test_tolerance_is_configurable() -> None:
    snowflake = FakeSnowflake({SILVER: table(3), GOLD: table(42)})
    assert run(snowflake, tolerance="30 minutes")[GOLD]["verdict"] == "FRESH"
    assert run(FakeSnowflake({SILVER: table(3), GOLD: table(42)}), tolerance=timedelta(hours=1))[GOLD]["refreshed"] is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tables": ["PURCHASE_LINES"]}, "'PURCHASE_LINES' is not SCHEMA.TABLE or DATABASE.SCHEMA.TABLE"),
        ({"tables": ["CURATED.X; DROP TABLE Y"]}, "is not SCHEMA.TABLE"),
        ({"tables": ['CURATED."x"']}, "is not SCHEMA.TABLE"),
        ({"tables": []}, "tables must name at least one dynamic table"),
        ({"tolerance": "soon"}, "tolerance: target lag 'soon' is not"),
        ({"tolerance": "DOWNSTREAM"}, "tolerance must be a duration"),
    ],
)
def test_bad_configuration_fails_without_retries(kwargs: dict[str, Any], message: str) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match=re.escape(message)):
        run(FakeSnowflake({}), **kwargs)


def test_fully_qualified_names_keep_their_database() -> None:
    snowflake = FakeSnowflake({"OTHER.CURATED.PURCHASE_LINES": table(3)})
    assert list(run(snowflake, tables=["other.curated.purchase_lines"])) == ["OTHER.CURATED.PURCHASE_LINES"]
    assert "SHOW DYNAMIC TABLES LIKE 'PURCHASE_LINES' IN SCHEMA OTHER.CURATED" in snowflake.statements
