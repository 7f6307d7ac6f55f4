"""dynamic_table_freshness against the Snowflake stand-in: a fresh chain passes and emits Asset events;
a stale, a suspended, a failing and a missing table each fail with their own one-line message.

The DAG runs through Airflow (dag.test). Each test uses a database of its own, so the ingest
DAG's tests (which own GENAI) and these never see each other's tables. The failure cases run the
operator directly, with the stand-in's refresh scheduler paused: it refreshes an
aged table within a second, which would hide the staleness under test.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from test_purchase_dynamic_tables import (
    EVENTS,
    create_bronze,
    create_dynamic_tables,
    drop_all,
    insert_events,
)

pytestmark = pytest.mark.integration

DAG_ID = "dynamic_table_freshness"
LOGICAL_DATE = datetime(2025, 3, 1, 6, 10, tzinfo=timezone.utc)
DATABASE = "GENAI_FRESHNESS_TEST"
DAG_DATABASE = "GENAI_FRESHNESS_DAG_TEST"
SILVER = f"{DATABASE}.CURATED.PURCHASE_LINES"
GOLD = f"{DATABASE}.ANALYTICS.CUSTOMER_PURCHASE_HISTORY"
AT = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"  # a refresh time in a message
SECONDS = r"\d{1,2}s"  # the lag of a table refreshed during the test


def _hook() -> Any:  # noqa: ANN401
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    return SnowflakeHook(snowflake_conn_id="snowflake_default")


def _history(table: str) -> list[tuple[Any, ...]]:
    return [
        tuple(r)
        for r in _hook().get_records(
            "SELECT STATE, REFRESH_TRIGGER FROM TABLE("
            f"{DATABASE}.INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY(NAME => '{table}')) ORDER BY REFRESH_START_TIME"
        )
    ]


@pytest.fixture
def scheduler_paused(local_stack: object) -> Iterator[None]:
    """The stand-in's scheduled refresh paused for one test, and always resumed: the stack is shared."""
    assert _hook().get_first("SELECT SYSTEM$LOCAL_DYNAMIC_TABLE_SCHEDULER('PAUSE')") == ("PAUSED",)
    try:
        yield
    finally:
        _hook().run("SELECT SYSTEM$LOCAL_DYNAMIC_TABLE_SCHEDULER('RESUME')")


@pytest.fixture(scope="module")
def bronze(local_stack: object, airflow_db: None) -> Iterator[None]:
    create_bronze(DATABASE)
    insert_events(DATABASE, EVENTS)
    try:
        yield
    finally:
        drop_all(DATABASE)


@pytest.fixture
def chain(bronze: None, scheduler_paused: None) -> None:
    """Both dynamic tables, new (replace=true): fresh, RUNNING, a CREATION refresh in their history."""
    create_dynamic_tables(DATABASE, replace=True)


def _check(**kwargs: Any) -> dict[str, dict[str, object]]:
    from genai_personalization.operators.freshness import DynamicTableFreshnessOperator

    operator = DynamicTableFreshnessOperator(
        task_id="check", tables=["CURATED.PURCHASE_LINES", "ANALYTICS.CUSTOMER_PURCHASE_HISTORY"],
        database=DATABASE, **kwargs,
    )  # fmt: skip
    return operator.execute(context={})  # type: ignore[arg-type]  # no outlets, so no context is read


def _failure(**kwargs: Any) -> str:
    from genai_personalization.operators.freshness import DynamicTableFreshnessError

    with pytest.raises(DynamicTableFreshnessError) as error:
        _check(**kwargs)
    message = str(error.value)
    assert "\n" not in message
    return message


# ---- through Airflow: a fresh chain passes and emits the Asset events


