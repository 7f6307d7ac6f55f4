"""Recommendations: offline hit-rate@5 against popularity, and 100,000 customers x 10,000 products in the warehouse.

On a private local stack (free ports, removed afterwards), one child process per part:
(a) quality: customers, catalog (with review sentiment) and purchases made by the seed generator's
    own functions (local/seed: favourite categories, bundles, Pareto activity), bulk-loaded with PUT +
    COPY INTO the input tables; then CustomerRecommendationsOperator.evaluate: each customer's last
    purchase held out, the production compute.sql run on the rest, hit-rate@5 vs the popularity-only
    baseline. Two data sets: the seed's default catalog size (150 products) and 1,000 products;
(b) scale: the same generator at 100,000 customers, 10,000 products and 500,000 purchase events,
    loaded the same way, then the operator's compute + counts + publish steps timed (what a DAG run
    does), three times for the same as-of date (median reported). The connection is wrapped to
    record every row the operator fetches: the report shows they are one row of counts per run,
    i.e. no interaction data reaches Python.
The input tables are plain tables with the columns of include/sql/customer_recommendations/
input_contract.sql (CURATED.PURCHASE_LINES is a dynamic table in production; the query reads it the
same way). Review sentiment comes from the generator's labels, not from Comprehend.

Run alone: ``.venv/bin/python -m bench recommendations`` (make bench runs every benchmark).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from include.recommendations import REASON_CODES

REPO_ROOT = Path(__file__).resolve().parent.parent
AS_OF = datetime(2026, 3, 1, tzinfo=timezone.utc)  # events end before this; the as-of date is the day before
# the seed's default catalog (150 products, ~6 per category) and a larger one (~43 per category)
QUALITY = {
    "seed_catalog": {"customers": 2_000, "products": 150, "events": 12_000, "days": 60},
    "large_catalog": {"customers": 5_000, "products": 1_000, "events": 30_000, "days": 90},
}
SCALE = {"customers": 100_000, "products": 10_000, "events": 500_000, "days": 180}
SEED = 42
REPEATS = 3  # scale runs timed; the median is reported (the machine is shared)
# Comprehend-like scores for the generator's review labels (POSITIVE, NEGATIVE, NEUTRAL, MIXED)
_SCORES = {"positive": (0.92, 0.02, 0.05, 0.01), "negative": (0.03, 0.90, 0.05, 0.02),
           "mixed": (0.25, 0.20, 0.10, 0.45)}


def _rng(stream: str, seed: int = SEED) -> random.Random:
    return random.Random(f"{seed}/{stream}")  # the seed generator's streams (local/seed/generate.py)


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def generate_inputs(customers: int, products: int, events: int, days: int, *, seed: int = SEED,
                    as_of: datetime = AS_OF) -> dict[str, Iterator[tuple[Any, ...]]]:
    """Rows for the four input tables, from local.seed's generator functions (deterministic for a seed)."""
    from local.seed.catalog import catalog_rows, generate_bundles, generate_products
    from local.seed.customers import generate_customers
    from local.seed.pos import PosFeed

    people = generate_customers(customers, _rng("customers", seed))
    catalog = generate_products(products, _rng("products", seed))
    bundles = generate_bundles(catalog, _rng("bundles", seed))
    rows = catalog_rows(catalog, _rng("reviews", seed))  # also draws each product's review labels
    feed = PosFeed(people, catalog, bundles, as_of, _rng("pos", seed))
    span_ms = days * 86_400_000
    clock = _rng("instants", seed)
    instants = sorted(as_of - timedelta(milliseconds=clock.randrange(1, span_ms)) for _ in range(events))

    def customer_rows() -> Iterator[tuple[Any, ...]]:
        for c in people:
            yield (c.customer_id, c.first_name, c.last_name, c.email, c.language, c.country,
                   "true" if c.consent else "false")

    def product_rows() -> Iterator[tuple[Any, ...]]:
        seen: set[str] = set()
        for row in rows:
            if row[0] in seen:
                continue
            seen.add(row[0])
            path = row[2].split("|")
            rating, count = _number(row[6]), _number(row[7])
            yield (row[0], row[1], path[0], row[2], path[-1], _number(row[3][1:]), _number(row[4][1:]), "EUR",
                   _number(row[5].rstrip("%")), rating, None if count is None else int(count))

    def sentiment_rows() -> Iterator[tuple[Any, ...]]:
        labels = {p.product_id: p.review_sentiments for p in catalog}
        seen: set[str] = set()
        for row in rows:
            if row[0] in seen:
                continue
            seen.add(row[0])
            for review_id, label in zip(row[11].split(","), labels[row[0]], strict=True):
                positive, negative, neutral, mixed = _SCORES[label]
                yield (row[0], review_id, hashlib.sha256(review_id.encode()).hexdigest(), label.upper(),
                       positive, negative, neutral, mixed, "2026-02-01T00:00:00+00:00")

    def line_rows() -> Iterator[tuple[Any, ...]]:
        for instant in instants:
            event = feed.make_event(instant)
            for number, item in enumerate(event["items"], start=1):
                yield (event["event_id"], number, event["event_ts"], event["customer_id"], event["channel"],
                       event["store_id"], event["currency"], item["product_id"], item["quantity"],
                       item["unit_price"], round(item["quantity"] * item["unit_price"], 4))

    return {"RAW.CUSTOMERS": customer_rows(), "RAW.PRODUCTS": product_rows(),
            "CURATED.REVIEW_SENTIMENT": sentiment_rows(), "CURATED.PURCHASE_LINES": line_rows()}


