"""Shared test set-up.

Airflow reads AIRFLOW_HOME when it is first imported, so it is pointed at a throw-away folder here,
before any test module imports it. Integration tests ask for ``local_stack``: a private copy of the
local stack on free ports, started once per session, so tests never touch a stack a developer
has running with ``make local-up``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

_airflow_home = tempfile.mkdtemp(prefix="airflow-home-")
os.environ["AIRFLOW_HOME"] = _airflow_home
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO_ROOT / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO_ROOT / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
# A developer's shell may have sourced .local/env: tests must not reach that stack by accident.
for _name in [n for n in os.environ if n.startswith("AIRFLOW_CONN_")]:
    del os.environ[_name]


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The whole local stack (Snowflake, S3, Bedrock stand-ins) with its connections in os.environ."""
    from local.assets import DEFAULT_ASSETS_DIR
    from local.stack import DEFAULT_PORTS, LocalStack, StackConfig, free_port

    cfg = StackConfig(
        state_dir=tmp_path_factory.mktemp("local-stack"),
        assets_dir=DEFAULT_ASSETS_DIR,
        ports={name: free_port() for name in DEFAULT_PORTS},
    )
    stack = LocalStack(cfg)
    env = stack.up()
    # connections, CA bundle and tiktoken cache; AIRFLOW_HOME and the folders stay the test session's
    keep = {"AIRFLOW_HOME", "AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__PLUGINS_FOLDER", "PYTHONPATH"}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update({name: value for name, value in env.items() if name not in keep})
    try:
        yield stack
    finally:
        stack.down()
        for name, value in saved.items():
            if name in keep:
                continue
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
