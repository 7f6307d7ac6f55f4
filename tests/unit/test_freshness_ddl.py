"""The purchase dynamic-table DDL as rendered (no Snowflake), and the warehouse setting it needs."""

from __future__ import annotations

import re

import jinja2
import pytest

from genai_personalization.sql import render_sql
from include.settings import Settings


def ddl(**params: object) -> str:
    params = {"database": "GENAI", "target_lag": "15 minutes", "warehouse": "LOCAL_WH", **params}
    return render_sql("pos_transactions_ingest", "create_dynamic_tables", **params)


def statements(sql: str) -> list[str]:
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [" ".join(s.split()) for s in body.split(";") if s.strip()]


def test_tables_are_created_if_missing_and_config_is_applied_by_alter() -> None:
    sql = statements(ddl())
    creates = [s[: s.index(" TARGET_LAG")] for s in sql if "DYNAMIC TABLE" in s and s.startswith("CREATE")]
    assert creates == [
        "CREATE DYNAMIC TABLE IF NOT EXISTS GENAI.CURATED.PURCHASE_LINES",
        "CREATE DYNAMIC TABLE IF NOT EXISTS GENAI.ANALYTICS.CUSTOMER_PURCHASE_HISTORY",
    ]
    assert [s for s in sql if s.startswith("ALTER")] == [
        "ALTER DYNAMIC TABLE GENAI.CURATED.PURCHASE_LINES SET TARGET_LAG = '15 minutes' WAREHOUSE = LOCAL_WH",
        "ALTER DYNAMIC TABLE GENAI.ANALYTICS.CUSTOMER_PURCHASE_HISTORY SET TARGET_LAG = '15 minutes' WAREHOUSE = LOCAL_WH",
    ]
    assert "CREATE TABLE IF NOT EXISTS GENAI.RAW.PRODUCTS" in ddl()


def test_replace_is_an_explicit_choice() -> None:
    assert len(re.findall(r"CREATE OR REPLACE DYNAMIC TABLE GENAI\.", ddl(replace=True))) == 2
    assert "DYNAMIC TABLE IF NOT EXISTS" not in ddl(replace=True)


def test_downstream_is_a_keyword_not_a_string() -> None:
    sql = ddl(target_lag="downstream")
    assert sql.count("TARGET_LAG = DOWNSTREAM") == 4 and "'downstream'" not in sql
    assert ddl(target_lag="2 hours").count("TARGET_LAG = '2 hours'") == 4


def test_the_warehouse_must_be_given() -> None:
    with pytest.raises(jinja2.UndefinedError, match="warehouse"):
        render_sql("pos_transactions_ingest", "create_dynamic_tables", database="GENAI", target_lag="15 minutes")


def test_warehouse_setting_default_env_and_validation() -> None:
    assert Settings.from_env({}).snowflake_warehouse == "LOCAL_WH"
    assert Settings.from_env({"GENAI_SNOWFLAKE_WAREHOUSE": "transform_wh"}).snowflake_warehouse == "TRANSFORM_WH"
    with pytest.raises(ValueError, match="GENAI_SNOWFLAKE_WAREHOUSE"):
        Settings.from_env({"GENAI_SNOWFLAKE_WAREHOUSE": "wh; DROP TABLE X"})
