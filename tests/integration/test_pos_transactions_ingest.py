"""pos_transactions_ingest end to end: S3 (moto server) -> Airflow (dag.test) -> Snowflake (fakesnow server).

Each test gets its own Snowflake database and landing bucket (project settings are read when a task
runs), so it can compare whole tables: (1) one file with good and bad records gives exact bronze and
quarantine contents; (2) the same interval run twice, and re-read after losing the ledger, leaves
identical tables; (3) a backfill over three seeded hours loads every good event once and quarantines
exactly the generator's injected bad lines; (4) a re-uploaded file (new ETag) is re-read and its
changed event quarantined.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import dag_runs
from dag_runs import query, xcom

pytestmark = pytest.mark.integration

DAG_ID = "pos_transactions_ingest"
SNAPSHOT = {
    "bronze": "SELECT EVENT_ID, EVENT_TS, CUSTOMER_ID, CHANNEL, STORE_ID, CURRENCY, PAYMENT_TYPE, TO_JSON(ITEMS), "
              "TO_JSON(RAW_RECORD), RECORD_HASH, SOURCE_FILE, LOADED_AT FROM {db}.RAW.POS_TRANSACTIONS ORDER BY EVENT_ID",
    "quarantine": "SELECT SOURCE, RECORD_KEY, REASON, TO_JSON(RAW_RECORD), RUN_ID, QUARANTINED_AT "
                  "FROM {db}.OPS.QUARANTINE ORDER BY SOURCE, RECORD_KEY, REASON",
    "ledger": "SELECT SOURCE, ETAG, SIZE_BYTES, RUN_ID, LOADED_AT FROM {db}.OPS.LOAD_LEDGER ORDER BY SOURCE, ETAG",
}


class Landing:
    """One test's database and bucket, selected through the project settings' environment variables."""

    def __init__(self, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        self.database = f"POS_{name.upper()}"
        self.bucket = f"pos-{name.lower()}"
        monkeypatch.setenv("GENAI_SNOWFLAKE_DATABASE", self.database)
        monkeypatch.setenv("GENAI_LANDING_BUCKET", self.bucket)
        self.s3 = S3Hook(aws_conn_id="aws_default")
        self.s3.create_bucket(self.bucket)
        query(f"CREATE DATABASE IF NOT EXISTS {self.database}")

    def put(self, key: str, lines: list[str]) -> str:
        data = "".join(line + "\n" for line in lines).encode("utf-8")
        self.s3.load_bytes(gzip.compress(data, mtime=0) if key.endswith(".gz") else data, key,
                           bucket_name=self.bucket, replace=True)
        return f"s3://{self.bucket}/{key}"

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        return {name: query(sql.format(db=self.database)) for name, sql in SNAPSHOT.items()}


def run_dag(logical_date: datetime) -> dict[str, Any]:
    """Run the DAG for one logical date; returns load_events' summary (its XCom)."""
    run, _ = dag_runs.run_dag(DAG_ID, logical_date)
    return xcom(DAG_ID, run.run_id, "load_events")


@pytest.fixture
def landing(request: pytest.FixtureRequest, local_stack: object, airflow_db: None,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Landing]:
    name = re.sub(r"[^a-z0-9]", "", request.node.name.lower())[-40:]
    yield Landing(name, monkeypatch)


