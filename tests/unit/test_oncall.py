"""The on-call failure callback: the one line it builds, what it scrubs, and how it posts (or only logs).

The webhook is a real HTTP server on this machine (tests/oncall_webhook.py); connections come from
AIRFLOW_CONN_* variables, as in production; the task instance is Airflow's own RuntimeTaskInstance,
so the log link is the one Airflow builds. The end-to-end run through ``dag.test`` is in
tests/integration/test_oncall_end_to_end.py.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid
from datetime import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oncall_webhook import Webhook

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_ID = "scheduled__2025-03-01T06:00:00+00:00"
BASE_URL = "https://airflow.example.com/"
LOG_URL = ("https://airflow.example.com/dags/customer_master_ingest/runs/"
           "scheduled__2025-03-01T06%3A00%3A00%2B00%3A00/tasks")
PII = ("anna.mueller@example.de", "Anna", "Müller", "+49 30 1234567", "4111111111111111", "Schöne Grüße")


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", BASE_URL)
    monkeypatch.delenv("AIRFLOW_CONN_GENAI_ONCALL", raising=False)
    monkeypatch.delenv("GENAI_ONCALL_CONN_ID", raising=False)


def failure_context(error: BaseException | None, *, task_id: str = "load_customers", map_index: int = -1,
                    try_number: int = 4, retries: int = 3) -> dict[str, Any]:
    """What Airflow hands a failure callback, with customer data where a careless callback would find it."""
    from airflow.sdk import DAG, BaseOperator
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    from genai_personalization.oncall import OnCallNotifier

    with DAG("customer_master_ingest", schedule=None, start_date=datetime(2025, 1, 1),
             default_args={"on_failure_callback": OnCallNotifier(), "retries": retries}) as dag:
        task = BaseOperator(task_id=task_id)
    ti = RuntimeTaskInstance.model_construct(
        id=uuid.uuid4(), dag_version_id=uuid.uuid4(), dag_id=dag.dag_id, task_id=task_id, run_id=RUN_ID,
        try_number=try_number, map_index=map_index, max_tries=retries, task=task,
    )
    return {
        "dag": dag, "task": task, "ti": ti, "task_instance": ti, "run_id": RUN_ID, "exception": error,
        "params": {"email": PII[0], "first_name": PII[1]},
        "templates_dict": {"greeting": f"Dear {PII[1]} {PII[2]}"},
        "var": {"value": {"phone": PII[3]}},
        "conf": {"card": PII[4]},
    }


def notify(context: dict[str, Any]) -> None:
    """Run the task's failure callbacks the way Airflow's task runner does."""
    import structlog
    from airflow.sdk.execution_time.task_runner import _run_task_state_change_callbacks

    _run_task_state_change_callbacks(context["task"], "on_failure_callback", context, structlog.get_logger("task"))


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    """What the notifier logs (Airflow's loggers are structlog's): [(level, line)] of its on-call lines."""
    from structlog.testing import capture_logs

    with capture_logs() as captured:
        yield captured


def ours(logs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(entry["log_level"], entry["event"]) for entry in logs if str(entry["event"]).startswith("on-call")]


# --- the line -------------------------------------------------------------------------------------------------


def test_the_line_of_an_unmapped_task() -> None:
    from genai_personalization.oncall import failure_line

    error = RuntimeError("s3://genai-landing/customers/crm.csv: header does not match customer_id,first_name")
    line = failure_line(failure_context(error))
    assert line == (
        f"DAG customer_master_ingest task load_customers run {RUN_ID} try 4/4 failed: RuntimeError: "
        "s3://genai-landing/customers/crm.csv: header does not match customer_id,first_name"
        f" | log: {LOG_URL}/load_customers?try_number=4"
    )


def test_the_line_of_a_mapped_task_names_its_map_index_and_try() -> None:
    from genai_personalization.oncall import failure_line

    context = failure_context(ValueError("batch 3: 2 customer(s) failed"), task_id="generate_batch", map_index=2,
                              try_number=1, retries=2)
    assert failure_line(context) == (
        f"DAG customer_master_ingest task generate_batch[2] run {RUN_ID} try 1/3 failed: "
        f"ValueError: batch 3: 2 customer(s) failed | log: {LOG_URL}/generate_batch/mapped/2?try_number=1"
    )


def test_a_long_multi_line_message_gives_its_first_line_cut_to_a_bound() -> None:
    from genai_personalization.oncall import MAX_REASON_CHARS, failure_line, failure_reason

    error = RuntimeError("first line " + "x" * 2000 + "\nsecond line with SELECT * FROM RAW.CUSTOMERS\nthird")
    reason = failure_reason(error)
    assert len(reason) == MAX_REASON_CHARS
    assert reason.startswith("RuntimeError: first line xxx") and reason.endswith("…")
    line = failure_line(failure_context(error))
    assert "\n" not in line and "second line" not in line and "SELECT" not in line
    assert line.endswith(f"| log: {LOG_URL}/load_customers?try_number=4")


def test_a_first_line_that_only_introduces_the_error_takes_the_next_one() -> None:
    from genai_personalization.oncall import failure_reason

    # how snowflake.connector words its errors
    error = RuntimeError("002003 (42S02): 01b2c3d4-0000-1234-0000-00012345abcd: SQL compilation error:\n"
                         "Object 'GENAI.RAW.CUSTOMERS' does not exist or not authorized.\nmore")
    assert failure_reason(error) == (
        "RuntimeError: 002003 (42S02): 01b2c3d4-0000-1234-0000-00012345abcd: SQL compilation error: "
        "Object 'GENAI.RAW.CUSTOMERS' does not exist or not authorized."
    )


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (None, "no exception recorded (the task process died or lost its heartbeat, or was failed from outside)"),
        (TimeoutError(), "TimeoutError"),
        (RuntimeError("\n\n  \n"), "RuntimeError"),
        ("Executor reported the task as failed", "Executor reported the task as failed"),
        (KeyError("batch_no"), "KeyError: 'batch_no'"),
    ],
)
def test_reasons_without_a_usual_message(error: object, reason: str) -> None:
    from genai_personalization.oncall import failure_reason

    assert failure_reason(error) == reason


@pytest.mark.parametrize(
    ("message", "scrubbed"),
    [
        ("row for anna.mueller@example.de rejected", "row for <email> rejected"),
        ("unsubscribe j%40example.com", "unsubscribe <email>"),
        ("call +49 30 1234567 or (030) 123-4567 or 555.123.4567", "call <phone> or <phone> or <phone>"),
        ("card 4111111111111111, account 1234567, order 123456", "card <number>, account <number>, order 123456"),
        ("Could not convert string 'Anna Müller' to INT32", "Could not convert string '…' to INT32"),
        ('unexpected value "Müller" in LAST_NAME', 'unexpected value "…" in LAST_NAME'),
        ("KeyError: 'Anna'", "KeyError: '…'"),
        # what on-call needs stays: identifiers, paths, keys, dates, error codes, query ids, counts
        ("Object 'GENAI.RAW.CUSTOMERS' does not exist", "Object 'GENAI.RAW.CUSTOMERS' does not exist"),
        ("missing 'batch_no' in 's3://genai-landing/pos/2025/03/01/06/a.jsonl'",
         "missing 'batch_no' in 's3://genai-landing/pos/2025/03/01/06/a.jsonl'"),
        ("last refresh SUCCEEDED at 2025-03-01 06:10:00 UTC, lag 42m > 15m",
         "last refresh SUCCEEDED at 2025-03-01 06:10:00 UTC, lag 42m > 15m"),
        ("002003 (42S02): 01b2c3d4-0000-1234-0000-00012345abcd: can't find it, it doesn't exist",
         "002003 (42S02): 01b2c3d4-0000-1234-0000-00012345abcd: can't find it, it doesn't exist"),
        ("batch 1: 3 customer(s) failed (model call failed: ServiceUnavailable x3)",
         "batch 1: 3 customer(s) failed (model call failed: ServiceUnavailable x3)"),
    ],
)
def test_scrubbing(message: str, scrubbed: str) -> None:
    from genai_personalization.oncall import scrub

    assert scrub(message) == scrubbed


def test_an_email_address_at_the_scan_limit_is_not_left_half_visible() -> None:
    from genai_personalization.oncall import _SCAN_CHARS, failure_reason

    padding = "y " * ((_SCAN_CHARS - 10) // 2)
    reason = failure_reason(RuntimeError(f"{padding}anna.mueller@example.de"), limit=10 * _SCAN_CHARS)
    assert "anna" not in reason and "example" not in reason


def test_the_line_carries_nothing_of_params_templates_variables_or_conf() -> None:
    from genai_personalization.oncall import failure_line

    line = failure_line(failure_context(ValueError(f"bad row for {PII[0]}, {PII[3]}, '{PII[5]}', {PII[4]}")))
    assert line.startswith("DAG customer_master_ingest task load_customers run ")
    assert "failed: ValueError: bad row for <email>, <phone>, '…', <number> | log: " in line
    assert [value for value in PII if value in line] == []


# --- where it goes -----------------------------------------------------------------------------------------


def test_with_the_connection_one_json_message_is_posted(monkeypatch: pytest.MonkeyPatch,
                                                        logs: list[dict[str, Any]]) -> None:
    from genai_personalization.oncall import failure_line

    context = failure_context(RuntimeError("boom"))
    with Webhook() as hook:
        monkeypatch.setenv("AIRFLOW_CONN_GENAI_ONCALL", hook.connection_json())
        notify(context)
    line = failure_line(context)
    assert hook.requests == [{"path": "/services/T000/B000/secret-token", "content_type": "application/json",
                              "body": {"text": line}}]
    assert ours(logs) == [("info", f"on-call notice posted to genai_oncall: {line}")]


def test_the_connection_id_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with Webhook() as hook:
        monkeypatch.setenv("GENAI_ONCALL_CONN_ID", "pager_webhook")
        monkeypatch.setenv("AIRFLOW_CONN_PAGER_WEBHOOK", hook.connection_json())
        notify(failure_context(RuntimeError("boom")))
    assert len(hook.lines()) == 1 and hook.lines()[0].endswith("?try_number=4")


def test_without_a_connection_the_line_is_logged_at_error_only(logs: list[dict[str, Any]]) -> None:
    from genai_personalization.oncall import failure_line

    context = failure_context(RuntimeError("boom"))
    notify(context)
    assert ours(logs) == [("error", f"on-call (no connection genai_oncall, logged only): {failure_line(context)}")]


def test_a_connection_without_a_webhook_url_logs_the_line(monkeypatch: pytest.MonkeyPatch,
                                                          logs: list[dict[str, Any]]) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_GENAI_ONCALL", json.dumps({"conn_type": "http", "host": "hooks.example.com"}))
    notify(failure_context(RuntimeError("boom")))
    ((level, message),) = ours(logs)
    assert level == "error"
    assert message.startswith("on-call (connection genai_oncall has no http(s) webhook URL in its password, "
                              "logged only): DAG customer_master_ingest task load_customers ")


def failed_post(monkeypatch: pytest.MonkeyPatch, logs: list[dict[str, Any]], hook: Webhook | None,
                connection: str) -> str:
    """Notify through a webhook that fails; the task's exception and context must come out untouched."""
    from genai_personalization.oncall import failure_line

    error = RuntimeError("the task's own failure")
    context = failure_context(error)
    before = dict(context)
    monkeypatch.setenv("AIRFLOW_CONN_GENAI_ONCALL", connection)
    notify(context)  # no exception escapes
    # Airflow's runner adds outlet_events; everything the task put there is as it was
    assert {key: context[key] for key in before} == before
    assert context["exception"] is error and str(error) == "the task's own failure"
    ((level, message),) = ours(logs)
    assert level == "error" and "\n" not in message
    assert message.endswith(f"the line was: {failure_line(context)}")
    if hook is not None:
        assert hook.lines() == [failure_line(context)]
        assert hook.url not in message and "secret-token" not in message
    return message


