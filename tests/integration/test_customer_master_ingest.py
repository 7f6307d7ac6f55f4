"""customer_master_ingest end to end: S3 (moto server) -> Airflow (dag.test) -> Snowflake (fakesnow server).

One CSV holds good rows and one bad row per quarantine reason. The test checks the tables exactly,
re-runs the same interval (nothing may change), then changes one customer (only that row may change).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

pytestmark = pytest.mark.integration

DAG_ID = "customer_master_ingest"
BUCKET = "genai-landing"
KEY = "customers/crm_export.csv"
SOURCE = f"s3://{BUCKET}/{KEY}"
LOGICAL_DATE = datetime(2025, 3, 1, 6, tzinfo=timezone.utc)

GOOD_AND_BAD = """\
customer_id,first_name,last_name,email,preferred_language,country,marketing_consent
C001,Anna,Müller,anna.mueller@example.de,de,DE,true
C002,João,Silva,joao.silva@example.com.br,PT-br,br,FALSE
C003,Bad,Mail,not-an-email,en,US,true
,No,Id,no.id@example.com,en,US,true
C005,Lang,Tag,lang@example.com,xx,US,true
C006,Country,Code,country@example.com,en,ZZ,true
C007,Consent,Word,consent@example.com,en,US,yes
C008,Dup,One,dup.one@example.com,en,US,true
C008,Dup,Two,dup.two@example.com,en,US,true
C009,Too,Few
C010,"Smith, Jr.",O'Neil,o.neil@example.ie,en-ie,IE,false
C011,Same,Twice,same@example.fr,fr,FR,true
C011,Same,Twice,same@example.fr,fr,FR,true
"""

EXPECTED_CUSTOMERS = [
    ("C001", "Anna", "Müller", "anna.mueller@example.de", "de", "DE", True, SOURCE),
    ("C002", "João", "Silva", "joao.silva@example.com.br", "pt-BR", "BR", False, SOURCE),
    ("C010", "Smith, Jr.", "O'Neil", "o.neil@example.ie", "en-IE", "IE", False, SOURCE),
    ("C011", "Same", "Twice", "same@example.fr", "fr", "FR", True, SOURCE),
]
EXPECTED_QUARANTINE = [
    (SOURCE, "line 10: C008", "customer_id repeated in file with different content"),
    (SOURCE, "line 11", "wrong column count"),
    (SOURCE, "line 4: C003", "invalid email"),
    (SOURCE, "line 5", "missing customer_id"),
    (SOURCE, "line 6: C005", "unknown language tag"),
    (SOURCE, "line 7: C006", "unknown country code"),
    (SOURCE, "line 8: C007", "consent not true/false"),
    (SOURCE, "line 9: C008", "customer_id repeated in file with different content"),
]
CUSTOMER_COLUMNS = "CUSTOMER_ID, FIRST_NAME, LAST_NAME, EMAIL, PREFERRED_LANGUAGE, COUNTRY, MARKETING_CONSENT, SOURCE_FILE"


def _run_dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.state import DagRunState

    from local.stack import REPO_ROOT

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags" / f"{DAG_ID}.py"))
    assert bag.import_errors == {}
    run = bag.get_dag(DAG_ID).test(logical_date=LOGICAL_DATE)
    assert run.state == DagRunState.SUCCESS
    return run


def _query(sql: str) -> list[tuple[Any, ...]]:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    return [tuple(row) for row in SnowflakeHook(snowflake_conn_id="snowflake_default").get_records(sql)]


def _customers() -> list[tuple[Any, ...]]:
    return _query(f"SELECT {CUSTOMER_COLUMNS}, ROW_HASH, LOADED_AT FROM GENAI.RAW.CUSTOMERS ORDER BY CUSTOMER_ID")


def _quarantine() -> list[tuple[Any, ...]]:
    return _query(
        "SELECT SOURCE, RECORD_KEY, REASON, TO_JSON(RAW_RECORD), RUN_ID, QUARANTINED_AT FROM GENAI.OPS.QUARANTINE "
        "WHERE SOURCE LIKE 's3://genai-landing/customers/%' ORDER BY RECORD_KEY"
    )


def test_customer_master_ingest_end_to_end(local_stack: object, airflow_db: None) -> None:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    s3 = S3Hook(aws_conn_id="aws_default")
    if not s3.check_for_bucket(BUCKET):
        s3.create_bucket(BUCKET)
    s3.load_string(GOOD_AND_BAD, KEY, bucket_name=BUCKET, replace=True)

    first = _run_dag()
    customers = _customers()
    quarantine = _quarantine()
    assert [row[:8] for row in customers] == EXPECTED_CUSTOMERS
    assert [row[:3] for row in quarantine] == EXPECTED_QUARANTINE
    assert {row[4] for row in quarantine} == {first.run_id}
    assert '"email":"not-an-email"' in quarantine[2][3].replace(" ", "")  # the raw record, as received

    # the same interval again: identical contents, timestamps included
    _run_dag()
    assert _customers() == customers
    assert _quarantine() == quarantine

    # one customer changes: only that row changes
    s3.load_string(GOOD_AND_BAD.replace("PT-br,br,FALSE", "PT-br,br,true"), KEY, bucket_name=BUCKET, replace=True)
    _run_dag()
    after = _customers()
    assert [row for row in after if row[0] != "C002"] == [row for row in customers if row[0] != "C002"]
    (changed,) = [row for row in after if row[0] == "C002"]
    (before,) = [row for row in customers if row[0] == "C002"]
    assert changed[6] is True and changed[8] != before[8] and changed[9] >= before[9]
    assert _quarantine() == quarantine
