"""`make demo` end to end: stack up, seed, every pipeline, summary, stack down."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from local.demo import demo_questions
from local.seed.documents import SOURCE_DIR, document_key
from local.stack import DEFAULT_PORTS, REPO_ROOT, LocalStack, StackConfig, free_port

pytestmark = pytest.mark.integration


def test_demo_runs_every_pipeline_and_stops_the_stack(tmp_path: Path) -> None:
    ports = {f"LOCAL_{name.upper()}_PORT": str(free_port()) for name in DEFAULT_PORTS}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_HOME"))},
        "LOCAL_STACK_DIR": str(tmp_path / "stack"),
        **ports,
    }
    done = subprocess.run([sys.executable, "-m", "local.demo"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1:]
    out = done.stdout
    for dag_id in ("customer_master_ingest", "pos_transactions_ingest", "dynamic_table_freshness"):
        assert f"{dag_id:<30} success" in out
    # the generated customers and the one seeded hour of events load in full...
    assert "warehouse RAW.CUSTOMERS: 300 rows" in out
    assert "warehouse RAW.POS_TRANSACTIONS: 600 rows" in out
    # ...the dynamic tables are initialised from them...
    gold = re.search(r"warehouse ANALYTICS.CUSTOMER_PURCHASE_HISTORY: (\d+) rows", out)
    assert gold and int(gold.group(1)) > 0
    # ...and every kind of injected bad record is quarantined with its reason
    for reason in ("invalid email", "unknown language tag", "unknown country code", "consent not true/false",
                   "missing customer_id", "wrong column count", "invalid JSON", "quantity <= 0", "negative price",
                   "unknown currency", "event_id seen with different content"):
        assert re.search(rf"^\s+\d+  {re.escape(reason)}$", out, re.MULTILINE), reason
    # company knowledge: every sample document chunked and embedded, and questions answered from them
    for dag_id in ("document_ingest", "embedding_refresh"):
        assert f"{dag_id:<30} success" in out
    assert re.search(r"warehouse RAG.DOCUMENTS: 13 rows", out)
    answers = re.findall(r"^knowledge: .+ -> (documents/\S+) \(score", out, re.MULTILINE)
    assert answers == [document_key(SOURCE_DIR / q["document"]) for q in demo_questions()]
    # products, reviews and recommendations
    for dag_id in ("product_reviews_sentiment", "customer_recommendations", "personalized_email_campaign"):
        assert f"{dag_id:<30} success" in out
    assert re.search(r"warehouse ANALYTICS.RECOMMENDATIONS: [1-9]\d* rows", out)
    # the campaign: every email written, and a preview a person can open
    campaign = re.search(r"^campaign (\S+): (.+); preview: (\S+)$", out, re.MULTILINE)
    assert campaign, "no campaign line"
    preview = Path(campaign.group(3))
    assert preview == tmp_path / "stack" / "demo" / "campaign-preview.html" and preview.is_file()
    written = sum(int(n) for n, _ in re.findall(r"(\d+) (\w+)", campaign.group(2)))
    assert written > 0 and preview.read_text().count('<div class="card">') == written
    # no customer data in what the demo prints
    assert "@example" not in out
    stack = LocalStack(StackConfig(state_dir=tmp_path / "stack", assets_dir=tmp_path,
                                   ports={name: int(ports[f"LOCAL_{name.upper()}_PORT"]) for name in DEFAULT_PORTS}))
    assert set(stack.status().values()) == {"stopped"}
