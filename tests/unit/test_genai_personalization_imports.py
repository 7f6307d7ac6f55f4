"""DAG files import operators from plugins/genai_personalization at every parse: that must stay cheap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "boto3", "botocore", "airflow.providers.amazon.aws.hooks", "airflow.providers.snowflake.hooks",
         "snowflake.connector")


def test_operator_module_imports_no_hooks_or_heavy_libraries(tmp_path: Path) -> None:
    # (genai_personalization.assets is not checked: building any Asset with a URI makes Airflow load
    # every provider's URI handlers, the amazon one included, ~0.2 s once per process; unavoidable.)
    code = (
        "import sys\n"
        "import genai_personalization.operators.customer_master\n"
        f"print(sorted(m for m in sys.modules if m.startswith({HEAVY!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
        env={"PYTHONPATH": f"{REPO_ROOT / 'plugins'}:{REPO_ROOT}", "PATH": "/usr/bin:/bin",
             "AIRFLOW_HOME": str(tmp_path)},
    )
    assert result.stdout.strip() == "[]"


def test_asset_uris_follow_the_snowflake_provider_form() -> None:
    from genai_personalization.assets import RAW_CUSTOMERS

    assert RAW_CUSTOMERS.uri == "snowflake://local/GENAI/RAW/CUSTOMERS"
    assert RAW_CUSTOMERS.name == "GENAI.RAW.CUSTOMERS"


def test_sql_renders_with_strict_variables() -> None:
    import jinja2
    import pytest

    from genai_personalization.sql import render_sql

    sql = render_sql("customer_master_ingest", "merge_customers", database="GENAI")
    assert "MERGE INTO GENAI.RAW.CUSTOMERS" in sql
    with pytest.raises(jinja2.UndefinedError):
        render_sql("customer_master_ingest", "merge_customers")