def load_inputs(conn: Any, database: str, inputs: dict[str, Iterator[tuple[Any, ...]]], folder: Path) -> dict[str, int]:
    """Create the input tables (input_contract.sql) and bulk-load the rows: CSV files, PUT, COPY INTO."""
    from genai_personalization.sql import render_sql

    for cursor in conn.execute_string(render_sql("customer_recommendations", "input_contract", database=database)):
        cursor.close()
    stage = f"{database}.RAW.BENCH_RECOMMENDATIONS_STAGE"
    conn.cursor().execute(f"CREATE STAGE IF NOT EXISTS {stage}")
    counts = {}
    for table, rows in inputs.items():
        path = folder / f"{table.lower().replace('.', '_')}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            count = 0
            for row in rows:
                writer.writerow("" if value is None else value for value in row)
                count += 1
        counts[table] = count
        if not count:
            continue
        cursor = conn.cursor()
        cursor.execute(f"PUT 'file://{path}' @{stage}/{path.stem}/ AUTO_COMPRESS = FALSE OVERWRITE = TRUE")
        cursor.execute(
            f"COPY INTO {database}.{table} FROM @{stage}/{path.stem}/ "
            "FILE_FORMAT = (TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '\"') FORCE = TRUE PURGE = TRUE"
        )
        path.unlink()
    return counts


class RecordingConnection:
    """Wraps a connector connection; records every row fetched through it (to show what reaches Python)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.fetched: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        return _RecordingCursor(self._conn.cursor(*args, **kwargs), self.fetched)

    def execute_string(self, *args: Any, **kwargs: Any) -> list[Any]:
        return [_RecordingCursor(c, self.fetched) for c in self._conn.execute_string(*args, **kwargs)]


class _RecordingCursor:
    def __init__(self, cursor: Any, fetched: list[tuple[Any, ...]]) -> None:
        self._cursor = cursor
        self._fetched = fetched

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def fetchone(self) -> Any:
        row = self._cursor.fetchone()
        if row is not None:
            self._fetched.append(tuple(row))
        return row

    def fetchall(self) -> list[Any]:
        rows = self._cursor.fetchall()
        self._fetched.extend(tuple(r) for r in rows)
        return rows

    def fetchmany(self, size: int | None = None) -> list[Any]:
        rows = self._cursor.fetchmany(size) if size else self._cursor.fetchmany()
        self._fetched.extend(tuple(r) for r in rows)
        return rows

    def __iter__(self) -> Iterator[Any]:
        for row in self._cursor:
            self._fetched.append(tuple(row))
            yield row


def _operator() -> Any:
    from genai_personalization.operators.recommendations import CustomerRecommendationsOperator

    return CustomerRecommendationsOperator(task_id="bench_recommendations")


def _prepare(conn: Any, database: str, sizes: dict[str, int], folder: Path) -> tuple[dict[str, int], float]:
    """Generate and load the inputs: (rows per table, seconds). Generation is lazy, done while writing the CSVs."""
    conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS {database}")
    start = time.perf_counter()
    loaded = load_inputs(conn, database, generate_inputs(**sizes), folder)
    return loaded, round(time.perf_counter() - start, 1)


def child_quality(folder: Path) -> dict[str, Any]:
    """(a) hit-rate@5 of the production query vs popularity, leave-last-purchase-out, per data set."""
    operator = _operator()
    conn = operator.snowflake_hook.get_conn()
    as_of = (AS_OF - timedelta(days=1)).date()
    out = {}
    for name, sizes in QUALITY.items():
        database = f"BENCH_RECS_{name.upper()}"
        loaded, prepare_s = _prepare(conn, database, sizes, folder)
        start = time.perf_counter()
        rates = operator.evaluate(conn, database, as_of)
        out[name] = {**rates.as_dict(), "sizes": sizes, "purchase_lines": loaded["CURATED.PURCHASE_LINES"],
                     "prepare_s": prepare_s, "evaluate_s": round(time.perf_counter() - start, 1)}
    conn.close()
    return out


def child_scale(folder: Path) -> dict[str, Any]:
    """(b) a DAG run's work (compute, counts, publish) for SCALE, REPEATS times, with every fetched row recorded."""
    from include.recommendations import publish_params

    operator = _operator()
    database = "BENCH_RECS_SCALE"
    raw = operator.snowflake_hook.get_conn()
    loaded, prepare_s = _prepare(raw, database, SCALE, folder)
    operator.run_step(raw, "create_objects", {"database": database})
    as_of: date = (AS_OF - timedelta(days=1)).date()
    runs = []
    for repeat in range(REPEATS):  # the same as-of date each time: a re-run replaces it
        conn = RecordingConnection(raw)
        start = time.perf_counter()
        counts = operator.compute(conn, database, as_of, operator.resolve_config())
        computed = time.perf_counter()
        operator.check(counts)
        operator.publish(conn, publish_params(database, as_of, f"bench__recommendations_{repeat}"))
        runs.append({"compute_s": computed - start, "publish_s": time.perf_counter() - computed,
                     "fetched": list(conn.fetched), "counts": counts})
    stored = raw.cursor().execute(
        f"SELECT COUNT(*), COUNT(DISTINCT CUSTOMER_ID) FROM {database}.ANALYTICS.RECOMMENDATIONS "
        f"WHERE AS_OF_DATE = '{as_of.isoformat()}'::DATE"
    ).fetchone()
    raw.close()
    fetched = [row for run in runs for row in run["fetched"]]
    totals = sorted(run["compute_s"] + run["publish_s"] for run in runs)
    return {
        "sizes": SCALE, "rows_loaded": loaded, "prepare_s": prepare_s, "repeats": REPEATS,
        "compute_s_median": round(statistics.median(run["compute_s"] for run in runs), 1),
        "publish_s_median": round(statistics.median(run["publish_s"] for run in runs), 1),
        "total_s_median": round(statistics.median(totals), 1), "total_s_min": round(totals[0], 1),
        "counts": runs[-1]["counts"],
        "stored_rows": int(stored[0]), "stored_customers": int(stored[1]),
        "rows_fetched_into_python_per_run": len(fetched) / REPEATS,
        "fetched_values_all_counts": all(isinstance(v, int) for row in fetched for v in row),
    }


