"""Lineage: each task's inlets and outlets are what its code reads and writes, and the asset graph they
draw in the Airflow UI flows from the S3 landing prefixes to MARKETING.EMAILS.

What a task reads and writes is derived from the code, not copied by hand:

- the SQL steps a task runs are found in its operator's source (``ast``): the ``run_step`` / ``fetch`` /
  ``render_sql`` calls reachable from ``execute`` (following the project's own functions, classes and
  methods, and ``defer`` resume methods), or the task's ``step`` for SQL-step tasks;
- each step (include/sql/<dag>/<step>.sql) is rendered with the parameters production uses where they
  name tables (database, embedding set, recommendation sources) and parsed with sqlglot (snowflake):
  targets of INSERT / MERGE / UPDATE / DELETE / CREATE ... AS / CREATE VIEW / DROP are written, every
  other permanent table in a statement is read. Temporary session tables and stages are unqualified
  (or stage references) in the SQL, so only ``<database>.<schema>.<table>`` counts;
- S3: the hook calls reachable from ``execute`` (list / get are reads, load / put are writes) under
  the task's ``prefix`` or the campaign's ``batch_prefix``.

The rules the DAGs follow, checked here: outlets are exactly the tables and prefixes a task changes;
inlets exactly those it reads and does not change (a table a task reads to merge into it is an
outlet, not a loop). DDL changes no rows, so DDL-only tasks have no outlets: a dynamic table's
definition (create_dynamic_tables.sql) gives its sources as inlets of the DDL task, and the table
itself is an outlet of the freshness task that refreshes it and vouches that it is within its lag,
which is what customer_recommendations is scheduled on.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import logging
import re
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO_ROOT / "dags"
if str(REPO_ROOT / "plugins") not in sys.path:  # where Airflow puts it; some tests here run without a DagBag
    sys.path.insert(0, str(REPO_ROOT / "plugins"))
PROJECT_MODULES = "genai_personalization"

# Step files no DAG task runs, and why (each must exist, so the list cannot go stale silently).
NOT_RUN_BY_A_TASK = {
    "personalized_email_campaign/_macros": "macros imported by the other steps",
    "customer_recommendations/input_contract": "test and benchmark fixture (its header says: NOT run by the DAG)",
    "customer_recommendations/holdout": "offline evaluation, run by bench/recommendations.py",
    "customer_recommendations/evaluate": "offline evaluation, run by bench/recommendations.py",
}
# Assets no task reads: where a flow ends besides MARKETING.EMAILS, and why.
END_OF_FLOW = {
    "OPS.QUARANTINE": "rejected records with their reason, for people to fix at the source",
    "OPS.LOAD_LEDGER": "which landing file versions are loaded; read only by the loads that write it",
    "MARKETING.CAMPAIGN_RUNS": "one row per campaign run: what it selected and how, for people",
    "OPS.LLM_USAGE": "model calls, tokens and cost per task attempt; summarize reports them",
    "batch-inference/": "Bedrock batch job input and output, written and read back by generate_batch itself",
}
# Assets DAGs are scheduled on, and the only tasks that may emit them: an outlet elsewhere would
# change when the consumer runs.
SCHEDULE_PRODUCERS = {
    "RAG.CHUNKS": {("document_ingest", "sync_documents")},
    "ANALYTICS.CUSTOMER_PURCHASE_HISTORY": {("dynamic_table_freshness", "check_purchase_dynamic_tables")},
    "CURATED.REVIEW_SENTIMENT": {("product_reviews_sentiment", "analyse_sentiment")},
}
S3_READS = {"iter_file_metadata", "list_keys", "get_key", "get_object", "read_key", "check_for_key", "download_file"}
S3_WRITES = {"load_bytes", "load_string", "load_file", "load_file_obj", "put_object", "copy_object", "delete_objects"}
# the embedding sets' tables RAG.EMB_<MODEL>_<DIMS> are named at run time; RAG.CHUNK_EMBEDDINGS stands for them
EMBEDDING_SET_TABLE = re.compile(r"^RAG\.EMB_\w+$")


@pytest.fixture(scope="module")
def dag_bag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert bag.import_errors == {}
    return bag


@pytest.fixture(scope="module")
def tasks(dag_bag) -> list[tuple[str, Any]]:
    return [(dag_id, task) for dag_id, dag in sorted(dag_bag.dags.items()) for task in dag.tasks]


# --- names -------------------------------------------------------------------------------------------


@cache
def _settings() -> Any:
    from include.settings import Settings

    return Settings.from_env()


def _short(asset_name: str) -> str:
    """``GENAI.RAW.CUSTOMERS`` -> ``RAW.CUSTOMERS``; ``genai-landing/pos/`` -> ``pos/``."""
    for prefix in (f"{_settings().snowflake_database}.", f"{_settings().landing_bucket}/"):
        if asset_name.startswith(prefix):
            return asset_name[len(prefix):]
    return asset_name


def _names(assets: Any) -> set[str]:
    from airflow.sdk import Asset

    assert all(isinstance(a, Asset) for a in assets), f"not all Assets: {assets!r}"
    return {_short(a.name) for a in assets}


# --- SQL: what a step file reads and writes ----------------------------------------------------------


@dataclass
class Access:
    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    defines: dict[str, set[str]] = field(default_factory=dict)  # dynamic table -> the tables its query reads

    def update(self, other: Access) -> None:
        self.reads |= other.reads
        self.writes |= other.writes
        for table, sources in other.defines.items():
            self.defines.setdefault(table, set()).update(sources)


@cache
def _sql_environment() -> Any:
    import jinja2

    from genai_personalization.sql import SQL_ROOT

    class Lenient(jinja2.ChainableUndefined):
        """Parameters that carry values (ids, paths, counts), not table names: any placeholder will do."""

        def __str__(self) -> str:
            return "1"

        def __int__(self) -> int:
            return 1

        def __float__(self) -> float:
            return 1.0

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(SQL_ROOT)), undefined=Lenient, autoescape=False)


@cache
def _table_params() -> dict[str, object]:
    """The parameters that name tables, as production computes them."""
    from include.knowledge.embedding import EmbeddingConfig
    from include.recommendations import RecommendationConfig, compute_params

    settings, embedding = _settings(), EmbeddingConfig()
    return {
        **compute_params(settings.snowflake_database, date(2025, 1, 1), RecommendationConfig.from_env()),
        "database": settings.snowflake_database,
        "warehouse": settings.snowflake_warehouse,
        "target_lag": settings.dynamic_table_target_lag,
        "table_name": embedding.table_name,
        "set_name": embedding.set_name,
        "model_id": embedding.model_id,
        "dimensions": embedding.dimensions,
        "final_statuses": ("generated", "needs_review"),
        "reason_codes": ("POPULAR",),
    }


def _table_name(table: Any) -> str | None:
    """``SCHEMA.TABLE`` of a permanent table in the project's database, else None (session tables, CTEs, stages)."""
    if table.catalog.upper() != _settings().snowflake_database or table.db.upper() == "INFORMATION_SCHEMA":
        return None
    name = f"{table.db.upper()}.{table.name.upper()}"
    return "RAG.CHUNK_EMBEDDINGS" if EMBEDDING_SET_TABLE.match(name) else name