def test_a_webhook_answering_500_costs_one_log_line(monkeypatch: pytest.MonkeyPatch,
                                                   logs: list[dict[str, Any]]) -> None:
    with Webhook(status=500) as hook:
        message = failed_post(monkeypatch, logs, hook, hook.connection_json())
    assert message.startswith("on-call post to genai_oncall failed (HTTP 500), the line was: DAG ")


def test_a_webhook_that_does_not_answer_times_out_in_one_log_line(monkeypatch: pytest.MonkeyPatch,
                                                                 logs: list[dict[str, Any]]) -> None:
    with Webhook(hang=True) as hook:
        message = failed_post(monkeypatch, logs, hook, hook.connection_json(timeout=0.5))
    assert message.startswith("on-call post to genai_oncall failed (no answer within 0.5s), the line was: ")


def test_a_webhook_that_is_down_costs_one_log_line(monkeypatch: pytest.MonkeyPatch,
                                                  logs: list[dict[str, Any]]) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connection = json.dumps({"conn_type": "http", "password": f"http://127.0.0.1:{port}/hook"})
    message = failed_post(monkeypatch, logs, None, connection)
    assert message.startswith("on-call post to genai_oncall failed (ConnectionRefusedError: ")
    assert f"127.0.0.1:{port}" not in message


def test_an_exception_that_cannot_be_printed_still_gives_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    with Webhook() as hook:
        monkeypatch.setenv("AIRFLOW_CONN_GENAI_ONCALL", hook.connection_json())
        notify(failure_context(Unprintable()))
    (line,) = hook.lines()
    assert " try 4/4 failed: Unprintable | log: " in line


def test_importing_the_module_costs_nothing_beyond_airflow_sdk(tmp_path: Path) -> None:
    # DAG files import it at every parse: no HTTP client, hooks or providers may come with it
    code = (
        "import sys, airflow.sdk\n"
        "before = set(sys.modules)\n"
        "import genai_personalization.oncall\n"
        "print(sorted(m for m in set(sys.modules) - before if not m.startswith('genai_personalization')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
        env={"PYTHONPATH": f"{REPO_ROOT / 'plugins'}:{REPO_ROOT}", "PATH": "/usr/bin:/bin",
             "AIRFLOW_HOME": str(tmp_path)},
    )
    assert result.stdout.strip() == "[]"