def _in_child(env: dict[str, str], which: str, folder: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.recommendations", "--child", which, str(folder)], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=3600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench child {which} failed: {result.stderr.strip().splitlines()[-3:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(parts: tuple[str, ...] = ("quality", "scale")) -> dict[str, object]:
    from local import assets
    from local.stack import DEFAULT_PORTS, LocalStack, StackConfig, free_port

    with tempfile.TemporaryDirectory(prefix="bench-recs-") as tmp:
        folder = Path(tmp)
        stack = LocalStack(StackConfig(state_dir=folder / "stack", assets_dir=assets.DEFAULT_ASSETS_DIR,
                                       ports={name: free_port() for name in DEFAULT_PORTS}))
        env = {**os.environ, **stack.up(), "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'plugins'}",
               "AIRFLOW_HOME": str(folder / "airflow"), "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
               # the stand-in's dynamic-table scheduler has nothing to do here
               "LOCAL_SNOWFLAKE_DT_SCHEDULER": "off"}
        try:
            results = {part: _in_child(env, part, folder) for part in parts}
        finally:
            stack.down()

    out: dict[str, object] = {}
    for name, quality in results.get("quality", {}).items():
        out[name] = {key: quality[key] for key in (
            "evaluated_customers", "hit_rate_at_5", "popularity_hit_rate_at_5", "lift_over_popularity", "sizes",
            "purchase_lines", "evaluate_s")}
    if scale := results.get("scale"):
        out["scale"] = {
            "data": scale["sizes"], "purchase_lines": scale["rows_loaded"]["CURATED.PURCHASE_LINES"],
            "repeats": scale["repeats"], "compute_s_median": scale["compute_s_median"],
            "publish_s_median": scale["publish_s_median"], "total_s_median": scale["total_s_median"],
            "total_s_min": scale["total_s_min"], "rows_published": scale["stored_rows"],
            "customers_published": scale["stored_customers"],
            "cold_start_customers": scale["counts"]["COLD_START"],
            "reasons": {k: scale["counts"][k] for k in REASON_CODES},  # rows per reason code
            "rows_fetched_into_python_per_run": scale["rows_fetched_into_python_per_run"],
            "fetched_values_all_counts": scale["fetched_values_all_counts"],
            "prepare_s": scale["prepare_s"],
        }
    return out


def _main(argv: list[str]) -> int:
    import logging

    logging.basicConfig(level=os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"))
    if argv[:1] == ["--child"]:  # in the process run() starts, on the stack it started
        which, parent = argv[1], argv[2]
        folder = Path(tempfile.mkdtemp(prefix=f"{which}-", dir=parent))
        print(json.dumps(child_quality(folder) if which == "quality" else child_scale(folder)))
        return 0
    print(json.dumps(run(tuple(argv) or ("quality", "scale"))))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