@cache
def _step_access(dag_sql: str, step: str) -> Access:
    import sqlglot
    from sqlglot import exp

    text = _sql_environment().get_template(f"{dag_sql}/{step}.sql").render(**_table_params())
    text = re.sub(r"%\(\w+\)s", "NULL", text)  # pyformat bind parameters
    access = Access()
    sqlglot_log = logging.getLogger("sqlglot")
    level = sqlglot_log.level
    sqlglot_log.setLevel(logging.ERROR)  # "falling back to parsing as a Command": handled below
    try:
        statements = sqlglot.parse(text, read="snowflake")
    finally:
        sqlglot_log.setLevel(level)
    for statement in statements:
        if statement is None or isinstance(statement, (exp.Alter, exp.Put, exp.Use, exp.Transaction, exp.Commit)):
            continue  # DDL on existing tables, file transfer, session and transaction control: no rows
        if isinstance(statement, exp.Command):
            assert not re.match(r"(?is)\s*(INSERT|MERGE|UPDATE|DELETE|SELECT|COPY|CREATE)\b", statement.sql()), (
                f"{dag_sql}/{step}.sql: sqlglot could not parse a statement: {statement.sql()[:80]}")
            continue  # e.g. ALTER DYNAMIC TABLE .. SET TARGET_LAG: configuration, no rows
        target = statement.this.find(exp.Table) if isinstance(statement.this, exp.Expression) else None
        is_write = isinstance(statement, (exp.Insert, exp.Merge, exp.Update, exp.Delete, exp.Copy, exp.Drop))
        if isinstance(statement, exp.Create):
            if statement.expression is None:
                continue  # CREATE TABLE / SCHEMA / STAGE without a query: DDL
            is_write = True
        others = {
            name for table in statement.find_all(exp.Table)
            if table is not target and (name := _table_name(table))
        }
        target_name = _table_name(target) if target is not None and is_write else None
        if isinstance(statement, exp.Create) and statement.find(exp.DynamicProperty) and target_name:
            access.defines.setdefault(target_name, set()).update(others)
            access.reads |= others
            continue
        access.reads |= others
        if target_name:
            access.writes.add(target_name)
    return access


