"""Run a project DAG end to end with ``dag.test()`` and read what it left: shared by the integration tests."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from local.stack import REPO_ROOT


def run_dag(dag_id: str, logical_date: datetime | None = None, *, expect_success: bool = True,
            run_conf: dict[str, Any] | None = None) -> tuple[Any, dict[str, str | None]]:
    """Parse dags/<dag_id>.py, run it once; returns (dag run, task id -> state)."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags" / f"{dag_id}.py"))
    assert bag.import_errors == {}
    dag = bag.get_dag(dag_id)
    for task in dag.tasks:
        task.retries = 0  # dag.test() would wait out each retry delay; a test wants the first failure
    run = dag.test(logical_date=logical_date, run_conf=run_conf)
    with create_session() as session:
        states = {ti.task_id: ti.state for ti in session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run.run_id)}
    if expect_success:
        assert run.state == DagRunState.SUCCESS, states
    return run, states


def xcom(dag_id: str, run_id: str, task_id: str) -> Any:
    """The return value a task pushed in one run."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        value = session.query(XComModel).filter_by(dag_id=dag_id, run_id=run_id, task_id=task_id,
                                                   key="return_value").one().value
    return json.loads(value) if isinstance(value, str) else value


def query(sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the stack's Snowflake through the stock hook."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    return [tuple(row) for row in SnowflakeHook(snowflake_conn_id="snowflake_default").get_records(sql, parameters) or []]


def bedrock_local(stack: Any, what: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET /_local/<what> of the stack's Bedrock stand-in (stats, config), or POST ``body`` to it."""
    import urllib.request

    request = urllib.request.Request(f"{stack.cfg.url('bedrock')}/_local/{what}", method="POST" if body else "GET",
                                     data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:  # noqa: S310 (local URL)
        return json.load(response)