def event(event_id: str, **changes: Any) -> dict[str, Any]:
    base = {
        "event_id": event_id, "event_ts": "2025-03-01T06:10:00.000+01:00", "customer_id": "C000001",
        "channel": "pos", "store_id": "AT-VIE-01", "currency": "EUR", "payment_type": "card",
        "items": [{"product_id": "B012345678", "quantity": 2, "unit_price": 19.9}],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def line(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"))


T = datetime(2025, 3, 1, 6, 15, tzinfo=timezone.utc)  # loads pos/2025/03/01/05/ and pos/2025/03/01/06/

GOOD_AND_BAD = [
    line(event("e-01")),                                                                      # 1 good, pos
    line(event("e-02", channel="web", store_id=None, currency="GBP", payment_type=...,
               event_ts="2025-03-01T05:59:59Z")),                                             # 2 good, web
    line(event("e-01")),                                                                      # 3 re-sent: duplicate
    line(event("e-01", payment_type="cash")),                                                 # 4 conflict
    line(event("e-05"))[:-9],                                                                 # 5 invalid JSON
    line(event("e-06", items=[{"product_id": "B1", "quantity": 0, "unit_price": 1.0}])),      # 6
    line(event("e-07", items=[{"product_id": "B1", "quantity": 1, "unit_price": -1.0}])),     # 7
    line(event("e-08", currency="XXX")),                                                      # 8
    line(event("e-09", event_ts="2025-03-01 06:10:00")),                                      # 9 no offset
    line(event("e-10", event_ts="2025-03-03T06:10:00Z")),                                     # 10 future
    line(event("e-11", items=[])),                                                            # 11
    line(event("e-12", channel="app")),                                                       # 12
    line(event("e-13", channel="web")),                                                       # 13 web with a store
    line(event("e-14", store_id=None)),                                                       # 14 pos without one
    line(event("e-15", customer_id=...)),                                                     # 15
    line(event("e-16", items=[{"product_id": "B1", "quantity": "2", "unit_price": 1.0}])),    # 16
    "",                                                                                       # 17 blank: not a record
    "[1, 2]",                                                                                 # 18
]
EXPECTED_QUARANTINE = [
    ("line 10: e-10", "event_ts more than a day in the future"),
    ("line 11: e-11", "empty items"),
    ("line 12: e-12", "channel not pos/web"),
    ("line 13: e-13", "store_id set for channel web"),
    ("line 14: e-14", "store_id missing for channel pos"),
    ("line 15: e-15", "missing field: customer_id"),
    ("line 16: e-16", "mistyped field: items.quantity"),
    ("line 18", "record is not a JSON object"),
    ("line 4: e-01", "event_id seen with different content"),
    ("line 5", "invalid JSON"),
    ("line 6: e-06", "quantity <= 0"),
    ("line 7: e-07", "negative price"),
    ("line 8: e-08", "unknown currency"),
    ("line 9: e-09", "event_ts not ISO-8601 with offset"),
]


def test_a_file_with_good_and_bad_records(landing: Landing) -> None:
    source = landing.put("pos/2025/03/01/06/pos-1-2025-03-01-06-10-00-a.jsonl", GOOD_AND_BAD)
    landing.put("pos/2025/03/01/06/notes.txt", ["not an event file"])
    landing.put("pos/2025/03/01/04/pos-1-2025-03-01-04-10-00-old.jsonl", [line(event("e-old"))])  # outside T's hours

    summary = run_dag(T)

    assert summary == {
        "files_listed": 1, "files_skipped": 0, "files_loaded": 1, "lines_read": 18, "loaded": 2, "duplicate": 1,
        "quarantined": 14,
        "quarantined_by_reason": dict(Counter(reason for _, reason in EXPECTED_QUARANTINE)),
    }
    snapshot = landing.snapshot()
    bronze = [row[:7] + (json.loads(row[7]), row[10]) for row in snapshot["bronze"]]
    assert bronze == [
        ("e-01", datetime(2025, 3, 1, 6, 10, tzinfo=timezone(timedelta(hours=1))), "C000001", "pos", "AT-VIE-01",
         "EUR", "card", [{"product_id": "B012345678", "quantity": 2, "unit_price": 19.9}], source),
        ("e-02", datetime(2025, 3, 1, 5, 59, 59, tzinfo=timezone.utc), "C000001", "web", None, "GBP", None,
         [{"product_id": "B012345678", "quantity": 2, "unit_price": 19.9}], source),
    ]
    assert json.loads(snapshot["bronze"][0][8]) == event("e-01")  # the raw record, as received
    assert [(row[0], row[1], row[2]) for row in snapshot["quarantine"]] == [
        (source, key, reason) for key, reason in EXPECTED_QUARANTINE
    ]
    raw = {row[1]: row[3] for row in snapshot["quarantine"]}
    assert json.loads(raw["line 4: e-01"])["payment_type"] == "cash"
    assert json.loads(raw["line 5"]) == GOOD_AND_BAD[4]  # not JSON: kept as a string
    assert [row[:3] for row in snapshot["ledger"]] == [
        (source, row[1], len("".join(x + "\n" for x in GOOD_AND_BAD).encode())) for row in snapshot["ledger"]
    ]


def test_the_same_interval_twice_and_a_lost_ledger_change_nothing(landing: Landing) -> None:
    landing.put("pos/2025/03/01/05/pos-1-2025-03-01-05-50-00-a.jsonl.gz",
                [line(event("e-1")), line(event("e-2")), line(event("e-3", currency="EUR "))])
    landing.put("pos/2025/03/01/06/pos-1-2025-03-01-06-05-00-b.jsonl", [line(event("e-3")), line(event("e-1"))])

    first = run_dag(T)
    before = landing.snapshot()
    again = run_dag(T)
    assert landing.snapshot() == before
    assert (first["loaded"], first["duplicate"], first["quarantined"]) == (3, 1, 1)
    assert (again["files_listed"], again["files_skipped"], again["files_loaded"], again["loaded"]) == (2, 2, 0, 0)

    # a crash after the MERGE but before the ledger write: the files are read again, harmlessly
    query(f"DELETE FROM {landing.database}.OPS.LOAD_LEDGER")
    reread = run_dag(T)
    after = landing.snapshot()
    assert (reread["files_loaded"], reread["loaded"], reread["duplicate"]) == (2, 0, 4)
    assert after["bronze"] == before["bronze"] and after["quarantine"] == before["quarantine"]
    assert [row[:3] for row in after["ledger"]] == [row[:3] for row in before["ledger"]]


def test_a_backfill_loads_every_good_event_once_and_quarantines_exactly_the_injected_lines(landing: Landing) -> None:
    from local.seed.generate import SeedConfig, generate

    as_of = datetime(2026, 3, 1, 10, tzinfo=timezone.utc)
    output = generate(SeedConfig(hours=3, events_per_hour=150, bad_rate=0.03, as_of=as_of))
    pos_files = {key: data for key, data in output.files.items() if key.startswith("pos/")}
    for key, data in pos_files.items():
        landing.s3.load_bytes(data, key, bucket_name=landing.bucket, replace=True)
    manifest = output.manifest
    assert {entry["kind"] for entry in manifest["bad_records"]} >= {"invalid_json", "conflicting_event_id"}

    summaries = [run_dag(as_of + timedelta(hours=h, minutes=15)) for h in (-3, -2, -1, 0)]  # in order, like a backfill

    bronze = query(f"SELECT EVENT_ID, COUNT(*) FROM {landing.database}.RAW.POS_TRANSACTIONS GROUP BY EVENT_ID")
    assert all(count == 1 for _, count in bronze)
    good_ids = set()
    bad_lines = {(entry["key"], entry["line"]) for entry in manifest["bad_records"]}
    for key, data in pos_files.items():
        text = gzip.decompress(data) if key.endswith(".gz") else data
        for number, raw in enumerate(text.decode().splitlines(), start=1):
            if (key, number) not in bad_lines:
                good_ids.add(json.loads(raw)["event_id"])
    assert {event_id for event_id, _ in bronze} == good_ids
    assert len(good_ids) == manifest["counts"]["good_events"]

    quarantined = query(f"SELECT SOURCE, RECORD_KEY, REASON FROM {landing.database}.OPS.QUARANTINE")
    found = Counter((source.split("/", 3)[3], int(re.match(r"line (\d+)", key).group(1))) for source, key, _ in quarantined)
    assert set(found) == bad_lines and set(found.values()) == {1}
    expected_reasons = {
        "invalid_json": "invalid JSON", "zero_quantity": "quantity <= 0", "negative_price": "negative price",
        "unknown_currency": "unknown currency", "future_timestamp": "event_ts more than a day in the future",
        "conflicting_event_id": "event_id seen with different content",
    }
    reason_of = {(source.split("/", 3)[3], int(re.match(r"line (\d+)", key).group(1))): reason
                 for source, key, reason in quarantined}
    for entry in manifest["bad_records"]:
        wanted = f"missing field: {entry['field']}" if entry["kind"] == "missing_field" else expected_reasons[entry["kind"]]
        assert reason_of[(entry["key"], entry["line"])] == wanted, entry

    assert sum(s["loaded"] for s in summaries) == len(good_ids)
    assert sum(s["duplicate"] for s in summaries) == manifest["counts"]["exact_duplicates"]
    assert sum(s["quarantined"] for s in summaries) == len(bad_lines)
    assert sum(s["files_loaded"] for s in summaries) == len(pos_files)


def test_a_changed_file_is_read_again_and_a_changed_event_is_quarantined(landing: Landing) -> None:
    key = "pos/2025/03/01/06/pos-1-2025-03-01-06-05-00-a.jsonl"
    source = landing.put(key, [line(event("e-1")), line(event("e-2"))])
    run_dag(T)
    before = landing.snapshot()

    # re-uploaded by hand: e-1 corrected (a different quantity), e-3 added, e-2 unchanged
    changed = [line(event("e-1", items=[{"product_id": "B012345678", "quantity": 3, "unit_price": 19.9}])),
               line(event("e-2")), line(event("e-3"))]
    landing.put(key, changed)
    summary = run_dag(T)

    assert (summary["files_loaded"], summary["loaded"], summary["duplicate"], summary["quarantined"]) == (1, 1, 1, 1)
    after = landing.snapshot()
    assert [row[0] for row in after["bronze"]] == ["e-1", "e-2", "e-3"]
    assert after["bronze"][:2] == before["bronze"]  # bronze keeps the version loaded first
    assert [row[:3] for row in after["quarantine"]] == [(source, "line 1: e-1", "event_id seen with different content")]
    assert len(after["ledger"]) == 2 and {row[0] for row in after["ledger"]} == {source}