@cache
def _dynamic_table_sources() -> dict[str, set[str]]:
    """Every dynamic table any step defines, with the tables its query reads."""
    from genai_personalization.sql import SQL_ROOT

    defined: dict[str, set[str]] = {}
    for path in sorted(SQL_ROOT.glob("*/*.sql")):
        for table, sources in _step_access(path.parent.name, path.stem).defines.items():
            defined.setdefault(table, set()).update(sources)
    return defined


# --- code: which steps and S3 calls a task's operator reaches ----------------------------------------


@dataclass
class Reach:
    steps: set[tuple[str, str]] = field(default_factory=set)
    s3_reads: bool = False
    s3_writes: bool = False
    functions: set[str] = field(default_factory=set)  # qualified names of the project functions reached


def _operator_class(task: Any) -> type:
    return getattr(task, "operator_class", None) or type(task)


def _attribute(task: Any, name: str) -> Any:
    """A constructor argument or class attribute of a task, mapped (partial) or not."""
    partial = getattr(task, "partial_kwargs", None)
    if partial is not None and name in partial:
        return partial[name]
    return getattr(task, name, getattr(_operator_class(task), name, None))


def _project_function(obj: Any) -> Any:
    obj = getattr(obj, "func", None) or getattr(obj, "fget", None) or getattr(obj, "__func__", None) or obj
    obj = inspect.unwrap(obj) if callable(obj) else obj  # Airflow wraps execute (its globals are Airflow's)
    if inspect.isfunction(obj) and obj.__module__.startswith(PROJECT_MODULES):
        return obj
    return None


def _functions_of_class(klass: type) -> Iterator[Any]:
    for value in vars(klass).values():
        if (function := _project_function(value)) is not None:
            yield function


def _local_imports(tree: ast.AST) -> dict[str, Any]:
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PROJECT_MODULES):
            module = importlib.import_module(node.module)
            for alias in node.names:
                found[alias.asname or alias.name] = getattr(module, alias.name)
    return found


