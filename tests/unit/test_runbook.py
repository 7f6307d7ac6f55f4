"""docs/runbook.md stays in step with the code it explains.

Everything here is read from the source with ``ast`` (no DAG is imported, so the checks take well under a second):
the DAG ids, their tasks, retries and catchup, the exception classes and the literal error messages of the
plugins, the pools, the settings named. A failure names the file, line or DAG that the runbook misses.
"""

from __future__ import annotations

import ast
import builtins
import re
from functools import cache
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = REPO / "docs" / "runbook.md"
DAGS = REPO / "dags"
PLUGINS = REPO / "plugins" / "genai_personalization"
SOURCES = (REPO / "plugins", REPO / "include")
# raised only where the code cannot get to (after defer(), after a loop that always returns)
UNREACHABLE = {"AssertionError"}
# message parts shorter than this (": ", "/") say nothing an on-call engineer could search for
MIN_KEY_CHARS = 10


@cache
def runbook() -> str:
    return RUNBOOK.read_text(encoding="utf-8")


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO))


def _dag_decorator(node: ast.FunctionDef) -> ast.Call | None:
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call):
            func = decorator.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name == "dag":
                return decorator
    return None


@cache
def dags() -> dict[str, dict[str, object]]:
    """dag_id -> {path, function, call, docstring} for every @dag function in dags/*.py."""
    found: dict[str, dict[str, object]] = {}
    for path in sorted(DAGS.glob("*.py")):
        module = ast.parse(path.read_text(encoding="utf-8"))
        for node in module.body:
            if isinstance(node, ast.FunctionDef) and (call := _dag_decorator(node)) is not None:
                dag_id = next((k.value.value for k in call.keywords
                               if k.arg == "dag_id" and isinstance(k.value, ast.Constant)), node.name)
                found[dag_id] = {"path": path, "function": node, "call": call,
                                 "docstring": ast.get_docstring(module) or ""}
    return found


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _default_arg(call: ast.Call, name: str) -> object:
    default_args = _keyword(call, "default_args")
    if isinstance(default_args, ast.Dict):
        for key, value in zip(default_args.keys, default_args.values):
            if isinstance(key, ast.Constant) and key.value == name and isinstance(value, ast.Constant):
                return value.value
    return None


def _task_ids(function: ast.FunctionDef) -> list[str]:
    return [k.value.value for node in ast.walk(function) if isinstance(node, ast.Call) for k in node.keywords
            if k.arg == "task_id" and isinstance(k.value, ast.Constant)]


def section(dag_id: str) -> str:
    """The runbook text from the '## <dag_id>' heading to the next '## ' heading."""
    match = re.search(rf"^## {re.escape(dag_id)}\s*$(.*?)(?=^## |\Z)", runbook(), re.MULTILINE | re.DOTALL)
    return match.group(1) if match else ""


def test_dags_are_found() -> None:
    assert dags(), f"no @dag function found in {_rel(DAGS)}: the checks below would pass vacuously"


def test_every_dag_has_a_section() -> None:
    missing = [f"{dag_id} ({_rel(info['path'])})" for dag_id, info in dags().items() if not section(dag_id).strip()]
    assert not missing, f"docs/runbook.md has no '## <dag_id>' section for: {', '.join(missing)}"


def test_every_task_is_named_in_its_dags_section() -> None:
    missing = [f"{dag_id}.{task_id}" for dag_id, info in dags().items()
               for task_id in _task_ids(info["function"]) if f"`{task_id}`" not in section(dag_id)]
    assert not missing, f"tasks not named (in backticks) in their DAG's runbook section: {', '.join(missing)}"


def test_every_dag_doc_points_to_its_runbook_section() -> None:
    wrong = []
    for dag_id, info in dags().items():
        lines = [line.strip() for line in str(info["docstring"]).splitlines() if line.strip()]
        expected = f"On failure: see docs/runbook.md#{dag_id}"
        if not lines or lines[-1] != expected:
            wrong.append(f"{_rel(info['path'])}: the doc_md should end with '{expected}'")
    assert not wrong, "; ".join(wrong)


def test_overview_retries_match_the_dags() -> None:
    wrong = []
    for dag_id, info in dags().items():
        retries = _default_arg(info["call"], "retries")
        row = re.search(rf"^\| {re.escape(dag_id)} \|[^|\n]*\|([^|\n]*)\|", runbook(), re.MULTILINE)
        if row is None:
            wrong.append(f"{dag_id}: no row in the 'At a glance' table")
        elif not row.group(1).strip().startswith(f"{retries},"):
            wrong.append(f"{dag_id}: the table says retries '{row.group(1).strip()}', "
                         f"{_rel(info['path'])} has retries={retries}")
    assert not wrong, "; ".join(wrong)


