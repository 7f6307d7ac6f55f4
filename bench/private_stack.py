"""Run one benchmark's measurements in a fresh process against a private local stack (free ports).

The child is ``python -m <module> <bedrock stand-in URL>`` with the stack's connections in its
environment; it prints its result as the last line of JSON. The stack is stopped whatever happens.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def run_child(module: str, env: dict[str, str], timeout_s: int = 1800) -> dict[str, Any]:
    from local import assets
    from local.stack import DEFAULT_PORTS, LocalStack, StackConfig, free_port

    with tempfile.TemporaryDirectory(prefix=f"bench-{module.rsplit('.', 1)[-1]}-") as tmp:
        folder = Path(tmp)
        stack = LocalStack(StackConfig(state_dir=folder / "stack", assets_dir=assets.DEFAULT_ASSETS_DIR,
                                       ports={name: free_port() for name in DEFAULT_PORTS}))
        child_env = {**os.environ, **stack.up(), "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'plugins'}",
                     "AIRFLOW_HOME": str(folder / "airflow"), "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING", **env}
        try:
            result = subprocess.run([sys.executable, "-m", module, stack.cfg.url("bedrock")], cwd=REPO_ROOT,
                                    env=child_env, capture_output=True, text=True, timeout=timeout_s)
        finally:
            stack.down()
    if result.returncode != 0:
        raise RuntimeError(f"{module} failed: {result.stderr.strip().splitlines()[-3:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