@pytest.fixture
def dag_database(local_stack: object, airflow_db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The DAG pointed at a database of its own (the ingest DAG's tests own GENAI): the setting is read
    by the operator at run time and by the asset module at import, so that module is imported afresh."""
    import genai_personalization
    import genai_personalization.assets

    monkeypatch.setenv("GENAI_SNOWFLAKE_DATABASE", DAG_DATABASE)
    # both the module and the package attribute come back as they were after the test
    monkeypatch.setattr(genai_personalization, "assets", genai_personalization.assets)
    monkeypatch.delitem(sys.modules, "genai_personalization.assets")
    create_bronze(DAG_DATABASE)
    insert_events(DAG_DATABASE, EVENTS)
    create_dynamic_tables(DAG_DATABASE)
    try:
        yield DAG_DATABASE
    finally:
        drop_all(DAG_DATABASE)


def test_dag_passes_on_fresh_tables_and_emits_asset_events(dag_database: str) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from sqlalchemy import select

    from local.stack import REPO_ROOT

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags" / f"{DAG_ID}.py"))
    assert bag.import_errors == {}
    run = bag.get_dag(DAG_ID).test(logical_date=LOGICAL_DATE)
    assert run.state == DagRunState.SUCCESS

    with create_session() as session:
        events = session.execute(
            select(AssetModel.name, AssetEvent.extra)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetEvent.source_run_id == run.run_id)
            .order_by(AssetModel.name)
        ).all()
        summary = session.scalar(
            select(XComModel.value).where(XComModel.run_id == run.run_id, XComModel.key == "return_value")
        )
    assert [name for name, _ in events] == [
        f"{dag_database}.ANALYTICS.CUSTOMER_PURCHASE_HISTORY", f"{dag_database}.CURATED.PURCHASE_LINES",
    ]  # fmt: skip
    for _, extra in events:
        assert set(extra) == {"data_timestamp", "lag_seconds"}
        assert datetime.fromisoformat(extra["data_timestamp"]).tzinfo is not None
    summary = summary if isinstance(summary, dict) else json.loads(summary)
    assert {t: v["verdict"] for t, v in summary.items()} == {
        f"{dag_database}.CURATED.PURCHASE_LINES": "FRESH", f"{dag_database}.ANALYTICS.CUSTOMER_PURCHASE_HISTORY": "FRESH",
    }  # fmt: skip


# ---- the operator on its own database: each failure, its own line


def test_fresh_tables_pass_without_a_refresh(chain: None) -> None:
    summary = _check()
    assert {t: (v["verdict"], v["refreshed"]) for t, v in summary.items()} == {
        SILVER: ("FRESH", False), GOLD: ("FRESH", False),
    }  # fmt: skip
    assert all(0 <= float(v["lag_seconds"]) < 60 for v in summary.values())  # type: ignore[arg-type]
    assert _history(GOLD) == [("SUCCEEDED", "CREATION")]


def test_stale_table_with_refresh_disabled_fails_with_its_own_line(chain: None) -> None:
    _hook().run(f"SELECT SYSTEM$LOCAL_AGE_DYNAMIC_TABLE('{GOLD}', 3600)")
    message = _failure(refresh_when_stale=False)
    assert re.fullmatch(
        rf"{GOLD} is stale: lag 1h(\d+m)? > target 15m \+ tolerance 5m; last refresh SUCCEEDED at {AT}", message
    ), message
    assert _history(GOLD) == [("SUCCEEDED", "CREATION")]  # nothing refreshed it


def test_stale_tables_are_refreshed_upstream_first_and_pass(chain: None) -> None:
    insert_events(DATABASE, [("E9", "2025-03-05T07:00:00+00:00", "C9", "web", None, "EUR",
                              [{"product_id": "P1", "quantity": 1, "unit_price": 1}])])  # fmt: skip
    for table in (SILVER, GOLD):
        _hook().run(f"SELECT SYSTEM$LOCAL_AGE_DYNAMIC_TABLE('{table}', 7200)")

    summary = _check()
    assert {t: (v["verdict"], v["refreshed"]) for t, v in summary.items()} == {
        SILVER: ("FRESH", True), GOLD: ("FRESH", True),
    }  # fmt: skip
    assert _hook().get_first(f"SELECT ORDER_COUNT FROM {GOLD} WHERE CUSTOMER_ID = 'C9'") == (1,)
    # silver was refreshed on its own first (the stand-in refreshes it again as gold's upstream)
    manual = _hook().get_records(
        f"SELECT NAME FROM TABLE({DATABASE}.INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY()) "
        "WHERE REFRESH_TRIGGER = 'MANUAL' ORDER BY REFRESH_START_TIME LIMIT 1"
    )
    assert [tuple(r) for r in manual] == [("PURCHASE_LINES",)]


def test_suspended_table_fails_with_its_own_line(chain: None) -> None:
    _hook().run(f"ALTER DYNAMIC TABLE {SILVER} SUSPEND")
    message = _failure()
    assert re.fullmatch(
        rf"{SILVER} is suspended: lag {SECONDS} <= target 15m \+ tolerance 5m; last refresh SUCCEEDED at {AT}", message
    ), message
    assert _history(SILVER) == [("SUCCEEDED", "CREATION")]  # a suspension is not the operator's to undo


def test_every_problem_table_is_in_the_one_line(chain: None) -> None:
    _hook().run(f"ALTER DYNAMIC TABLE {SILVER} SUSPEND")
    _hook().run(f"SELECT SYSTEM$LOCAL_AGE_DYNAMIC_TABLE('{GOLD}', 3600)")
    message = _failure(refresh_when_stale=False)
    assert re.fullmatch(
        rf"{SILVER} is suspended: lag {SECONDS} <= target 15m \+ tolerance 5m; last refresh SUCCEEDED at {AT}; "
        rf"{GOLD} is stale: lag 1h(\d+m)? > target 15m \+ tolerance 5m; last refresh SUCCEEDED at {AT}",
        message,
    ), message


def test_failed_refresh_fails_with_the_error_in_the_line(chain: None) -> None:
    from snowflake.connector.errors import ProgrammingError

    _hook().run(f"ALTER TABLE {DATABASE}.RAW.POS_TRANSACTIONS RENAME COLUMN ITEMS TO LINE_ITEMS")
    try:
        with pytest.raises(ProgrammingError):
            _hook().run(f"ALTER DYNAMIC TABLE {SILVER} REFRESH")
        message = _failure()
    finally:
        _hook().run(f"ALTER TABLE {DATABASE}.RAW.POS_TRANSACTIONS RENAME COLUMN LINE_ITEMS TO ITEMS")
    assert re.fullmatch(
        rf"{SILVER} is failing: lag {SECONDS} <= target 15m \+ tolerance 5m; last refresh FAILED at {AT}: "
        r"SQL compilation error: invalid identifier 'T\.ITEMS'",
        message,
    ), message


def test_missing_table_is_unknown(chain: None) -> None:
    from genai_personalization.operators.freshness import DynamicTableFreshnessError, DynamicTableFreshnessOperator

    operator = DynamicTableFreshnessOperator(
        task_id="check", tables=["CURATED.PURCHASE_LINES", "CURATED.NO_SUCH_TABLE"], database=DATABASE
    )
    with pytest.raises(DynamicTableFreshnessError) as error:
        operator.execute(context={})  # type: ignore[arg-type]
    assert str(error.value) == f"{DATABASE}.CURATED.NO_SUCH_TABLE is unknown: SHOW DYNAMIC TABLES does not list it"
