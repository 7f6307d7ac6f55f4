"""Unit tests import plugins/ packages the way Airflow does: with plugins/ on sys.path.

``stand_ins``: in-process S3 (moto) and Snowflake (fakesnow.patch) for operator tests.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

PLUGINS = str(Path(__file__).resolve().parents[2] / "plugins")
if PLUGINS not in sys.path:
    sys.path.insert(0, PLUGINS)

BUCKET = "genai-landing"


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import fakesnow
    import snowflake.connector
    from moto import mock_aws

    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws", "login": "k", "password": "s",
                                                              "extra": {"region_name": "us-east-1"}}))
    monkeypatch.setenv("AIRFLOW_CONN_SNOWFLAKE_DEFAULT", json.dumps({
        "conn_type": "snowflake", "login": "u", "password": "p", "schema": "PUBLIC",
        "extra": {"account": "local", "database": "GENAI", "warehouse": "WH"},
    }))
    with mock_aws(), fakesnow.patch():
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        s3 = S3Hook(aws_conn_id="aws_default")
        s3.create_bucket(BUCKET)
        with snowflake.connector.connect(database="GENAI", schema="PUBLIC") as conn:
            yield s3, conn


@pytest.fixture
def rows() -> Callable[[Any, str], list[tuple[Any, ...]]]:
    """``rows(conn, sql)``: all rows of ``sql`` on a connection from ``stand_ins``."""

    def fetch(conn: Any, sql: str) -> list[tuple[Any, ...]]:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    return fetch
