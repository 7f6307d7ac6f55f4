"""Policies every DAG follows, so an on-call engineer finds the same things everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
# Importing these at the top of a DAG file costs seconds at every parse (DESIGN.md, measured).
HEAVY_MODULES = ("pandas", "boto3", "botocore", "tiktoken", "snowflake", "airflow.providers", "onnxruntime")


@pytest.fixture(scope="module")
def dag_bag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert bag.import_errors == {}
    return bag


def test_the_dags_folder_holds_dags(dag_bag) -> None:
    assert dag_bag.dags, "no DAG found in dags/"


def test_every_dag_has_tags_owner_retries_and_docs(dag_bag) -> None:
    problems = []
    for dag_id, dag in sorted(dag_bag.dags.items()):
        if not dag.tags:
            problems.append(f"{dag_id}: no tags")
        if not (dag.doc_md or "").strip():
            problems.append(f"{dag_id}: no doc_md")
        for task in dag.tasks:
            if not task.owner or task.owner == "airflow":
                problems.append(f"{dag_id}.{task.task_id}: owner is not set")
            if (task.retries or 0) < 2:
                problems.append(f"{dag_id}.{task.task_id}: retries={task.retries}, need >= 2")
    assert problems == []


def test_every_task_pages_on_call_when_it_fails_for_good(dag_bag) -> None:
    # default_args["on_failure_callback"] = OnCallNotifier() in every DAG (plugins/genai_personalization/oncall.py);
    # not on retry: a try that will be retried is no reason to page anyone
    from genai_personalization.oncall import OnCallNotifier

    problems = []
    for dag_id, dag in sorted(dag_bag.dags.items()):
        for task in dag.tasks:
            if not any(isinstance(cb, OnCallNotifier) for cb in task.on_failure_callback or []):
                problems.append(f"{dag_id}.{task.task_id}: no OnCallNotifier in on_failure_callback")
            if any(isinstance(cb, OnCallNotifier) for cb in task.on_retry_callback or []):
                problems.append(f"{dag_id}.{task.task_id}: OnCallNotifier on retry pages for every retried try")
    assert problems == []


def test_dag_files_import_nothing_heavy_at_top_level() -> None:
    import ast

    offenders = []
    for path in sorted(DAGS_FOLDER.glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(HEAVY_MODULES)]
    assert offenders == []
