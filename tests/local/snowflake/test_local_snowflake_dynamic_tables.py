"""Dynamic tables in the local Snowflake stand-in (in-process fakesnow)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from snowflake.connector.errors import ProgrammingError

from local.snowflake.dynamic_tables import Name, Scheduler

SHOW_COLUMNS = [
    "created_on", "name", "database_name", "schema_name", "cluster_by", "rows", "bytes", "owner", "target_lag",
    "refresh_mode", "refresh_mode_reason", "warehouse", "comment", "text", "automatic_clustering",
    "scheduling_state", "last_suspended_on", "is_clone", "is_replica", "is_iceberg", "data_timestamp",
    "owner_role_type",
]  # fmt: skip

CREATE_TOTALS = (
    "CREATE DYNAMIC TABLE GENAI.PUBLIC.TOTALS TARGET_LAG = '5 minutes' WAREHOUSE = local_wh "
    "COMMENT = 'totals per customer' AS SELECT customer_id, SUM(amount) AS total FROM sales GROUP BY customer_id"
)


@pytest.fixture
def sales(cur: Any) -> Any:  # noqa: ANN401
    cur.execute("CREATE TABLE sales (customer_id INT, amount INT)")
    cur.execute("INSERT INTO sales VALUES (1, 10), (1, 5), (2, 7)")
    return cur


def show(cur: Any, sql: str = "SHOW DYNAMIC TABLES") -> list[dict[str, Any]]:
    cur.execute(sql)
    names = [d.name for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def history(cur: Any, name: str = "GENAI.PUBLIC.TOTALS") -> list[tuple]:
    return cur.execute(
        "SELECT state, refresh_trigger, state_message FROM "
        f"TABLE(GENAI.INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY(NAME => '{name}')) "
        "ORDER BY refresh_start_time"
    ).fetchall()


def totals(cur: Any) -> list[tuple]:
    return cur.execute("SELECT customer_id, total FROM totals ORDER BY customer_id").fetchall()


def test_create_materialises_and_show_reports_it(sales: Any) -> None:
    assert sales.execute(CREATE_TOTALS).fetchall() == [("Dynamic table TOTALS successfully created.",)]
    assert totals(sales) == [(1, 15), (2, 7)]

    (row,) = show(sales)
    assert list(row) == SHOW_COLUMNS
    assert row["name"] == "TOTALS"
    assert (row["database_name"], row["schema_name"]) == ("GENAI", "PUBLIC")
    assert row["target_lag"] == "5 minutes"
    assert row["warehouse"] == "LOCAL_WH"
    assert row["comment"] == "totals per customer"
    assert row["text"] == CREATE_TOTALS
    assert row["scheduling_state"] == "RUNNING"
    assert row["rows"] == 2
    assert row["last_suspended_on"] is None
    assert isinstance(row["data_timestamp"], datetime)
    assert datetime.now(UTC) - row["data_timestamp"] < timedelta(minutes=1)
    assert history(sales) == [("SUCCEEDED", "CREATION", None)]


def test_refresh_picks_up_new_source_rows(sales: Any) -> None:
    sales.execute(CREATE_TOTALS)
    before = show(sales)[0]["data_timestamp"]
    sales.execute("INSERT INTO sales VALUES (3, 1), (2, 3)")
    assert totals(sales) == [(1, 15), (2, 7)]  # not refreshed yet

    sales.execute("ALTER DYNAMIC TABLE totals REFRESH")

    assert totals(sales) == [(1, 15), (2, 10), (3, 1)]
    row = show(sales)[0]
    assert row["rows"] == 3
    assert row["data_timestamp"] > before
    assert [h[:2] for h in history(sales)] == [("SUCCEEDED", "CREATION"), ("SUCCEEDED", "MANUAL")]


def test_clauses_in_any_order_any_case_with_column_list(sales: Any) -> None:
    sales.execute(
        "create dynamic table per_cust (cust, amount_sum COMMENT 'sum') "
        "warehouse=wh refresh_mode = full initialize=on_create target_lag=downstream "
        "as select customer_id, sum(amount) from sales group by customer_id"
    )
    assert sales.execute("SELECT cust, amount_sum FROM per_cust ORDER BY cust").fetchall() == [(1, 15), (2, 7)]
    row = show(sales, "SHOW DYNAMIC TABLES LIKE 'per%'")[0]
    assert (row["target_lag"], row["refresh_mode"], row["warehouse"]) == ("DOWNSTREAM", "FULL", "WH")
    assert [d[0] for d in sales.execute("DESCRIBE DYNAMIC TABLE per_cust").fetchall()] == ["CUST", "AMOUNT_SUM"]


def test_suspend_and_resume_show_in_scheduling_state(sales: Any) -> None:
    sales.execute(CREATE_TOTALS)
    sales.execute("ALTER DYNAMIC TABLE GENAI.PUBLIC.TOTALS SUSPEND")
    row = show(sales)[0]
    assert row["scheduling_state"] == "SUSPENDED"
    assert isinstance(row["last_suspended_on"], datetime)
    sales.execute("ALTER DYNAMIC TABLE totals RESUME")
    assert show(sales)[0]["scheduling_state"] == "RUNNING"


def test_set_target_lag(sales: Any) -> None:
    sales.execute(CREATE_TOTALS)
    sales.execute("ALTER DYNAMIC TABLE totals SET TARGET_LAG = '2 hours'")
    assert show(sales)[0]["target_lag"] == "2 hours"
    with pytest.raises(ProgrammingError, match="TARGET_LAG"):
        sales.execute("ALTER DYNAMIC TABLE totals SET TARGET_LAG = '10 seconds'")


def test_failed_refresh_keeps_old_rows_and_records_failure(sales: Any) -> None:
    sales.execute(CREATE_TOTALS)
    sales.execute("INSERT INTO sales VALUES (9, 9)")
    sales.execute("ALTER TABLE sales RENAME COLUMN amount TO amount_usd")

    with pytest.raises(ProgrammingError) as error:
        sales.execute("ALTER DYNAMIC TABLE totals REFRESH")

    assert "AMOUNT" in error.value.raw_msg.upper()
    assert totals(sales) == [(1, 15), (2, 7)]
    state, trigger, message = history(sales)[-1]
    assert (state, trigger) == ("FAILED", "MANUAL")
    assert "AMOUNT" in message.upper()
    assert show(sales)[0]["rows"] == 2


def test_refresh_fails_when_source_table_dropped(sales: Any) -> None:
    sales.execute(CREATE_TOTALS)
    sales.execute("DROP TABLE sales")
    with pytest.raises(ProgrammingError):
        sales.execute("ALTER DYNAMIC TABLE totals REFRESH")
    assert totals(sales) == [(1, 15), (2, 7)]
    failed = sales.execute(
        "SELECT state, state_code, state_message FROM TABLE(INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY("
        "NAME => 'TOTALS')) WHERE state = 'FAILED'"
    ).fetchall()
    assert len(failed) == 1
    assert failed[0][1] and "SALES" in failed[0][2].upper()


def test_history_table_function_supports_where_order_limit_and_all(sales: Any) -> None:
    sales.execute(CREATE_TOTALS)
    sales.execute("CREATE DYNAMIC TABLE other TARGET_LAG = '1 hour' WAREHOUSE = wh AS SELECT * FROM sales")
    sales.execute("ALTER DYNAMIC TABLE totals REFRESH")
    sales.execute("ALTER DYNAMIC TABLE totals REFRESH")

    all_rows = sales.execute(
        "SELECT name, database_name, schema_name, refresh_trigger, query_id, refresh_action, "
        "refresh_start_time <= refresh_end_time "
        "FROM TABLE(INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY()) ORDER BY refresh_start_time"
    ).fetchall()
    assert [(r[0], r[3]) for r in all_rows] == [
        ("TOTALS", "CREATION"), ("OTHER", "CREATION"), ("TOTALS", "MANUAL"), ("TOTALS", "MANUAL"),
    ]  # fmt: skip
    assert all(r[1:3] == ("GENAI", "PUBLIC") and r[4] and r[6] for r in all_rows)

    latest = sales.execute(
        "SELECT h.refresh_trigger, h.data_timestamp FROM TABLE(GENAI.INFORMATION_SCHEMA."
        "DYNAMIC_TABLE_REFRESH_HISTORY(NAME => 'GENAI.PUBLIC.TOTALS')) AS h "
        "WHERE h.state = 'SUCCEEDED' ORDER BY h.refresh_start_time DESC LIMIT 1"
    ).fetchall()
    assert len(latest) == 1 and latest[0][0] == "MANUAL"
    assert latest[0][1] == show(sales, "SHOW DYNAMIC TABLES LIKE 'TOTALS'")[0]["data_timestamp"]


def test_aging_makes_lag_exceed_target_and_scheduler_refreshes(sales: Any) -> None:
    sales.execute(CREATE_TOTALS)
    scheduler = Scheduler(sales._duck_conn)  # noqa: SLF001 (the test's fakesnow instance)
    assert scheduler.tick() == []  # fresh: lag below 5 minutes

    sales.execute("INSERT INTO sales VALUES (4, 4)")
    before = show(sales)[0]["data_timestamp"]
    result = sales.execute("SELECT SYSTEM$LOCAL_AGE_DYNAMIC_TABLE('GENAI.PUBLIC.TOTALS', 3600)").fetchone()
    assert "local stand-in only" in result[0]
    aged = show(sales)[0]["data_timestamp"]
    assert before - aged == timedelta(seconds=3600)
    assert datetime.now(UTC) - aged > timedelta(minutes=5)

    assert scheduler.tick() == [Name("GENAI", "PUBLIC", "TOTALS")]
    assert (4, 4) in totals(sales)
    assert history(sales)[-1][:2] == ("SUCCEEDED", "SCHEDULED")
    assert datetime.now(UTC) - show(sales)[0]["data_timestamp"] < timedelta(minutes=1)


def test_scheduler_skips_suspended_and_retries_failures_later(sales: Any) -> None:
    sales.execute(CREATE_TOTALS)
    scheduler = Scheduler(sales._duck_conn)  # noqa: SLF001
    sales.execute("ALTER DYNAMIC TABLE totals SUSPEND")
    sales.execute("SELECT SYSTEM$LOCAL_AGE_DYNAMIC_TABLE('totals', 3600)")
    assert scheduler.tick() == []

    sales.execute("ALTER DYNAMIC TABLE totals RESUME")
    sales.execute("DROP TABLE sales")
    assert scheduler.tick() == []  # failed, recorded, not raised
    assert scheduler.tick() == []  # not retried on the next tick
    assert [h[:2] for h in history(sales)].count(("FAILED", "SCHEDULED")) == 1


def test_downstream_table_refreshes_with_the_table_reading_it(sales: Any) -> None:
    sales.execute(
        "CREATE DYNAMIC TABLE lines TARGET_LAG = DOWNSTREAM WAREHOUSE = wh AS SELECT * FROM sales WHERE amount > 5"
    )
    sales.execute(
        "CREATE DYNAMIC TABLE summary TARGET_LAG = '1 minute' WAREHOUSE = wh "
        "AS SELECT COUNT(*) AS n FROM GENAI.PUBLIC.LINES"
    )
    scheduler = Scheduler(sales._duck_conn)  # noqa: SLF001
    sales.execute("INSERT INTO sales VALUES (5, 50)")
    sales.execute("SELECT SYSTEM$LOCAL_AGE_DYNAMIC_TABLE('lines', 86400)")
    assert scheduler.tick() == []  # DOWNSTREAM is never due on its own

    sales.execute("SELECT SYSTEM$LOCAL_AGE_DYNAMIC_TABLE('summary', 120)")
    assert scheduler.tick() == [Name("GENAI", "PUBLIC", "SUMMARY")]
    assert sales.execute("SELECT n FROM summary").fetchone() == (3,)
    assert history(sales, "GENAI.PUBLIC.LINES")[-1][:2] == ("SUCCEEDED", "SCHEDULED")


def test_initialize_on_schedule_starts_empty(sales: Any) -> None:
    sales.execute(
        "CREATE DYNAMIC TABLE later TARGET_LAG = '1 minute' WAREHOUSE = wh INITIALIZE = ON_SCHEDULE "
        "AS SELECT customer_id FROM sales"
    )
    assert sales.execute("SELECT COUNT(*) FROM later").fetchone() == (0,)
    assert show(sales)[0]["data_timestamp"] is None
    Scheduler(sales._duck_conn).tick()  # noqa: SLF001
    assert sales.execute("SELECT COUNT(*) FROM later").fetchone() == (3,)


def test_or_replace_and_if_not_exists(sales: Any) -> None:
    sales.execute(CREATE_TOTALS)
    result = sales.execute(CREATE_TOTALS.replace("CREATE DYNAMIC TABLE", "CREATE DYNAMIC TABLE IF NOT EXISTS"))
    assert result.fetchone() == ("TOTALS already exists, statement succeeded.",)
    with pytest.raises(ProgrammingError, match="already exists") as error:
        sales.execute(CREATE_TOTALS)
    assert error.value.errno == 2002

    sales.execute(
        "CREATE OR REPLACE DYNAMIC TABLE GENAI.PUBLIC.TOTALS TARGET_LAG = '1 hour' WAREHOUSE = wh "
        "AS SELECT COUNT(*) AS n FROM sales"
    )
    assert sales.execute("SELECT n FROM totals").fetchall() == [(3,)]
    (row,) = show(sales)
    assert row["target_lag"] == "1 hour"
    assert history(sales) == [("SUCCEEDED", "CREATION", None)]  # a new object, a new history


def test_drop(sales: Any) -> None:
    sales.execute(CREATE_TOTALS)
    assert sales.execute("DROP DYNAMIC TABLE totals").fetchone() == ("TOTALS successfully dropped.",)
    assert show(sales) == []
    with pytest.raises(ProgrammingError):
        sales.execute("SELECT * FROM totals")
    sales.execute("DROP DYNAMIC TABLE IF EXISTS totals")


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER DYNAMIC TABLE nope REFRESH",
        "ALTER DYNAMIC TABLE nope SUSPEND",
        "ALTER DYNAMIC TABLE GENAI.PUBLIC.NOPE SET TARGET_LAG = '1 hour'",
        "DROP DYNAMIC TABLE nope",
        "SELECT SYSTEM$LOCAL_AGE_DYNAMIC_TABLE('nope', 10)",
    ],
)
def test_unknown_dynamic_table_errors_like_snowflake(cur: Any, statement: str) -> None:
    with pytest.raises(ProgrammingError) as error:
        cur.execute(statement)
    assert "Dynamic table 'GENAI.PUBLIC.NOPE' does not exist or not authorized." in error.value.raw_msg
    assert (error.value.errno, error.value.sqlstate) == (2003, "02000")


def test_a_plain_table_is_not_a_dynamic_table(sales: Any) -> None:
    with pytest.raises(ProgrammingError, match="does not exist or not authorized"):
        sales.execute("ALTER DYNAMIC TABLE sales REFRESH")


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("CREATE DYNAMIC TABLE x WAREHOUSE = wh AS SELECT 1 AS a", "Missing option(s): [TARGET_LAG]"),
        ("CREATE DYNAMIC TABLE x TARGET_LAG = '5 minutes' AS SELECT 1 AS a", "Missing option(s): [WAREHOUSE]"),
        ("CREATE DYNAMIC TABLE x TARGET_LAG = '30 seconds' WAREHOUSE = wh AS SELECT 1 AS a", "TARGET_LAG"),
        ("CREATE DYNAMIC TABLE x TARGET_LAG = '5 minutes' WAREHOUSE = wh SELECT 1 AS a", "syntax error"),
        ("CREATE DYNAMIC TABLE x TARGET_LAG = '5 minutes' WAREHOUSE = wh AS SELECT * FROM missing", "MISSING"),
    ],
)
def test_invalid_create_is_rejected(cur: Any, statement: str, message: str) -> None:
    with pytest.raises(ProgrammingError) as error:
        cur.execute(statement)
    assert message.upper() in error.value.raw_msg.upper()
    assert show(cur) == []


def test_show_filters(sales: Any) -> None:
    sales.execute("CREATE SCHEMA GENAI.OTHER")
    sales.execute("USE SCHEMA GENAI.PUBLIC")
    sales.execute(CREATE_TOTALS)
    sales.execute("CREATE DYNAMIC TABLE GENAI.OTHER.TOTALS_COPY TARGET_LAG = '1 hour' WAREHOUSE = wh AS SELECT 1 AS a")
    sales.execute("CREATE DYNAMIC TABLE GENAI.OTHER.ZED TARGET_LAG = '1 hour' WAREHOUSE = wh AS SELECT 1 AS a")

    def names(sql: str) -> list[str]:
        return [f"{r['schema_name']}.{r['name']}" for r in show(sales, sql)]

    assert names("SHOW DYNAMIC TABLES") == ["OTHER.TOTALS_COPY", "OTHER.ZED", "PUBLIC.TOTALS"]
    assert names("SHOW DYNAMIC TABLES LIKE 'totals%'") == ["OTHER.TOTALS_COPY", "PUBLIC.TOTALS"]
    assert names("SHOW DYNAMIC TABLES IN SCHEMA GENAI.OTHER") == ["OTHER.TOTALS_COPY", "OTHER.ZED"]
    assert names("SHOW DYNAMIC TABLES LIKE '%copy' IN SCHEMA GENAI.OTHER") == ["OTHER.TOTALS_COPY"]
    assert names("SHOW DYNAMIC TABLES IN DATABASE GENAI") == ["OTHER.TOTALS_COPY", "OTHER.ZED", "PUBLIC.TOTALS"]
    assert names("SHOW DYNAMIC TABLES IN DATABASE NOPE") == []
    assert names("SHOW DYNAMIC TABLES IN ACCOUNT LIMIT 1") == ["OTHER.TOTALS_COPY"]


@pytest.fixture
def paused(cur: Any) -> Any:  # noqa: ANN401
    """Scheduler paused for the test; always resumed, since the pause is process-wide."""
    assert cur.execute("SELECT SYSTEM$LOCAL_DYNAMIC_TABLE_SCHEDULER('PAUSE')").fetchone() == ("PAUSED",)
    try:
        yield cur
    finally:
        cur.execute("SELECT SYSTEM$LOCAL_DYNAMIC_TABLE_SCHEDULER('RESUME')")


def test_paused_scheduler_leaves_stale_tables_until_resumed(sales: Any, paused: Any) -> None:
    sales.execute(CREATE_TOTALS)
    scheduler = Scheduler(sales._duck_conn)  # noqa: SLF001
    sales.execute("SELECT SYSTEM$LOCAL_AGE_DYNAMIC_TABLE('totals', 3600)")
    assert scheduler.tick() == []
    assert sales.execute("SELECT SYSTEM$LOCAL_DYNAMIC_TABLE_SCHEDULER('status')").fetchone() == ("PAUSED",)
    sales.execute("ALTER DYNAMIC TABLE totals REFRESH")  # manual refreshes still run
    assert history(sales)[-1][:2] == ("SUCCEEDED", "MANUAL")

    sales.execute("SELECT SYSTEM$LOCAL_AGE_DYNAMIC_TABLE('totals', 3600)")
    assert sales.execute("SELECT SYSTEM$LOCAL_DYNAMIC_TABLE_SCHEDULER('RESUME')").fetchone() == ("RUNNING",)
    assert scheduler.tick() == [Name("GENAI", "PUBLIC", "TOTALS")]


def test_scheduler_control_rejects_unknown_actions(cur: Any) -> None:
    with pytest.raises(ProgrammingError, match="expected PAUSE, RESUME or STATUS"):
        cur.execute("SELECT SYSTEM$LOCAL_DYNAMIC_TABLE_SCHEDULER('STOP')")
    assert cur.execute("SELECT SYSTEM$LOCAL_DYNAMIC_TABLE_SCHEDULER('STATUS')").fetchone() == ("RUNNING",)


def test_semi_structured_queries_create_and_refresh(cur: Any) -> None:
    # what the purchase dynamic tables use: LATERAL FLATTEN over a VARIANT array, path casts,
    # ordered ARRAY_AGG and OBJECT_AGG, through both creation and refresh
    cur.execute("CREATE TABLE orders (id VARCHAR, customer VARCHAR, currency VARCHAR, items VARIANT)")
    cur.execute(
        """INSERT INTO orders SELECT 'o1', 'c1', 'EUR', PARSE_JSON('[{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]')"""
    )
    cur.execute(
        "CREATE DYNAMIC TABLE lines TARGET_LAG = '1 minute' WAREHOUSE = wh AS "
        "SELECT o.id, f.INDEX + 1 AS line_no, o.customer, o.currency, f.VALUE:sku::VARCHAR AS sku, "
        "f.VALUE:qty::INTEGER AS qty FROM orders AS o, LATERAL FLATTEN(INPUT => o.items) AS f"
    )
    cur.execute(
        "CREATE DYNAMIC TABLE per_customer TARGET_LAG = '1 minute' WAREHOUSE = wh AS "
        "WITH by_currency AS (SELECT customer, currency, SUM(qty)::INTEGER AS qty FROM lines GROUP BY customer, currency) "
        "SELECT l.customer, ARRAY_AGG(l.sku) WITHIN GROUP (ORDER BY l.id DESC, l.line_no) AS skus, "
        "ANY_VALUE(c.by_currency) AS by_currency FROM lines AS l JOIN ("
        "  SELECT customer, OBJECT_AGG(currency, qty::VARIANT) AS by_currency FROM by_currency GROUP BY customer"
        ") AS c ON c.customer = l.customer GROUP BY l.customer"
    )
    assert cur.execute("SELECT id, line_no, sku, qty FROM lines ORDER BY id, line_no").fetchall() == [
        ("o1", 1, "a", 2), ("o1", 2, "b", 1),
    ]  # fmt: skip
    cur.execute("""INSERT INTO orders SELECT 'o2', 'c1', 'USD', PARSE_JSON('[{"sku": "c", "qty": 5}]')""")
    cur.execute("ALTER DYNAMIC TABLE per_customer REFRESH")  # refreshes LINES first
    (row,) = cur.execute("SELECT customer, skus, by_currency FROM per_customer").fetchall()
    assert (row[0], json.loads(row[1]), json.loads(row[2])) == ("c1", ["c", "a", "b"], {"EUR": 3, "USD": 5})


def test_a_refresh_failing_on_a_missing_column_reads_like_snowflake(sales: Any) -> None:
    sales.execute(
        "CREATE DYNAMIC TABLE big TARGET_LAG = '1 minute' WAREHOUSE = wh AS SELECT s.customer_id FROM sales AS s"
    )
    sales.execute("ALTER TABLE sales RENAME COLUMN customer_id TO customer")
    with pytest.raises(ProgrammingError) as error:
        sales.execute("ALTER DYNAMIC TABLE big REFRESH")
    assert (error.value.raw_msg, error.value.errno) == ("SQL compilation error:\ninvalid identifier 'S.CUSTOMER_ID'", 904)
    assert history(sales, "GENAI.PUBLIC.BIG")[-1] == (
        "FAILED", "MANUAL", "SQL compilation error:\ninvalid identifier 'S.CUSTOMER_ID'"
    )
