"""`make demo`: every pipeline end to end on the local stack, then a summary of what each produced.

Steps: start the local stack, seed it with synthetic data, prepare a local Airflow home, run each
DAG that exists with `airflow dags test` in dependency order, print what landed in S3 and in the
warehouse, and stop the stack (unless it was already running before the demo).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from local.assets import AssetError
from local.stack import LANDING_BUCKET, REPO_ROOT, LocalStack, StackConfig, StackError

# Dependency order of the pipelines (DESIGN.md). A DAG file whose id is missing here fails the demo
# rather than being silently left out.
PIPELINE_ORDER = [
    "customer_master_ingest",
    "pos_transactions_ingest",
    "dynamic_table_freshness",
    "document_ingest",
    "embedding_refresh",
    "product_reviews_sentiment",
    "customer_recommendations",
    "personalized_email_campaign",
]

log = logging.getLogger("demo")


class DemoError(RuntimeError):
    pass


def _step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def _run(cmd: list[str], env: dict[str, str], log_path: Path) -> float:
    """Run a command with its output to a log file; raise with the log's last line on failure."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with log_path.open("w") as out:
        done = subprocess.run(cmd, env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        lines = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
        raise DemoError(f"{' '.join(cmd[1:4])} failed: {lines[-1].strip() if lines else '?'} (log: {log_path})")
    return time.monotonic() - start


def seed_command(as_of: datetime) -> list[str]:
    """The demo's data: `python -m local.seed` into the landing bucket (also used by local/cluster.py and bench)."""
    return [sys.executable, "-m", "local.seed", "--bucket", LANDING_BUCKET, "--aws-conn-id", "aws_default",
            "--as-of", as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
            # one hour of events, the hour before the runs' logical date: the one run of
            # pos_transactions_ingest reads that hour and its own (a backfill would read more)
            "--hours", "1", "--events-per-hour", "600"]


def dag_ids(env: dict[str, str]) -> list[str]:
    """The DAG ids defined in dags/, in pipeline order."""
    probe = (
        "import json; from airflow.dag_processing.dagbag import DagBag; "
        "b = DagBag(); "
        "print(json.dumps({'ids': sorted(b.dags), 'errors': {k: str(v).splitlines()[-1] for k, v in b.import_errors.items()}}))"
    )
    done = subprocess.run([sys.executable, "-c", probe], env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise DemoError(f"could not load dags/: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    if found["errors"]:
        path, error = next(iter(found["errors"].items()))
        raise DemoError(f"DAG import error in {path}: {error}")
    unknown = [d for d in found["ids"] if d not in PIPELINE_ORDER]
    if unknown:
        raise DemoError(f"DAG(s) {unknown} are not in local/demo.py PIPELINE_ORDER: add them in dependency order")
    return [d for d in PIPELINE_ORDER if d in found["ids"]]


def summary(env: dict[str, str], bedrock_url: str, preview_path: Path) -> None:
    """What the pipelines produced: objects per S3 prefix, rows per warehouse table, model calls."""
    # the hooks log every statement and connection at INFO: the summary is for people
    os.environ.update({**env, "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING"})
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    keys = S3Hook(aws_conn_id="aws_default").list_keys(bucket_name=LANDING_BUCKET) or []
    prefixes: dict[str, int] = {}
    for key in keys:
        prefixes[key.split("/", 1)[0]] = prefixes.get(key.split("/", 1)[0], 0) + 1
    print(f"s3://{LANDING_BUCKET}: " + ", ".join(f"{p}/ {n} objects" for p, n in sorted(prefixes.items())))

    hook = SnowflakeHook(snowflake_conn_id="snowflake_default")
    tables = hook.get_records(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('INFORMATION_SCHEMA', 'PUBLIC') ORDER BY 1, 2"
    )
    if not tables:
        print("warehouse: no tables yet (no pipeline has run)")
    for schema, table in tables:
        (count,) = hook.get_first(f'SELECT COUNT(*) FROM "{schema}"."{table}"')  # names from the catalog
        print(f"warehouse {schema}.{table}: {count} rows")
        if (schema, table) == ("OPS", "QUARANTINE") and count:
            for reason, n in hook.get_records('SELECT REASON, COUNT(*) FROM "OPS"."QUARANTINE" GROUP BY 1 ORDER BY 1'):
                print(f"    {n:>5}  {reason}")

    knowledge_examples()
    campaign_preview(hook, preview_path)

    with urllib.request.urlopen(f"{bedrock_url}/_local/stats", timeout=5) as response:  # noqa: S310
        stats = json.load(response)
    print(f"bedrock stand-in: {json.dumps(stats, sort_keys=True)}")


def campaign_preview(hook: object, out: Path) -> None:
    """The campaign's emails as an HTML page to open; only the path and counts are printed."""
    from local.preview import write_preview

    from snowflake.connector.errors import ProgrammingError

    database = os.environ.get("GENAI_SNOWFLAKE_DATABASE", "GENAI").upper()
    try:
        written = write_preview(hook, database, out)
    except ProgrammingError as e:  # no campaign has run: MARKETING.EMAILS does not exist
        print(f"campaign: no preview ({(str(e.msg or e).splitlines() or ['?'])[0]})")
        return
    if written is None:
        print("campaign: no emails written")
        return
    campaign_id, counts = written
    by_status = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(f"campaign {campaign_id}: {by_status}; preview: {out}")


def demo_questions(count: int = 3) -> list[dict[str, str]]:
    """A few of the labelled retrieval questions, spread over the file."""
    from local.seed.documents import QUESTIONS_PATH

    return [json.loads(line) for line in QUESTIONS_PATH.read_text().splitlines() if line.strip()][::20][:count]


def knowledge_examples(count: int = 3) -> None:
    """Ask the company knowledge a few of the labelled questions, as the email campaign will."""
    plugins = str(REPO_ROOT / "plugins")
    if plugins not in sys.path:
        sys.path.insert(0, plugins)
    from genai_personalization.retrieval import KnowledgeRetriever, NoActiveEmbeddingSet

    questions = demo_questions(count)
    try:
        with KnowledgeRetriever() as retriever:
            for q in questions:
                top = retriever.search(q["question"], k=1)[0]
                print(f"knowledge: {q['question']} -> {top.source_uri.split('/', 3)[-1]} (score {top.score:.2f})")
    except NoActiveEmbeddingSet as e:
        print(f"knowledge: {e}")


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    stack = LocalStack(StackConfig.from_env())
    was_running = all(state.startswith("running") for state in stack.status().values())
    logs = stack.cfg.state_dir / "logs"
    try:
        _step("local stack")
        env = {**os.environ, **stack.up()}
        for name, state in stack.status().items():
            print(f"{name:<10} {state}")

        _step("seed synthetic data into S3")
        as_of = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
        seed_log = logs / "demo-seed.log"
        _run(seed_command(as_of), {**env, "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING"}, seed_log)
        print(seed_log.read_text().strip())

        _step("local Airflow home")
        _run([sys.executable, "-m", "local.airflow_home", "prepare"], env, logs / "demo-airflow-prepare.log")
        print(f"AIRFLOW_HOME={env['AIRFLOW_HOME']} (SQLite), pools loaded from airflow_settings.yaml")

        _step("pipelines (airflow dags test, in dependency order)")
        pipelines = dag_ids(env)
        if not pipelines:
            print("no pipeline DAGs in dags/ yet")
        for dag_id in pipelines:
            seconds = _run([sys.executable, "-m", "airflow", "dags", "test", dag_id, as_of.isoformat()],
                           env, logs / f"demo-{dag_id}.log")
            print(f"{dag_id:<30} success in {seconds:.0f} s")

        _step("summary")
        summary(env, stack.cfg.url("bedrock"), stack.cfg.state_dir / "demo" / "campaign-preview.html")
        print(f"\ndemo finished in {time.monotonic() - started:.0f} s; logs in {logs}")
        return 0
    except (DemoError, StackError, AssetError) as e:
        print(f"demo failed: {e}", file=sys.stderr)
        return 1
    finally:
        if not was_running:
            stack.down()


if __name__ == "__main__":
    sys.exit(main())
