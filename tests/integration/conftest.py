"""Integration tests run DAGs through Airflow itself (``dag.test``), which needs a metadata DB.

AIRFLOW_HOME is a throw-away folder (tests/conftest.py); this migrates the SQLite DB in it once
per session, in a subprocess so this process's Airflow settings are not initialised half-way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def airflow_db() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for folder in (REPO_ROOT / "plugins", REPO_ROOT):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    # Asset names are read from the environment once, at first import: import them before any test
    # points GENAI_SNOWFLAKE_DATABASE at a database of its own, so every test sees the default names.
    import genai_personalization.assets  # noqa: F401