def _literal(node: ast.AST, task: Any, scope: dict[str, Any]) -> str | None:
    """A string argument: a literal, a module constant (DAG_SQL) or a task attribute (self.step)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and isinstance(scope.get(node.id), str) and node.id.isupper():
        return scope[node.id]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        value = _attribute(task, node.attr)
        return value if isinstance(value, str) else None
    return None


def _reach(task: Any) -> Reach:
    """Walk the project code reachable from the operator's ``execute``: SQL steps, S3 calls, functions."""
    operator = _operator_class(task)
    dag_sql = _attribute(task, "dag_sql")
    reach = Reach()
    todo, seen = [_project_function(operator.execute)], set()
    while todo:
        function = todo.pop()
        if function in seen:
            continue
        seen.add(function)
        try:
            source = inspect.getsource(function)
        except OSError:  # generated code (a dataclass's __init__, __eq__, ...): no file, and no SQL or S3
            continue
        reach.functions.add(f"{function.__module__}.{function.__qualname__}")
        tree = ast.parse(textwrap.dedent(source))
        scope = {**function.__globals__, **_local_imports(tree)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
                # defer(method_name="...") names the method a deferred task resumes in
                if (method := _project_function(getattr(operator, node.value, None))) is not None:
                    todo.append(method)
            if not isinstance(node, ast.Call):
                continue
            callee = node.func
            name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", None)
            if name in ("run_step", "fetch") and len(node.args) >= 2 and dag_sql:
                if (step := _literal(node.args[1], task, scope)) is not None:
                    reach.steps.add((dag_sql, step))
            elif name == "render_sql" and len(node.args) >= 2:
                folder, step = _literal(node.args[0], task, scope), _literal(node.args[1], task, scope)
                if folder and step:
                    reach.steps.add((folder, step))
            reach.s3_reads |= name in S3_READS
            reach.s3_writes |= name in S3_WRITES
            if isinstance(callee, ast.Name):
                target = scope.get(callee.id)
                if inspect.isclass(target) and target.__module__.startswith(PROJECT_MODULES):
                    todo.extend(_functions_of_class(target))
                elif (found := _project_function(target)) is not None:
                    todo.append(found)
            elif isinstance(callee, ast.Attribute):
                # self.x(), op.x(), self.operator.x(): the operator's own methods
                if (method := _project_function(getattr(operator, callee.attr, None))) is not None:
                    todo.append(method)
    return reach


def _s3_prefix(task: Any, reach: Reach) -> str:
    prefix = _attribute(task, "prefix")
    if isinstance(prefix, str) and prefix:
        return prefix
    if "genai_personalization.operators.campaign_batch.batch_prefix" in reach.functions:
        from genai_personalization.operators.campaign_batch import batch_prefix

        return batch_prefix({"campaign_id": "c", "run_id": "r", "batch_no": 1}).split("/", 1)[0] + "/"
    raise AssertionError(f"{task.task_id}: calls S3 under a prefix this test cannot tell")


@dataclass
class Lineage:
    inlets: set[str]
    outlets: set[str]
    steps: set[tuple[str, str]]


def derived_lineage(task: Any) -> Lineage:
    """What a task reads and writes, from its code: (inlets, outlets) by the rules in the module docstring."""
    from genai_personalization.operators.freshness import DynamicTableFreshnessOperator

    reach = _reach(task)
    access = Access()
    for dag_sql, step in sorted(reach.steps):
        access.update(_step_access(dag_sql, step))
    if issubclass(_operator_class(task), DynamicTableFreshnessOperator):
        # it refreshes (ALTER DYNAMIC TABLE .. REFRESH) the tables it is given, which read their definitions' sources
        defined = _dynamic_table_sources()
        for table in _attribute(task, "tables"):
            name = table.upper().removeprefix(f"{_settings().snowflake_database}.")
            assert name in defined, f"{task.task_id}: {name} is not a dynamic table any step defines"
            access.writes.add(name)
            access.reads |= defined[name]
    changed = access.writes | set(access.defines)
    inlets, outlets = access.reads - changed, set(access.writes)
    if reach.s3_reads or reach.s3_writes:
        (outlets if reach.s3_writes else inlets).add(_s3_prefix(task, reach))
    return Lineage(inlets=inlets, outlets=outlets, steps=reach.steps)


# --- tests -------------------------------------------------------------------------------------------


def test_every_tasks_inlets_and_outlets_are_what_its_code_reads_and_writes(tasks) -> None:
    problems = []
    for dag_id, task in tasks:
        derived = derived_lineage(task)
        inlets, outlets = _names(task.inlets), _names(task.outlets)
        for kind, have, want in (("inlets", inlets, derived.inlets), ("outlets", outlets, derived.outlets)):
            if missing := sorted(want - have):
                problems.append(f"{dag_id}.{task.task_id}: {kind} lack {missing}")
            if extra := sorted(have - want):
                verb = "only read" if kind == "inlets" else "change"
                problems.append(f"{dag_id}.{task.task_id}: {kind} hold {extra}, which its code does not {verb}")
    assert problems == []


def test_the_derivation_sees_the_steps_each_task_runs(tasks) -> None:
    """Guards the code walk: every step file of a DAG is run by one of its tasks (or is listed as not run)."""
    from genai_personalization.sql import SQL_ROOT

    run = {step for _, task in tasks for step in derived_lineage(task).steps}
    assert ("personalized_email_campaign", "merge_emails") in run  # through EmailSink, from generate_on_demand
    assert ("retrieval", "search_many") in run  # through a function imported inside execute
    assert ("pos_transactions_ingest", "create_dynamic_tables") in run  # a SQL-step task's `step`
    dag_ids = {dag_id for dag_id, _ in tasks}
    files = {f"{p.parent.name}/{p.stem}" for p in SQL_ROOT.glob("*/*.sql") if p.parent.name in dag_ids}
    assert sorted(files - {f"{d}/{s}" for d, s in run} - set(NOT_RUN_BY_A_TASK)) == []
    assert sorted(set(NOT_RUN_BY_A_TASK) - files) == []


def test_the_sql_parse_finds_reads_writes_and_definitions() -> None:
    """Spot checks of the SQL reading itself, on steps whose tables are known from their headers."""
    merge = _step_access("pos_transactions_ingest", "merge_events")
    assert merge.writes == {"RAW.POS_TRANSACTIONS"} and merge.reads == {"RAW.POS_TRANSACTIONS"}
    compute = _step_access("customer_recommendations", "compute")
    assert compute.writes == set()  # session tables only
    assert compute.reads == {"CURATED.PURCHASE_LINES", "RAW.PRODUCTS", "CURATED.REVIEW_SENTIMENT", "RAW.CUSTOMERS"}
    assert _step_access("customer_master_ingest", "create_objects") == Access()  # DDL only
    assert _dynamic_table_sources() == {
        "CURATED.PURCHASE_LINES": {"RAW.POS_TRANSACTIONS"},
        "ANALYTICS.CUSTOMER_PURCHASE_HISTORY": {"CURATED.PURCHASE_LINES", "RAW.PRODUCTS"},
    }


def _graph(tasks) -> dict[str, set[str]]:
    """Asset -> task -> asset edges from every task's inlets and outlets (task nodes are ``task:<dag>.<task>``)."""
    edges: dict[str, set[str]] = {}
    for dag_id, task in tasks:
        node = f"task:{dag_id}.{task.task_id}"
        for asset in _names(task.inlets):
            edges.setdefault(asset, set()).add(node)
        edges.setdefault(node, set()).update(_names(task.outlets))
    return edges


def _reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_landing_prefix_flows_to_the_emails(tasks) -> None:
    edges = _graph(tasks)
    landing = sorted({a for _, task in tasks for a in _names(task.inlets) if a.endswith("/")})
    assert landing == ["catalog/", "customers/", "documents/", "pos/"]
    assert [p for p in landing if "MARKETING.EMAILS" not in _reachable(edges, p)] == []
    # and the reviews reach them through sentiment and recommendations
    assert "MARKETING.EMAILS" in _reachable(edges, "RAW.PRODUCT_REVIEWS")


def test_flows_end_at_the_emails_or_at_a_documented_end(tasks) -> None:
    from genai_personalization import assets

    edges = _graph(tasks)
    used = {node for node in (set(edges) | set().union(*edges.values())) if not node.startswith("task:")}
    # an end: no other asset is made from it
    ends = {a for a in used if all(n.startswith("task:") for n in _reachable(edges, a))}
    assert sorted(ends) == sorted({"MARKETING.EMAILS", *END_OF_FLOW})
    declared = {_short(v.name) for v in vars(assets).values() if type(v).__name__ == "Asset"}
    assert sorted(declared - used) == [], "assets no task reads or writes"


def _scheduling_assets(dag: Any) -> Iterator[str]:
    from airflow.sdk import Asset

    todo = [getattr(dag.timetable, "asset_condition", None)]
    while todo:
        condition = todo.pop()
        if isinstance(condition, Asset):
            yield _short(condition.name)
        elif condition is not None:
            todo.extend(getattr(condition, "objects", ()))


def test_only_the_intended_tasks_emit_the_assets_dags_are_scheduled_on(dag_bag, tasks) -> None:
    scheduled = {asset for dag in dag_bag.dags.values() for asset in _scheduling_assets(dag)}
    assert scheduled == set(SCHEDULE_PRODUCERS)
    producers = {
        asset: {(dag_id, task.task_id) for dag_id, task in tasks if asset in _names(task.outlets)}
        for asset in scheduled
    }
    assert producers == SCHEDULE_PRODUCERS
