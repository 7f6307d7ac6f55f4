"""PosEventsLoadOperator against in-process stand-ins: moto for S3, fakesnow.patch() for Snowflake.

The DAG runs against the stand-in servers in tests/integration/; here the operator's own behaviour
is checked fast (``stand_ins`` is in conftest.py): the ledger skip, the summary, logs free of record values, one-line failures.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

import pytest

BUCKET = "genai-landing"
T = datetime(2025, 3, 1, 6, 15, tzinfo=timezone.utc)
KEY = "pos/2025/03/01/06/pos-1-2025-03-01-06-10-00-a.jsonl"
SECRET_CUSTOMER = "C-SECRET-4711"


def _run(**kwargs: Any) -> dict[str, Any]:
    from genai_personalization.operators.pos import PosEventsLoadOperator

    operator = PosEventsLoadOperator(task_id="load_events", **kwargs)
    return operator.execute({"run_id": "manual__test", "logical_date": T, "data_interval_end": T})


def _event(event_id: str, **changes: Any) -> str:
    record = {"event_id": event_id, "event_ts": "2025-03-01T06:10:00Z", "customer_id": SECRET_CUSTOMER,
              "channel": "web", "store_id": None, "currency": "EUR",
              "items": [{"product_id": "B0SECRETPRODUCT", "quantity": 1, "unit_price": 9.5}]}
    return json.dumps({**record, **changes})


def test_loads_skips_loaded_files_and_logs_no_record_values(
    stand_ins: Any, rows: Any, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    s3, conn = stand_ins
    s3.load_string("\n".join([_event("e-1"), _event("e-2", currency="XXX"), _event("e-1")]) + "\n", KEY,
                   bucket_name=BUCKET)
    caplog.set_level(logging.DEBUG)

    first = _run()
    second = _run()

    assert first == {"files_listed": 1, "files_skipped": 0, "files_loaded": 1, "lines_read": 3, "loaded": 1,
                     "duplicate": 1, "quarantined": 1, "quarantined_by_reason": {"unknown currency": 1}}
    assert (second["files_skipped"], second["files_loaded"], second["loaded"]) == (1, 0, 0)
    assert rows(conn, "SELECT EVENT_ID, CUSTOMER_ID FROM GENAI.RAW.POS_TRANSACTIONS") == [("e-1", SECRET_CUSTOMER)]
    assert rows(conn, "SELECT RECORD_KEY, REASON FROM GENAI.OPS.QUARANTINE") == [("line 2: e-2", "unknown currency")]
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "pos events load summary" in logged  # proves the operator's log is captured here
    for secret in (SECRET_CUSTOMER, "B0SECRETPRODUCT"):
        assert secret not in logged


def test_no_files_is_an_empty_load(stand_ins: Any) -> None:
    summary = _run()
    assert (summary["files_listed"], summary["loaded"], summary["quarantined"]) == (0, 0, 0)


def test_a_snowflake_error_fails_with_one_line_naming_the_step(stand_ins: Any, rows: Any) -> None:
    from airflow.sdk.exceptions import AirflowException

    s3, conn = stand_ins
    s3.load_string(_event("e-1") + "\n", KEY, bucket_name=BUCKET)
    rows(conn, "CREATE SCHEMA IF NOT EXISTS GENAI.RAW")
    rows(conn, "CREATE TABLE GENAI.RAW.POS_TRANSACTIONS (EVENT_ID VARCHAR)")  # an old, incompatible bronze

    with pytest.raises(AirflowException) as info:
        _run()
    assert str(info.value).startswith("pos_transactions_ingest/merge_events.sql failed: ")
    assert "\n" not in str(info.value)
    assert rows(conn, "SELECT COUNT(*) FROM GENAI.OPS.LOAD_LEDGER") == [(0,)]  # not recorded: the next run retries


def test_a_bad_database_setting_fails_before_any_work(stand_ins: Any) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match=r"^database must be a plain Snowflake identifier"):
        _run(database="GENAI; DROP")
