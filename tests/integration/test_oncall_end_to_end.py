"""On-call end to end: real DAGs fail for real reasons under ``dag.test()`` and the failure callback every DAG
carries posts one line per failed task instance to a real local webhook (tests/oncall_webhook.py).

``dag.test()`` runs tasks through Airflow's own task runner, which calls ``on_failure_callback`` only when
a task ends FAILED (a try that will be retried goes to ``on_retry_callback``), so these runs keep real
retries (with no delay) and check that a retried task is reported once, for its last try. What fails:

- customer_master_ingest against a landing bucket that does not exist (S3 NoSuchBucket, retried);
- customer_master_ingest on a headerless customer export whose file name is a customer's e-mail address
  (AirflowFailException, not retried), with the webhook up and with the webhook answering 500;
- personalized_email_campaign with every Bedrock call failing: two mapped generate_batch tasks and the
  summary fail.

Each test has its own bucket, database and logical date, so the other integration tests never see them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest

from dag_runs import bedrock_local, query
from oncall_webhook import Webhook

pytestmark = pytest.mark.integration

BASE_URL = "https://airflow.oncall.test"
DATABASE = "ONCALL_IT"
BUCKET = "oncall-it"
HEADER = "customer_id,first_name,last_name,email,preferred_language,country,marketing_consent"
CUSTOMERS = [  # id, first, last, email, phone (only in the export), language, country
    ("C001", "Anna", "Müller", "anna.mueller@example.de", "+49 30 1234567", "de", "DE"),
    ("C002", "João", "Silva", "joao.silva@example.com.br", "+55 11 91234-5678", "pt-BR", "BR"),
    ("C003", "Oliver", "Smith", "oliver.smith@example.co.uk", "+44 20 7946 0958", "en", "GB"),
    ("C004", "Camille", "Lefèvre", "camille.lefevre@example.fr", "+33 1 23 45 67 89", "fr", "FR"),
]
PII = [value for customer in CUSTOMERS for value in customer[1:5]]
PRODUCTS = [("B0SKILLET1", "Cast Iron Skillet 26 cm"), ("B0BOOTSLE3", "Leather Hiking Boots"),
            ("B0MERINO04", "Merino Wool Base Layer Top")]


@pytest.fixture
def webhook(local_stack: Any, airflow_db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    """The on-call connection pointing at a local webhook, and the project's settings pointing at this test's data."""
    with Webhook() as hook:
        monkeypatch.setenv("AIRFLOW_CONN_GENAI_ONCALL", hook.connection_json(timeout=2))
        monkeypatch.setenv("AIRFLOW__API__BASE_URL", BASE_URL)
        monkeypatch.setenv("GENAI_SNOWFLAKE_DATABASE", DATABASE)
        monkeypatch.setenv("GENAI_LANDING_BUCKET", BUCKET)
        yield hook


def run_with_retries(dag_id: str, logical_date: datetime, *, retries: int, run_conf: dict[str, Any] | None = None
                     ) -> tuple[Any, dict[tuple[str, int], tuple[str, int]]]:
    """Run dags/<dag_id>.py once, every task with ``retries`` immediate retries.

    Returns (run, (task id, map index) -> (state, try number)).
    """
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    from local.stack import REPO_ROOT

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags" / f"{dag_id}.py"))
    assert bag.import_errors == {}
    dag = bag.get_dag(dag_id)
    for task in dag.tasks:  # the DAG's own retries, without waiting minutes between them
        task.retries = retries
        task.retry_delay = timedelta(0)
        task.retry_exponential_backoff = 0
    run = dag.test(logical_date=logical_date, run_conf=run_conf)
    with create_session() as session:
        tis = session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run.run_id)
        return run, {(ti.task_id, ti.map_index): (ti.state, ti.try_number) for ti in tis}


def line_pattern(dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int, max_tries: int,
                 reason: str) -> str:
    """The line on-call must get; ``reason`` is a regex, the rest is literal."""
    task = f"{task_id}[{map_index}]" if map_index >= 0 else task_id
    log = f"{BASE_URL}/dags/{dag_id}/runs/{quote(run_id)}/tasks/{task_id}"
    log += f"/mapped/{map_index}" if map_index >= 0 else ""
    return (re.escape(f"DAG {dag_id} task {task} run {run_id} try {try_number}/{max_tries} failed: ") + reason
            + re.escape(f" | log: {log}?try_number={try_number}"))


def assert_no_customer_data(lines: list[str]) -> None:
    assert [value for value in PII if any(value in line for line in lines)] == []


def test_a_task_retried_then_failed_for_good_sends_one_line_for_its_last_try(webhook: Webhook,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENAI_LANDING_BUCKET", "oncall-it-no-such-bucket")
    run, states = run_with_retries("customer_master_ingest", datetime(2025, 5, 1, 6, tzinfo=timezone.utc), retries=1)

    assert states == {("load_customers", -1): ("failed", 2)}
    (line,) = webhook.lines()  # nothing for the first try, which was retried
    assert re.fullmatch(line_pattern(
        "customer_master_ingest", run.run_id, "load_customers", -1, 2, 2,
        re.escape("NoSuchBucket: An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation: "
                  "The specified bucket does not exist"),
    ), line), line


@pytest.mark.parametrize("status", [200, 500])
def test_a_failure_whose_message_names_a_customer_is_posted_scrubbed(webhook: Webhook, status: int) -> None:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    webhook.status = status  # 500: the post fails, and the task's failure must stay exactly as it is
    s3 = S3Hook(aws_conn_id="aws_default")
    if not s3.check_for_bucket(BUCKET):
        s3.create_bucket(BUCKET)
    # a one-off export without its header row, saved under the customer's e-mail address
    first = CUSTOMERS[0]
    rows = "".join(f"{c[0]},{c[1]},{c[2]},{c[3]},{c[5]},{c[6]},true\n" for c in CUSTOMERS)
    s3.load_string(rows, f"customers/{first[3]}.csv", bucket_name=BUCKET, replace=True)
    try:
        logical_date = datetime(2025, 5, 2, status // 100, tzinfo=timezone.utc)  # a run of its own per status
        run, states = run_with_retries("customer_master_ingest", logical_date, retries=1)
    finally:
        s3.delete_objects(BUCKET, [f"customers/{first[3]}.csv"])

    # AirflowFailException: not retried, so the first try is the last and is reported at once
    assert states == {("load_customers", -1): ("failed", 1)}
    assert run.state == "failed"
    lines = webhook.lines()
    assert len(lines) == 1  # posted once, whatever the webhook answered
    assert re.fullmatch(line_pattern(
        "customer_master_ingest", run.run_id, "load_customers", -1, 1, 2,
        re.escape(f"AirflowFailException: s3://{BUCKET}/customers/<email>: header does not match {HEADER}"),
    ), lines[0]), lines[0]
    assert_no_customer_data(lines)


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def seed_campaign_inputs() -> None:
    """The campaign's four input tables, with the columns their owner DAGs create, as small hand-made tables."""
    db = DATABASE
    for statement in (
        f"CREATE DATABASE IF NOT EXISTS {db}",
        f"CREATE SCHEMA IF NOT EXISTS {db}.RAW", f"CREATE SCHEMA IF NOT EXISTS {db}.ANALYTICS",
        f"CREATE OR REPLACE TABLE {db}.RAW.CUSTOMERS (CUSTOMER_ID VARCHAR NOT NULL PRIMARY KEY, FIRST_NAME VARCHAR, "
        "LAST_NAME VARCHAR, EMAIL VARCHAR NOT NULL, PREFERRED_LANGUAGE VARCHAR NOT NULL, COUNTRY VARCHAR(2) NOT NULL, "
        "MARKETING_CONSENT BOOLEAN NOT NULL)",
        f"CREATE OR REPLACE TABLE {db}.RAW.PRODUCTS (PRODUCT_ID VARCHAR NOT NULL, PRODUCT_NAME VARCHAR, "
        "CATEGORY VARCHAR, SUB_CATEGORY VARCHAR, DISCOUNTED_PRICE NUMBER(12, 2), ACTUAL_PRICE NUMBER(12, 2), "
        "CURRENCY VARCHAR, RATING FLOAT, ABOUT_PRODUCT VARCHAR)",
        f"CREATE OR REPLACE TABLE {db}.ANALYTICS.RECOMMENDATIONS (AS_OF_DATE DATE NOT NULL, "
        "CUSTOMER_ID VARCHAR NOT NULL, RANK INTEGER NOT NULL, PRODUCT_ID VARCHAR NOT NULL, SCORE FLOAT NOT NULL, "
        "REASON_CODE VARCHAR NOT NULL)",
        f"CREATE OR REPLACE TABLE {db}.ANALYTICS.CUSTOMER_PURCHASE_HISTORY (CUSTOMER_ID VARCHAR, ORDER_COUNT INTEGER, "
        "FAVOURITE_CATEGORIES ARRAY, LAST_PURCHASE_AT TIMESTAMP_TZ)",
    ):
        query(statement)
    for product_id, name in PRODUCTS:
        query(f"INSERT INTO {db}.RAW.PRODUCTS VALUES ({sql_text(product_id)}, {sql_text(name)}, 'Outdoor', 'Gear', "
              "49.90, 59.90, 'EUR', 4.5, NULL)")
    for customer_id, first, last, email, _, language, country in CUSTOMERS:
        query(f"INSERT INTO {db}.RAW.CUSTOMERS VALUES ({sql_text(customer_id)}, {sql_text(first)}, {sql_text(last)}, "
              f"{sql_text(email)}, {sql_text(language)}, {sql_text(country)}, TRUE)")
        for rank, (product_id, _) in enumerate(PRODUCTS, start=1):
            query(f"INSERT INTO {db}.ANALYTICS.RECOMMENDATIONS VALUES ('2025-04-30', {sql_text(customer_id)}, {rank}, "
                  f"{sql_text(product_id)}, {1 / rank}, 'POPULAR')")
        query(f"INSERT INTO {db}.ANALYTICS.CUSTOMER_PURCHASE_HISTORY SELECT {sql_text(customer_id)}, 2, "
              "ARRAY_CONSTRUCT('Outdoor'), '2025-04-20 12:00:00'::TIMESTAMP")


