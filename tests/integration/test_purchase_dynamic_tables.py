"""The purchase dynamic tables (include/sql/pos_transactions_ingest/create_dynamic_tables.sql) on the
Snowflake stand-in: exact silver and gold contents, re-running the DDL, config changes, refreshes.

Runs the DDL the way pos_transactions_ingest does (rendered, through execute_string over the TLS
server), in a database of its own so the ingest DAG's tests and this one never see each other's rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

pytestmark = pytest.mark.integration

DATABASE = "GENAI_DT_CONTENT_TEST"
SILVER = f"{DATABASE}.CURATED.PURCHASE_LINES"
GOLD = f"{DATABASE}.ANALYTICS.CUSTOMER_PURCHASE_HISTORY"

# the bronze contract with pos_transactions_ingest, exactly
BRONZE_DDL = """
CREATE TABLE IF NOT EXISTS {database}.RAW.POS_TRANSACTIONS (
    EVENT_ID     VARCHAR NOT NULL,
    EVENT_TS     TIMESTAMP_TZ,
    CUSTOMER_ID  VARCHAR,
    CHANNEL      VARCHAR,
    STORE_ID     VARCHAR,
    CURRENCY     VARCHAR,
    PAYMENT_TYPE VARCHAR,
    ITEMS        VARIANT,
    RAW_RECORD   VARIANT,
    RECORD_HASH  VARCHAR,
    SOURCE_FILE  VARCHAR,
    LOADED_AT    TIMESTAMP_LTZ
)
"""

# (event_id, event_ts, customer_id, channel, store_id, currency, items)
EVENTS = [
    ("E1", "2025-03-01T10:00:00+01:00", "C1", "pos", "S1", "EUR",
     [{"product_id": "P1", "quantity": 2, "unit_price": 9.99}, {"product_id": "P2", "quantity": 1, "unit_price": 5}]),
    ("E2", "2025-03-02T12:00:00+00:00", "C1", "web", None, "EUR",
     [{"product_id": "P3", "quantity": 1, "unit_price": 100}, {"product_id": "P1", "quantity": 1, "unit_price": 9.99}]),
    ("E3", "2025-03-03T08:00:00+00:00", "C1", "web", None, "USD",
     [{"product_id": "P4", "quantity": 3, "unit_price": 2.5}, {"product_id": "P9", "quantity": 5, "unit_price": 1}]),
    ("E4", "2025-03-01T09:00:00+00:00", "C2", "pos", "S2", "EUR", [{"product_id": "P2", "quantity": 4, "unit_price": 5}]),
    ("E5", "2025-03-01T09:30:00+00:00", None, "pos", "S1", "EUR", [{"product_id": "P1", "quantity": 1, "unit_price": 9.99}]),
    ("E6", "2025-03-04T18:00:00+00:00", "C3", "web", None, "USD", [{"product_id": "P9", "quantity": 1, "unit_price": 3.333}]),
]  # fmt: skip
# P9 is not in the catalog: it counts for spend and recency, never for favourite categories
PRODUCTS = [("P1", "Chef knife", "Kitchen"), ("P2", "Tent peg", "Outdoor"), ("P3", "Rain jacket", "Apparel"),
            ("P4", "Seed tray", "Garden")]  # fmt: skip

EXPECTED_LINES = [
    ("E1", 1, "C1", "pos", "S1", "EUR", "P1", 2, Decimal("9.99"), Decimal("19.98")),
    ("E1", 2, "C1", "pos", "S1", "EUR", "P2", 1, Decimal("5"), Decimal("5")),
    ("E2", 1, "C1", "web", None, "EUR", "P3", 1, Decimal("100"), Decimal("100")),
    ("E2", 2, "C1", "web", None, "EUR", "P1", 1, Decimal("9.99"), Decimal("9.99")),
    ("E3", 1, "C1", "web", None, "USD", "P4", 3, Decimal("2.5"), Decimal("7.5")),
    ("E3", 2, "C1", "web", None, "USD", "P9", 5, Decimal("1"), Decimal("5")),
    ("E4", 1, "C2", "pos", "S2", "EUR", "P2", 4, Decimal("5"), Decimal("20")),
    ("E5", 1, None, "pos", "S1", "EUR", "P1", 1, Decimal("9.99"), Decimal("9.99")),
    ("E6", 1, "C3", "web", None, "USD", "P9", 1, Decimal("3.333"), Decimal("3.333")),
]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


EXPECTED_GOLD = [
    # C1: Kitchen and Garden tie on 3 units, Kitchen is in more orders; Outdoor and Apparel tie on
    # units and orders, so the name decides. Recency: E3 (P4, P9), E2 (P1 bought again, P3), E1 (P2).
    ("C1", 3, 13, {"EUR": 134.97, "USD": 12.5}, "EUR", Decimal("134.97"), ["P4", "P9", "P1", "P3", "P2"],
     ["Kitchen", "Garden", "Apparel"], _utc("2025-03-01T09:00:00+00:00"), _utc("2025-03-03T08:00:00+00:00")),
    ("C2", 1, 4, {"EUR": 20}, "EUR", Decimal("20"), ["P2"], ["Outdoor"],
     _utc("2025-03-01T09:00:00+00:00"), _utc("2025-03-01T09:00:00+00:00")),
    ("C3", 1, 1, {"USD": 3.333}, "USD", Decimal("3.333"), ["P9"], [],
     _utc("2025-03-04T18:00:00+00:00"), _utc("2025-03-04T18:00:00+00:00")),
]  # fmt: skip


def _hook() -> Any:  # noqa: ANN401
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    return SnowflakeHook(snowflake_conn_id="snowflake_default")


def _query(sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in _hook().get_records(sql)]


def _show(table: str) -> dict[str, Any]:
    schema, name = table.split(".")[1:]
    with closing(_hook().get_conn()) as conn, closing(conn.cursor()) as cursor:
        cursor.execute(f"SHOW DYNAMIC TABLES LIKE '{name}' IN SCHEMA {DATABASE}.{schema}")
        names = [d[0] for d in cursor.description]
        (row,) = cursor.fetchall()
    return dict(zip(names, row, strict=True))


def _history(table: str) -> list[tuple[Any, ...]]:
    return _query(
        "SELECT STATE, REFRESH_TRIGGER, REFRESH_START_TIME FROM TABLE("
        f"{DATABASE}.INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY(NAME => '{table}')) ORDER BY REFRESH_START_TIME"
    )


def create_dynamic_tables(database: str, target_lag: str = "15 minutes", **params: Any) -> None:
    """As pos_transactions_ingest runs the file: rendered, then execute_string over the server."""
    from genai_personalization.sql import render_sql

    sql = render_sql(
        "pos_transactions_ingest", "create_dynamic_tables",
        database=database, target_lag=target_lag, warehouse="LOCAL_WH", **params,
    )  # fmt: skip
    with closing(_hook().get_conn()) as conn:
        for cursor in conn.execute_string(sql, remove_comments=True):
            cursor.close()


def insert_events(database: str, events: list[tuple[Any, ...]], loaded_at: str = "2025-03-05T00:00:00+00:00") -> None:
    # test data only; the real load goes through a stage (pos_transactions_ingest)
    selects = []
    for event_id, event_ts, customer, channel, store, currency, items in events:
        values = [event_id, customer, channel, store, currency]
        quoted = ", ".join("NULL" if v is None else f"'{v}'" for v in values)
        selects.append(
            f"SELECT '{event_ts}'::TIMESTAMP_TZ AS EVENT_TS, PARSE_JSON('{json.dumps(items)}') AS ITEMS, "
            f"'{loaded_at}'::TIMESTAMP_LTZ AS LOADED_AT, {quoted}"
        )
    _hook().run(
        f"INSERT INTO {database}.RAW.POS_TRANSACTIONS (EVENT_TS, ITEMS, LOADED_AT, EVENT_ID, CUSTOMER_ID, CHANNEL, "
        f"STORE_ID, CURRENCY) {' UNION ALL '.join(selects)}"
    )


def create_bronze(database: str) -> None:
    hook = _hook()
    hook.run(f"CREATE DATABASE IF NOT EXISTS {database}")
    hook.run(f"CREATE SCHEMA IF NOT EXISTS {database}.RAW")
    hook.run(BRONZE_DDL.format(database=database))


def drop_all(database: str) -> None:
    # the stand-in has no DROP DATABASE; dropping the dynamic tables also ends their scheduling
    hook = _hook()
    hook.run(f"DROP DYNAMIC TABLE IF EXISTS {database}.ANALYTICS.CUSTOMER_PURCHASE_HISTORY")
    hook.run(f"DROP DYNAMIC TABLE IF EXISTS {database}.CURATED.PURCHASE_LINES")
    for schema in ("ANALYTICS", "CURATED", "RAW"):
        hook.run(f"DROP SCHEMA IF EXISTS {database}.{schema} CASCADE")


@pytest.fixture(scope="module")
def purchase_tables(local_stack: object, airflow_db: None) -> Iterator[None]:
    create_bronze(DATABASE)
    insert_events(DATABASE, EVENTS)
    # a duplicate of E2 in bronze (its MERGE would never allow one): silver must still have E2's lines once
    insert_events(DATABASE, [EVENTS[1]], loaded_at="2025-03-06T00:00:00+00:00")
    create_dynamic_tables(DATABASE)
    _hook().run(
        f"INSERT INTO {DATABASE}.RAW.PRODUCTS (PRODUCT_ID, PRODUCT_NAME, CATEGORY) VALUES "
        + ", ".join(f"('{p}', '{n}', '{c}')" for p, n, c in PRODUCTS)
    )
    _hook().run(f"ALTER DYNAMIC TABLE {GOLD} REFRESH")  # products arrived after creation
    try:
        yield
    finally:
        drop_all(DATABASE)


def _silver() -> list[tuple[Any, ...]]:
    return _query(
        "SELECT EVENT_ID, LINE_NO, CUSTOMER_ID, CHANNEL, STORE_ID, CURRENCY, PRODUCT_ID, QUANTITY, UNIT_PRICE, "
        f"LINE_AMOUNT FROM {SILVER} ORDER BY EVENT_ID, LINE_NO"
    )


def _gold() -> list[tuple[Any, ...]]:
    rows = _query(
        "SELECT CUSTOMER_ID, ORDER_COUNT, ITEM_COUNT, SPEND_BY_CURRENCY, MAIN_CURRENCY, MAIN_CURRENCY_SPEND, "
        f"RECENT_PRODUCT_IDS, FAVOURITE_CATEGORIES, FIRST_PURCHASE_AT, LAST_PURCHASE_AT FROM {GOLD} ORDER BY CUSTOMER_ID"
    )
    # VARIANT / OBJECT / ARRAY columns reach the client as JSON text, as from Snowflake
    return [(*r[:3], json.loads(r[3]), *r[4:6], json.loads(r[6]), json.loads(r[7]), *r[8:]) for r in rows]


def test_silver_has_one_row_per_item_deduplicated(purchase_tables: None) -> None:
    assert _silver() == EXPECTED_LINES
    timestamps = _query(f"SELECT DISTINCT EVENT_ID, EVENT_TS FROM {SILVER} WHERE EVENT_ID = 'E1'")
    assert timestamps == [("E1", _utc("2025-03-01T10:00:00+01:00"))]


def test_gold_aggregates_per_customer(purchase_tables: None) -> None:
    assert _gold() == EXPECTED_GOLD


def test_both_are_dynamic_tables_with_the_configured_lag_and_warehouse(purchase_tables: None) -> None:
    for table in (SILVER, GOLD):
        shown = _show(table)
        assert (shown["target_lag"], shown["warehouse"], shown["scheduling_state"]) == ("15 minutes", "LOCAL_WH", "RUNNING")
    assert "REFRESH_MODE = INCREMENTAL" in _show(SILVER)["text"]
    assert "LATERAL FLATTEN(INPUT => t.ITEMS)" in _show(SILVER)["text"]


def test_rerunning_the_ddl_keeps_data_history_and_suspension(purchase_tables: None) -> None:
    silver, gold = _silver(), _gold()
    history = {t: _history(t) for t in (SILVER, GOLD)}
    timestamps = {t: _show(t)["data_timestamp"] for t in (SILVER, GOLD)}
    _hook().run(f"ALTER DYNAMIC TABLE {GOLD} SUSPEND")
    try:
        create_dynamic_tables(DATABASE)
        assert (_silver(), _gold()) == (silver, gold)
        assert {t: _history(t) for t in (SILVER, GOLD)} == history  # not re-initialised
        assert {t: _show(t)["data_timestamp"] for t in (SILVER, GOLD)} == timestamps
        assert _show(GOLD)["scheduling_state"] == "SUSPENDED"  # an on-call decision survives the ingest run
    finally:
        _hook().run(f"ALTER DYNAMIC TABLE {GOLD} RESUME")


def test_a_new_target_lag_is_applied_without_reinitialising(purchase_tables: None) -> None:
    history = _history(GOLD)
    try:
        create_dynamic_tables(DATABASE, target_lag="30 minutes")
        assert [_show(t)["target_lag"] for t in (SILVER, GOLD)] == ["30 minutes", "30 minutes"]
        assert _history(GOLD) == history
    finally:
        create_dynamic_tables(DATABASE)
    assert _show(GOLD)["target_lag"] == "15 minutes"


def test_a_refresh_picks_up_new_purchases(purchase_tables: None) -> None:
    insert_events(DATABASE, [
        ("E7", "2025-03-05T07:00:00+00:00", "C2", "web", None, "EUR",
         [{"product_id": "P3", "quantity": 1, "unit_price": 50}, {"product_id": "P3", "quantity": 1, "unit_price": 50}]),
    ])  # fmt: skip
    _hook().run(f"ALTER DYNAMIC TABLE {GOLD} REFRESH")  # refreshes silver first
    assert _silver()[-2:] == [
        ("E7", 1, "C2", "web", None, "EUR", "P3", 1, Decimal("50"), Decimal("50")),
        ("E7", 2, "C2", "web", None, "EUR", "P3", 1, Decimal("50"), Decimal("50")),
    ]
    (c2,) = [row for row in _gold() if row[0] == "C2"]
    assert c2 == ("C2", 2, 6, {"EUR": 120}, "EUR", Decimal("120"), ["P3", "P2"], ["Outdoor", "Apparel"],
                  _utc("2025-03-01T09:00:00+00:00"), _utc("2025-03-05T07:00:00+00:00"))  # fmt: skip
