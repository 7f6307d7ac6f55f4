"""DAG files import operators from plugins/genai_personalization at every parse: that must stay cheap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "boto3", "botocore", "tiktoken", "airflow.providers.amazon.aws.hooks",
         "airflow.providers.snowflake.hooks", "snowflake.connector")


def test_dag_files_and_their_operators_import_no_hooks_or_heavy_libraries(tmp_path: Path) -> None:
    # What the DAG processor pays at every parse: every DAG file, with the operators and assets it
    # imports. (An Asset with a provider URI scheme would pull in the providers' URI handlers.)
    code = (
        "import sys, runpy, pathlib\n"
        "import genai_personalization.operators.customer_master, genai_personalization.assets\n"
        f"for path in sorted(pathlib.Path({str(REPO_ROOT / 'dags')!r}).glob('*.py')): runpy.run_path(str(path))\n"
        f"print(sorted(m for m in sys.modules if m.startswith({HEAVY!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
        env={"PYTHONPATH": f"{REPO_ROOT / 'plugins'}:{REPO_ROOT}", "PATH": "/usr/bin:/bin",
             "AIRFLOW_HOME": str(tmp_path)},
    )
    assert result.stdout.strip() == "[]"


def test_assets_are_named_by_fully_qualified_table() -> None:
    from genai_personalization.assets import OPS_QUARANTINE, RAW_CUSTOMERS

    assert (RAW_CUSTOMERS.name, OPS_QUARANTINE.name) == ("GENAI.RAW.CUSTOMERS", "GENAI.OPS.QUARANTINE")


def test_sql_renders_with_strict_variables() -> None:
    import jinja2
    import pytest

    from genai_personalization.sql import render_sql

    sql = render_sql("customer_master_ingest", "merge_customers", database="GENAI")
    assert "MERGE INTO GENAI.RAW.CUSTOMERS" in sql
    with pytest.raises(jinja2.UndefinedError):
        render_sql("customer_master_ingest", "merge_customers")