def test_every_dag_has_no_catchup_and_one_active_run_as_the_runbook_says() -> None:
    assert "Every DAG has `max_active_runs=1` and `catchup=False`." in runbook()
    wrong = []
    for dag_id, info in dags().items():
        catchup, runs = _keyword(info["call"], "catchup"), _keyword(info["call"], "max_active_runs")
        if not (isinstance(catchup, ast.Constant) and catchup.value is False):
            wrong.append(f"{dag_id}: catchup is not False")
        if not (isinstance(runs, ast.Constant) and runs.value == 1):
            wrong.append(f"{dag_id}: max_active_runs is not 1")
    assert not wrong, f"docs/runbook.md says every DAG has catchup=False and max_active_runs=1, but: {'; '.join(wrong)}"


def _exception_classes() -> dict[str, str]:
    """name -> file:line of every public class in plugins/ and include/ that derives from an exception."""
    classes: dict[str, tuple[list[str], str]] = {}
    for root in SOURCES:
        for path in sorted(root.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef):
                    bases = [ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases]
                    classes[node.name] = (bases, f"{_rel(path)}:{node.lineno}")

    def is_exception(name: str, seen: frozenset[str] = frozenset()) -> bool:
        builtin = getattr(builtins, name, None)
        if isinstance(builtin, type) and issubclass(builtin, BaseException):
            return True
        if name.startswith("Airflow") and name.endswith(("Exception", "Error")):  # airflow.sdk.exceptions
            return True
        if name in classes and name not in seen:
            return any(is_exception(base, seen | {name}) for base in classes[name][0])
        return False

    # private classes (a leading underscore) never leave their module, so no page can name them
    return {name: where for name, (_, where) in classes.items() if not name.startswith("_") and is_exception(name)}


def test_exception_classes_are_found() -> None:
    assert "ModelCallError" in _exception_classes(), "the exception scan found nothing: update the test"


def test_every_project_exception_class_is_in_the_runbook() -> None:
    missing = [f"{name} ({where})" for name, where in sorted(_exception_classes().items())
               if f"`{name}`" not in runbook()]
    assert not missing, f"exception classes not mentioned (in backticks) in docs/runbook.md: {', '.join(missing)}"


def _raised_messages() -> list[tuple[str, str, str]]:
    """(file:line, exception class, longest literal part of the message) of each raise in the plugins."""
    found = []
    for path in sorted(PLUGINS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args):
                continue
            cls = ast.unparse(node.exc.func).rsplit(".", 1)[-1]
            message = node.exc.args[0]
            if isinstance(message, ast.Constant) and isinstance(message.value, str):
                parts = [message.value]
            elif isinstance(message, ast.JoinedStr):
                parts = [v.value for v in message.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
            else:
                continue  # str(e) of an include/ error, or an error object: documented with its source
            key = max(parts, key=len, default="").strip(" \n:;,.()'\"")
            if cls not in UNREACHABLE and len(key) >= MIN_KEY_CHARS:
                found.append((f"{_rel(path)}:{node.lineno}", cls, key))
    return found


def test_raised_messages_are_found() -> None:
    assert len(_raised_messages()) > 10, "the raise scan found (almost) nothing: update the test"


def test_every_error_message_of_the_plugins_is_quoted_in_the_runbook() -> None:
    missing = [f"{where} {cls}('...{key}...')" for where, cls, key in _raised_messages() if key not in runbook()]
    assert not missing, "docs/runbook.md does not quote these error messages: " + "; ".join(missing)


def test_every_pool_is_explained_with_its_size() -> None:
    settings = yaml.safe_load((REPO / "airflow_settings.yaml").read_text(encoding="utf-8"))["airflow"]
    slots = {pool["pool_name"]: pool["pool_slot"] for pool in settings.get("pools") or []}
    used = {k.value.value for path in DAGS.glob("*.py")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.Call)
            for k in node.keywords if k.arg == "pool" and isinstance(k.value, ast.Constant)}
    problems = [f"pool {name!r} is used in dags/ but not defined in airflow_settings.yaml"
                for name in sorted(used - set(slots))]
    problems += [f"docs/runbook.md should say \"Pool `{name}` ({size} slots\" (airflow_settings.yaml)"
                 for name, size in sorted(slots.items()) if f"Pool `{name}` ({size} slots" not in runbook()]
    assert not problems, "; ".join(problems)


def test_every_setting_the_runbook_names_exists_in_the_code() -> None:
    code = "\n".join(path.read_text(encoding="utf-8") for root in (DAGS, *SOURCES) for path in root.rglob("*.py"))
    named = set(re.findall(r"\bGENAI_[A-Z0-9_]*[A-Z0-9]\b", runbook()))
    unknown = sorted(name for name in named if name not in code)
    assert not unknown, f"docs/runbook.md names settings no code reads: {', '.join(unknown)}"


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


def test_internal_links_resolve() -> None:
    headings = {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", runbook(), re.MULTILINE)}
    broken = sorted({a for a in re.findall(r"\]\(#([^)]+)\)", runbook()) if a not in headings})
    assert not broken, f"docs/runbook.md links to anchors no heading has: {', '.join('#' + a for a in broken)}"
