"""Prepare the local Airflow home (metadata DB, pools, variables) and run Airflow against the stack.

    python -m local.airflow_home prepare      # idempotent: migrate the SQLite DB, load airflow_settings.yaml
    python -m local.airflow_home standalone   # prepare, then the UI on http://localhost:8080

Run with the variables of ``.local/env`` in the environment (the make targets do that).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = REPO_ROOT / "airflow_settings.yaml"
AIRFLOW = str(Path(sys.executable).parent / "airflow")
STOP_GRACE_S = 15


def _airflow(*args: str) -> None:
    done = subprocess.run([AIRFLOW, *args], capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"airflow {' '.join(args[:2])} failed: {last}")


def prepare() -> None:
    home = Path(os.environ.get("AIRFLOW_HOME", ""))
    if not home.name:
        raise SystemExit("AIRFLOW_HOME is not set: source .local/env first (run 'make local-up')")
    home.mkdir(parents=True, exist_ok=True)
    settings = yaml.safe_load(SETTINGS_FILE.read_text())["airflow"]
    # `db migrate` is idempotent, and the stamp is the settings file's content, so edited pools
    # are loaded again on the next run
    stamp = home / ".prepared"
    fingerprint = SETTINGS_FILE.read_text()
    if stamp.exists() and stamp.read_text() == fingerprint:
        return
    _airflow("db", "migrate")
    with tempfile.TemporaryDirectory() as tmp:
        if settings.get("pools"):
            pools = {
                p["pool_name"]: {"slots": p["pool_slot"], "description": p.get("pool_description", "")}
                for p in settings["pools"]
            }
            (Path(tmp) / "pools.json").write_text(json.dumps(pools))
            _airflow("pools", "import", str(Path(tmp) / "pools.json"))
        if settings.get("variables"):
            variables = {v["variable_name"]: v["variable_value"] for v in settings["variables"]}
            (Path(tmp) / "variables.json").write_text(json.dumps(variables))
            _airflow("variables", "import", str(Path(tmp) / "variables.json"))
    stamp.write_text(fingerprint)


def standalone() -> None:
    prepare()
    env = {
        **os.environ,
        # standalone starts each component as `airflow ...` from PATH
        "PATH": f"{Path(AIRFLOW).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        # a laptop UI: no login screen
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__PORT": os.environ.get("AIRFLOW__API__PORT", "8080"),
    }
    print("Airflow UI on http://localhost:8080 (Ctrl-C stops it; the local stack keeps running)", flush=True)
    # Supervised rather than exec'd: after a Ctrl-C, `airflow standalone` 3.3 stops its components
    # but then ignores further signals and never exits. We forward the Ctrl-C, give it a grace
    # period, then end its whole process group.
    process = subprocess.Popen([AIRFLOW, "standalone"], env=env, start_new_session=True)
    # Stop on Ctrl-C and on SIGTERM alike. Set explicitly: a process started in the background of a
    # non-interactive shell inherits SIGINT as ignored, and Python keeps an inherited SIG_IGN.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        process.wait()
    except KeyboardInterrupt:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        print("Airflow stopped", flush=True)


if __name__ == "__main__":
    commands = {"prepare": prepare, "standalone": standalone}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        raise SystemExit(f"usage: python -m local.airflow_home {{{','.join(commands)}}}")
    commands[sys.argv[1]]()
