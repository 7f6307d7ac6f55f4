"""DAG-folder parse time, against the same DAGs importing the Snowflake and S3 hooks at top level.

Each sample is a fresh interpreter that imports ``airflow.sdk`` first (every DAG file pays that
once per parsing process anyway) and then times importing every DAG file, as the DAG processor
does. The "top-level hooks" variant is each DAG file with two lines prepended, which is what a
DAG file looks like when it builds hooks or imports operators eagerly.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
HEAVY_PREAMBLE = (
    "from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook  # noqa: F401\n"
    "from airflow.providers.amazon.aws.hooks.s3 import S3Hook  # noqa: F401\n"
)

_PROBE = r"""
import importlib.util, json, sys, time
import airflow.sdk  # paid once per parsing process, as in the DAG processor
folder = sys.argv[1]
paths = sorted(p for p in __import__("pathlib").Path(folder).glob("*.py") if not p.name.startswith("_"))
start = time.perf_counter()
for i, path in enumerate(paths):
    spec = importlib.util.spec_from_file_location(f"bench_dag_{i}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
print(json.dumps({"seconds": time.perf_counter() - start, "files": len(paths)}))
"""


def with_top_level_hooks(source: str) -> str:
    """The same DAG file importing the hooks at module level, right after any __future__ import."""
    import ast

    futures = [n for n in ast.parse(source).body if isinstance(n, ast.ImportFrom) and n.module == "__future__"]
    cut = futures[-1].end_lineno if futures else 0
    lines = source.splitlines(keepends=True)
    return "".join(lines[:cut]) + HEAVY_PREAMBLE + "".join(lines[cut:])


def _sample(folder: Path, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _PROBE, str(folder)], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"parse probe failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(samples: int = 7) -> dict[str, object]:
    dags = REPO_ROOT / "dags"
    files = sorted(p for p in dags.glob("*.py") if not p.name.startswith("_"))
    if not files:
        return {"error": "no DAG files in dags/"}
    with tempfile.TemporaryDirectory() as tmp:
        heavy, home = Path(tmp) / "dags", Path(tmp) / "home"
        heavy.mkdir()
        for path in files:
            (heavy / path.name).write_text(with_top_level_hooks(path.read_text()))
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'plugins'}",
        }
        _sample(dags, env)  # warm the OS file cache and write airflow.cfg before timing
        # interleave the variants so a noisy neighbour hits both alike
        ours, theirs = [], []
        for _ in range(samples):
            ours.append(_sample(dags, env)["seconds"])
            theirs.append(_sample(heavy, env)["seconds"])
    median_ours, median_theirs = statistics.median(ours), statistics.median(theirs)
    return {
        "dag_files": len(files),
        "samples": samples,
        "median_s": round(median_ours, 4),
        "median_top_level_hooks_s": round(median_theirs, 4),
        "ratio": round(median_ours / median_theirs, 3),
        "target_ratio_below": 0.25,
    }
