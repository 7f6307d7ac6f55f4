"""Astro's DAG integrity test: every DAG file imports, with no connection or variable configured.

Kept in .astro/ where the Astro CLI runs it on `astro dev pytest` and before `astro deploy`; our
own policy checks (tags, owner, retries, docs) are in tests/dags/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DAGS_FOLDER = PROJECT_ROOT / "dags"


def _dag_files() -> list[Path]:
    return sorted(p for p in DAGS_FOLDER.glob("*.py") if not p.name.startswith("_"))


@pytest.fixture
def no_connections_or_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing must not need them: the DAG processor has none of a task's runtime context."""
    for name in [n for n in os.environ if n.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))]:
        monkeypatch.delenv(name)


@pytest.fixture
def project_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the image provides (PYTHONPATH, the plugins folder on sys.path), also when run alone on a laptop."""
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "plugins"))
    monkeypatch.syspath_prepend(str(PROJECT_ROOT))


@pytest.mark.parametrize("dag_file", _dag_files(), ids=lambda p: p.name)
def test_dag_file_imports_without_errors(
    dag_file: Path, no_connections_or_variables: None, project_importable: None
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dag_file))
    assert bag.import_errors == {}, next(iter(bag.import_errors.values()), "")
    assert bag.dags, f"{dag_file.name} defines no DAG"