def test_failed_mapped_tasks_each_send_one_line_with_their_map_index(webhook: Webhook, local_stack: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENAI_CAMPAIGN_CONTEXT_K", "0")  # no company knowledge needed to fail at the model
    monkeypatch.setenv("GENAI_CAMPAIGN_MAX_ATTEMPTS", "1")
    seed_campaign_inputs()
    bedrock_local(local_stack, "config", {"error_rate": 1.0})  # every Bedrock call answers a server error
    try:
        run, states = run_with_retries(
            "personalized_email_campaign", datetime(2025, 5, 1, 8, tzinfo=timezone.utc), retries=1,
            run_conf={"campaign_id": "oncall-it", "mode": "on_demand", "batch_size": 2})
    finally:
        bedrock_local(local_stack, "config", {"error_rate": 0.0})

    failed = {key: try_number for key, (state, try_number) in states.items() if state == "failed"}
    assert failed == {("generate_batch", 0): 2, ("generate_batch", 1): 2, ("summarize", -1): 2}, states
    assert {key: state for key, (state, _) in states.items() if key not in failed} == {
        ("create_objects", -1): "success", ("select_audience", -1): "success", ("retrieve_context", -1): "success"}
    lines = sorted(webhook.lines())
    assert len(lines) == 3, lines  # one per failed task instance, none for the retried first tries
    dag_id, run_id = "personalized_email_campaign", run.run_id
    for line, (task_id, map_index), reason in zip(lines, sorted(failed), [
        r"AirflowException: batch 1: 2 customer\(s\) failed \(.+",
        r"AirflowException: batch 2: 2 customer\(s\) failed \(.+",
        r"AirflowException: campaign oncall-it: 4 email\(s\) failed .+",
    ]):
        assert re.fullmatch(line_pattern(dag_id, run_id, task_id, map_index, 2, 2, reason), line), line
    assert_no_customer_data(lines)
