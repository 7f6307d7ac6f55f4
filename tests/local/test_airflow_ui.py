"""`make airflow`: the UI on the local stack, with the project's pools, stopped cleanly by Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from local.stack import REPO_ROOT, free_port

pytestmark = pytest.mark.integration


def _get(url: str) -> Any:  # noqa: ANN401
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (local URL)
        return json.load(response)


def test_standalone_serves_the_project_and_stops_on_ctrl_c(local_stack: Any, tmp_path: Path) -> None:
    api_port = free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__API__PORT": str(api_port),
        # standalone's log servers must not collide with a developer's `make airflow`
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "PYTHONPATH": str(REPO_ROOT),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "local.airflow_home", "standalone"], cwd=REPO_ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{api_port}/api/v2"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                dags = _get(f"{base}/dags")
                if dags["dags"]:
                    break
            except OSError:
                pass
            assert process.poll() is None, "airflow standalone exited during start-up"
            assert time.monotonic() < deadline, "the Airflow UI did not come up"
            time.sleep(1)
        assert "customer_master_ingest" in {d["dag_id"] for d in dags["dags"]}
        pools = {p["name"]: p["slots"] for p in _get(f"{base}/pools")["pools"]}
        assert pools["bedrock"] == 4 and pools["snowflake"] == 8  # from airflow_settings.yaml
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal does
        try:
            returncode = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            # do not leak a running Airflow into the rest of the session: standalone leads its own
            # process group, the supervisor's only child
            children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
            for child in children:
                os.killpg(int(child), signal.SIGKILL)
            process.kill()
            raise
    assert returncode == 0
    with pytest.raises(OSError):
        _get(f"{base}/version")
