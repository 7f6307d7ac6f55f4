"""POS events into bronze: the bulk path vs row-by-row INSERTs, and the load step's memory as files grow.

On a private local stack (free ports, removed afterwards):
(a) bulk: PosEventsLoadOperator.load_files on one gzipped file of LARGE events (stream, validate,
    stage, PUT, COPY INTO, MERGE), timed end to end;
(b) row by row: the same validation, then one INSERT per event through a SnowflakeHook connection,
    on ROW_SAMPLE events; events/s is extrapolated from the sample (1M single-row INSERTs would
    take hours), so the ratio compares rates;
(c) memory: the peak RSS growth of the load step (sampled every 20 ms in a fresh process) for
    SMALL and LARGE events: streaming keeps it flat.
Each load runs in its own process, so one measurement's memory cannot hide in another's.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BUCKET = "bench-landing"
LARGE = 1_000_000
SMALL = 100_000
ROW_SAMPLE = 2_000
NOT_AFTER = datetime(2025, 3, 1, 7, tzinfo=timezone.utc)
_CURRENCIES = ("EUR", "GBP", "CHF", "USD", "JPY")


def event_lines(count: int, start: int = 0) -> Any:
    """Synthetic events shaped like local.seed's (ids, offsets, 1-3 items), fast enough for a million."""
    base = datetime(2025, 3, 1, 6, tzinfo=timezone.utc)
    for i in range(start, start + count):
        web = i % 3 == 0
        items = ",".join(
            '{"product_id":"B0%08d","quantity":%d,"unit_price":%d.%02d}' % ((i * 7 + k) % 10_000, 1 + k, 5 + i % 300, i % 100)
            for k in range(1 + i % 3)
        )
        ts = (base + timedelta(milliseconds=i * 3600_000 // max(count, 1))).isoformat(timespec="milliseconds")
        yield (
            f'{{"event_id":"bench-{i:09d}","event_ts":"{ts}","customer_id":"C{i % 50_000:06d}",'
            f'"channel":"{"web" if web else "pos"}","store_id":{"null" if web else json.dumps(f"AT-VIE-{i % 9:02d}")},'
            f'"currency":"{_CURRENCIES[i % 5]}","payment_type":"card","items":[{items}]}}\n'
        )


def _write_gz(path: Path, count: int) -> None:
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as f:
        for line in event_lines(count):
            f.write(line)


def _child_load(key: str, database: str) -> dict[str, Any]:
    """In a fresh process: load one file through the operator's bulk path; time and peak RSS growth."""
    import psutil

    from genai_personalization.operators.pos import PosEventsLoadOperator
    from include.pos import FileVersion, LoadPlan

    operator = PosEventsLoadOperator(task_id="bench_load")
    head = operator.s3_hook.get_conn().head_object(Bucket=BUCKET, Key=key)
    plan = LoadPlan((FileVersion.of(BUCKET, key, head["ETag"], head["ContentLength"]),), ())
    conn = operator.snowflake_hook.get_conn()
    conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS {database}")
    operator.run_step(conn, "create_objects", {"database": database})

    process = psutil.Process()
    baseline = process.memory_info().rss
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    summary = operator.load_files(conn, database, BUCKET, plan, "bench", NOT_AFTER)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    conn.close()
    return {"seconds": round(seconds, 2), "loaded": summary.loaded, "quarantined": summary.quarantined,
            "peak_rss_growth_mb": round((peak - baseline) / 2**20, 1), "baseline_rss_mb": round(baseline / 2**20, 1)}


def _child_row_by_row(database: str) -> dict[str, Any]:
    """Same validation, then one INSERT per event on one connection from SnowflakeHook."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from genai_personalization.sql import render_sql
    from include.pos import PosEvent, validate_line

    conn = SnowflakeHook(snowflake_conn_id="snowflake_default").get_conn()
    cursor = conn.cursor()
    cursor.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
    for statement in conn.execute_string(render_sql("pos_transactions_ingest", "create_objects", database=database)):
        statement.close()
    insert = (
        f"INSERT INTO {database}.RAW.POS_TRANSACTIONS (EVENT_ID, EVENT_TS, CUSTOMER_ID, CHANNEL, STORE_ID, CURRENCY, "
        "PAYMENT_TYPE, ITEMS, RAW_RECORD, RECORD_HASH, SOURCE_FILE, LOADED_AT) "
        "SELECT %s, %s, %s, %s, %s, %s, %s, PARSE_JSON(%s), PARSE_JSON(%s), %s, %s, CURRENT_TIMESTAMP()"
    )
    start = time.perf_counter()
    inserted = 0
    for number, line in enumerate(event_lines(ROW_SAMPLE), start=1):
        event = validate_line(line.rstrip("\n").encode(), number, NOT_AFTER)
        assert isinstance(event, PosEvent)
        cursor.execute(insert, (
            event.event_id, event.event_ts.isoformat(), event.customer_id, event.channel, event.store_id,
            event.currency, event.payment_type, event.items_json(), event.raw_text, event.record_hash, "bench",
        ))
        inserted += 1
    seconds = time.perf_counter() - start
    conn.close()
    return {"seconds": round(seconds, 2), "inserted": inserted}


def _in_child(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.pos_load", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=900,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench child {args[0]} failed: {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run() -> dict[str, object]:
    from local import assets
    from local.stack import DEFAULT_PORTS, LocalStack, StackConfig, free_port

    with tempfile.TemporaryDirectory(prefix="bench-pos-") as tmp:
        folder = Path(tmp)
        stack = LocalStack(StackConfig(state_dir=folder / "stack", assets_dir=assets.DEFAULT_ASSETS_DIR,
                                       ports={name: free_port() for name in DEFAULT_PORTS}))
        env = {**os.environ, **stack.up(), "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'plugins'}",
               "AIRFLOW_HOME": str(folder / "airflow"), "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
               "GENAI_LANDING_BUCKET": BUCKET}
        try:
            keys = {}
            start = time.perf_counter()
            for count in (SMALL, LARGE):
                path = folder / f"events-{count}.jsonl.gz"
                _write_gz(path, count)
                keys[count] = f"pos/2025/03/01/06/bench-{count}.jsonl.gz"
                _in_child(env, "--upload", str(path), keys[count])
            prepare_s = time.perf_counter() - start
            small = _in_child(env, "--load", keys[SMALL], "BENCH_SMALL")
            large = _in_child(env, "--load", keys[LARGE], "BENCH_LARGE")
            rows = _in_child(env, "--row-by-row", "BENCH_ROWS")
        finally:
            stack.down()

    bulk_rate = large["loaded"] / large["seconds"]
    row_rate = rows["inserted"] / rows["seconds"]
    return {
        "bulk_events": large["loaded"], "bulk_s": large["seconds"], "bulk_events_per_s": round(bulk_rate),
        "row_by_row_sample": rows["inserted"], "row_by_row_s": rows["seconds"],
        "row_by_row_events_per_s": round(row_rate, 1),
        "row_by_row_1m_extrapolated_s": round(LARGE / row_rate),
        "bulk_over_row_by_row": round(bulk_rate / row_rate, 1), "target_ratio_at_least": 20,
        "peak_rss_growth_mb": {str(SMALL): small["peak_rss_growth_mb"], str(LARGE): large["peak_rss_growth_mb"]},
        "load_s": {str(SMALL): small["seconds"], str(LARGE): large["seconds"]},
        "prepare_s": round(prepare_s, 1),
    }


def _main(argv: list[str]) -> int:
    logging_level = os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    import logging

    logging.basicConfig(level=logging_level)
    if argv[0] == "--upload":
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        hook = S3Hook(aws_conn_id="aws_default")
        if not hook.check_for_bucket(BUCKET):
            hook.create_bucket(BUCKET)
        hook.load_file(argv[1], argv[2], bucket_name=BUCKET, replace=True)
        result: dict[str, Any] = {"uploaded": argv[2]}
    elif argv[0] == "--load":
        result = _child_load(argv[1], argv[2])
    else:
        result = _child_row_by_row(argv[1])
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
