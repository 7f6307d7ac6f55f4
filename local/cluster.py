"""The production-shaped run: Airflow with CeleryExecutor on PostgreSQL and Redis, against the local stack.

    python -m local.cluster up       # reset its database and Redis db, start the stack and every component
    python -m local.cluster run      # seed the stack, trigger every pipeline through the REST API, wait on each
    python -m local.cluster status   # one line per component, the api-server's health
    python -m local.cluster down     # stop everything (Celery warm shutdown first); nothing is left running

What runs, each as its own process in its own process group, logs in ``.local/cluster/logs/``:
api-server, scheduler, dag-processor, triggerer and two Celery workers (``worker-1@<host>`` and
``worker-2@<host>``). The metadata DB and Celery's result backend are a PostgreSQL database of their
own (``genai_airflow_cluster``, dropped and created at ``up``), the broker a Redis db index of its
own (flushed at ``up``), the stand-ins a local stack of their own, so none of it touches
``make local-up``'s stack or the test suite's. Defaults, each overridable from the environment:
folder ``.local/cluster`` (LOCAL_CLUSTER_DIR), database ``genai_airflow_cluster``
(LOCAL_CLUSTER_DATABASE), Redis db 11 (LOCAL_CLUSTER_REDIS_DB), UI and REST API on
http://127.0.0.1:18380 (LOCAL_CLUSTER_API_PORT); stand-ins on 18543 / 18550 / 18560 and log servers
on 18393-18395. ``.local/cluster/env`` holds the exports to run the ``airflow`` CLI against it.

Each component gets the hostname it would have on its own machine (``worker-1``, ``scheduler``, ...;
``[core] hostname_callable`` = :func:`hostname`), so task instances say which worker ran them.
Settings kept short for a test cluster, not a production default: a task instance without a heartbeat
for ``LOCAL_CLUSTER_HEARTBEAT_TIMEOUT`` s (30) is failed by the scheduler, and retry delays are capped
at ``LOCAL_CLUSTER_MAX_RETRY_DELAY`` s (15) so a retry does not wait out the DAGs' minutes of backoff.

``run`` follows local/demo.py's PIPELINE_ORDER. Every DAG stays paused until its turn: a DAG
scheduled on Assets is then started only by the trigger, never by the events of the pipelines
before it (Airflow queues asset events only for unpaused consumers). At its turn a DAG is triggered
(a cron DAG at its next scheduled logical date, so unpausing it does not add a scheduled run for the
same slot), unpaused, waited on together with any other run that appeared meanwhile, and paused
again, so later pipelines run on a quiet cluster. Needs PostgreSQL (``LOCAL_CLUSTER_POSTGRES``,
default ``postgresql://postgres@127.0.0.1:5432``) and Redis (``LOCAL_CLUSTER_REDIS``, default
``redis://127.0.0.1:6379``) running.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from local.assets import AssetError
from local.stack import REPO_ROOT, LocalStack, StackConfig, StackError, free_port

AIRFLOW = str(Path(sys.executable).parent / "airflow")
WORKERS = ("worker-1", "worker-2")
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", *WORKERS)
DEFAULT_STACK_PORTS = {"snowflake": 18543, "s3": 18550, "bedrock": 18560}
DEFAULT_LOG_PORTS = {"worker-1": 18393, "worker-2": 18394, "triggerer": 18395}
START_TIMEOUT_S = 300.0
WORKER_STOP_GRACE_S = 60.0
STOP_GRACE_S = 30.0
TERMINAL = {"success", "failed"}


class ClusterError(RuntimeError):
    """Something went wrong; the message is one line that says what and where to look."""


def hostname() -> str:
    """``[core] hostname_callable`` of the cluster: the component's own name, as if it had its own machine."""
    return os.environ.get("LOCAL_CLUSTER_HOSTNAME") or socket.getfqdn()


def _kill_and_wait(processes: list[Any]) -> None:
    """SIGKILL each of ``processes`` (psutil.Process) that is still there, and reap them."""
    import psutil

    for process in processes:
        try:
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(processes, timeout=10)


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


@dataclass(frozen=True)
class ClusterConfig:
    base_dir: Path
    database: str = "genai_airflow_cluster"
    redis_db: int = 11
    api_port: int = 18380
    # each Celery worker serves its task logs, so does the triggerer: one port each
    log_ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_LOG_PORTS))
    stack_ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_STACK_PORTS))
    postgres: str = "postgresql://postgres@127.0.0.1:5432"
    redis: str = "redis://127.0.0.1:6379"
    worker_concurrency: int = 4
    heartbeat_timeout_s: int = 30
    max_retry_delay_s: int = 15

    @classmethod
    def from_env(cls) -> ClusterConfig:
        base = Path(os.environ.get("LOCAL_CLUSTER_DIR") or REPO_ROOT / ".local" / "cluster").resolve()
        return cls(
            base_dir=base,
            database=os.environ.get("LOCAL_CLUSTER_DATABASE") or "genai_airflow_cluster",
            redis_db=_env_int("LOCAL_CLUSTER_REDIS_DB", 11),
            api_port=_env_int("LOCAL_CLUSTER_API_PORT", 18380),
            postgres=(os.environ.get("LOCAL_CLUSTER_POSTGRES") or "postgresql://postgres@127.0.0.1:5432").rstrip("/"),
            redis=(os.environ.get("LOCAL_CLUSTER_REDIS") or "redis://127.0.0.1:6379").rstrip("/"),
            heartbeat_timeout_s=_env_int("LOCAL_CLUSTER_HEARTBEAT_TIMEOUT", 30),
            max_retry_delay_s=_env_int("LOCAL_CLUSTER_MAX_RETRY_DELAY", 15),
        )

    @classmethod
    def private(cls, base_dir: Path, database: str, redis_db: int) -> ClusterConfig:
        """A cluster on free ports, for tests and benchmarks (PostgreSQL and Redis from the environment)."""
        env = cls.from_env()
        return cls(
            base_dir=base_dir.resolve(), database=database, redis_db=redis_db, api_port=free_port(),
            log_ports={name: free_port() for name in (*WORKERS, "triggerer")},
            stack_ports={name: free_port() for name in DEFAULT_STACK_PORTS},
            postgres=env.postgres, redis=env.redis,
            heartbeat_timeout_s=env.heartbeat_timeout_s, max_retry_delay_s=env.max_retry_delay_s,
        )

    @property
    def airflow_home(self) -> Path:
        return self.base_dir / "airflow"

    @property
    def logs_dir(self) -> Path:
        return self.base_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.base_dir / "run"

    @property
    def database_url(self) -> str:
        return f"{self.postgres}/{self.database}"

    @property
    def broker_url(self) -> str:
        return f"{self.redis}/{self.redis_db}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def stack(self) -> StackConfig:
        from local import assets

        return StackConfig(state_dir=self.base_dir / "stack", assets_dir=assets.DEFAULT_ASSETS_DIR,
                           ports=dict(self.stack_ports))


@dataclass
class RunResult:
    dag_id: str
    run_id: str
    seconds: float
    runs: int  # runs of the DAG waited on: the triggered one and any other that appeared meanwhile


class Cluster:
    def __init__(self, cfg: ClusterConfig):
        self.cfg = cfg
        self.stack = LocalStack(cfg.stack())
        self._token: str | None = None

    # ---------------------------------------------------------------- environment

    def stack_env(self) -> dict[str, str]:
        """The stack's connections and paths (AIRFLOW_CONN_*, REQUESTS_CA_BUNDLE, ...), as written by ``up``."""
        path = self.cfg.base_dir / "stack-env.json"
        if not path.exists():
            raise ClusterError(f"the cluster is not up ({path} missing): run 'python -m local.cluster up'")
        return json.loads(path.read_text())

    def airflow_env(self) -> dict[str, str]:
        """Everything a cluster component (or an ``airflow`` CLI call against the cluster) needs."""
        stack_env = self.stack_env()
        keys = json.loads((self.cfg.base_dir / "secrets.json").read_text())
        # nothing from the caller's Airflow settings (a sourced .local/env, a test session's AIRFLOW_HOME)
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        return {
            **inherited,
            **stack_env,
            "AIRFLOW_HOME": str(self.cfg.airflow_home),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "local.cluster.hostname",
            "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.cfg.api_url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__MAX_TASK_RETRY_DELAY": str(self.cfg.max_retry_delay_s),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.cfg.database_url.replace("postgresql://",
                                                                                "postgresql+psycopg2://", 1),
            "AIRFLOW__CELERY__BROKER_URL": self.cfg.broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.cfg.database_url,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.cfg.worker_concurrency),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.cfg.api_port),
            "AIRFLOW__API__BASE_URL": self.cfg.api_url,
            "AIRFLOW__API__SECRET_KEY": keys["secret_key"],
            # the scheduler signs the tasks' tokens, the api-server checks them: one secret for both
            "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(self.cfg.heartbeat_timeout_s),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self.cfg.log_ports["triggerer"]),
        }

    def _component(self, name: str) -> tuple[list[str], dict[str, str]]:
        env = {**self.airflow_env(), "LOCAL_CLUSTER_HOSTNAME": name}
        if name in WORKERS:
            env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(self.cfg.log_ports[name])
            pid = self.cfg.run_dir / f"{name}.celery.pid"
            return [AIRFLOW, "celery", "worker", "--celery-hostname", f"{name}@%h",
                    "--concurrency", str(self.cfg.worker_concurrency), "--pid", str(pid)], env
        if name == "api-server":
            return [AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", str(self.cfg.api_port)], env
        return [AIRFLOW, name], env

    # ---------------------------------------------------------------- processes

    def _pid_file(self, name: str) -> Path:
        return self.cfg.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.cfg.logs_dir / f"{name}.log"

    def _recorded(self, name: str) -> tuple[int, float] | None:
        """(pid, start time) from the pid file: the start time guards against a reused pid."""
        try:
            pid_text, started = self._pid_file(name).read_text().split()
            return int(pid_text), float(started)
        except (OSError, ValueError):
            return None

    def pid(self, name: str) -> int | None:
        """The component's pid while it runs."""
        import psutil

        recorded = self._recorded(name)
        if recorded is None:
            return None
        try:
            process = psutil.Process(recorded[0])
            if abs(process.create_time() - recorded[1]) > 0.01 or process.status() == psutil.STATUS_ZOMBIE:
                return None
        except psutil.Error:
            return None
        return recorded[0]

    def processes(self, name: str) -> list[Any]:
        """The component's process and descendants (task processes lead groups of their own), and whatever
        is left in its process group (the group outlives its leader)."""
        import psutil

        recorded = self._recorded(name)
        if recorded is None:
            return []
        leader, started = recorded
        found = {}
        if self.pid(name) is not None:
            try:
                root = psutil.Process(leader)
                found[leader] = root
                found.update({child.pid: child for child in root.children(recursive=True)})
            except psutil.Error:
                pass
        for process in psutil.process_iter(["create_time"]):
            try:
                if os.getpgid(process.pid) == leader and (process.info["create_time"] or 0) >= started - 0.01:
                    found[process.pid] = process
            except OSError:
                continue
        return list(found.values())

    def _spawn(self, name: str) -> None:
        argv, env = self._component(name)
        self.log_file(name).parent.mkdir(parents=True, exist_ok=True)
        with self.log_file(name).open("ab") as log:
            process = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        import psutil

        self._pid_file(name).write_text(f"{process.pid} {psutil.Process(process.pid).create_time()}")

    def kill(self, name: str) -> int:
        """SIGKILL a component with everything it started, as when its machine dies; returns processes killed."""
        victims = self.processes(name)
        _kill_and_wait(victims)
        return len(victims)

    def _last_log_line(self, name: str) -> str:
        try:
            lines = [line for line in self.log_file(name).read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            lines = []
        return lines[-1].strip()[:300] if lines else "no output"

    # ---------------------------------------------------------------- up / down

    def _check_services(self) -> None:
        for what, url, default_port in (("PostgreSQL", self.cfg.postgres, 5432), ("Redis", self.cfg.redis, 6379)):
            parsed = urllib.parse.urlsplit(url)
            host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
            try:
                socket.create_connection((host, port), timeout=2).close()
            except OSError as e:
                env = "LOCAL_CLUSTER_POSTGRES" if what == "PostgreSQL" else "LOCAL_CLUSTER_REDIS"
                raise ClusterError(f"{what} at {host}:{port} is not reachable ({e.strerror or e}): "
                                   f"start it or set {env}") from e

    def _reset_backends(self) -> None:
        import psycopg2
        import redis

        try:
            connection = psycopg2.connect(f"{self.cfg.postgres}/postgres")
            connection.autocommit = True
            try:
                with connection.cursor() as cursor:
                    # its own database, never anything else on the server; the name quoted as an identifier
                    quoted = '"' + self.cfg.database.replace('"', '""') + '"'
                    cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
                    cursor.execute(f"CREATE DATABASE {quoted}")
            finally:
                connection.close()
        except psycopg2.Error as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise ClusterError(f"resetting database {self.cfg.database} on {self.cfg.postgres} failed: {first}") from e
        try:
            redis.Redis.from_url(self.cfg.broker_url).flushdb()
        except redis.RedisError as e:
            raise ClusterError(f"flushing Redis db {self.cfg.broker_url} failed: {e}") from e

    def up(self) -> None:
        """Fresh database, Redis db, stack and Airflow home, then every component; returns when all are healthy."""
        started = time.monotonic()
        self._check_services()
        self.down()
        shutil.rmtree(self.cfg.base_dir, ignore_errors=True)
        for folder in (self.cfg.airflow_home, self.cfg.logs_dir, self.cfg.run_dir):
            folder.mkdir(parents=True, exist_ok=True)
        try:
            self._reset_backends()
            stack_env = self.stack.up()
            (self.cfg.base_dir / "stack-env.json").write_text(json.dumps(stack_env))
            from cryptography.fernet import Fernet

            secrets_file = self.cfg.base_dir / "secrets.json"
            secrets_file.write_text(json.dumps({"fernet_key": Fernet.generate_key().decode(),
                                                "jwt_secret": secrets.token_urlsafe(32),
                                                "secret_key": secrets.token_urlsafe(32)}))
            secrets_file.chmod(0o600)
            self._write_env_file()
            # the metadata DB, pools and variables from airflow_settings.yaml: what `make airflow` does
            prepared = subprocess.run([sys.executable, "-m", "local.airflow_home", "prepare"], cwd=REPO_ROOT,
                                      env=self.airflow_env(), capture_output=True, text=True)
            if prepared.returncode != 0:
                last = (prepared.stderr.strip().splitlines() or prepared.stdout.strip().splitlines() or ["?"])[-1]
                raise ClusterError(f"preparing the metadata DB failed: {last}")
            for name in COMPONENTS:
                self._spawn(name)
            self._wait_healthy(started)
        except BaseException:
            self.down()  # nothing half-started is left behind
            raise

    def _wait_healthy(self, started: float) -> None:
        pending = "components"
        while time.monotonic() - started < START_TIMEOUT_S:
            for name in COMPONENTS:
                if self.pid(name) is None:
                    raise ClusterError(f"{name} exited at start: {self._last_log_line(name)} "
                                       f"(log: {self.log_file(name)})")
            pending = self._not_ready()
            if not pending:
                return
            time.sleep(1)
        raise ClusterError(f"cluster not ready after {START_TIMEOUT_S:.0f} s: {pending} (logs: {self.cfg.logs_dir})")

    def _not_ready(self) -> str:
        """What is not ready yet, or '' when the api-server, every component and both workers answer."""
        try:
            health = self._get("/api/v2/monitor/health", auth=False)
        except (OSError, ValueError):
            return "api-server not answering"
        sick = [name for name, part in health.items() if isinstance(part, dict) and part.get("status") != "healthy"]
        if sick:
            return "unhealthy: " + ", ".join(sorted(sick))
        answered = self.ping_workers()
        missing = [name for name in WORKERS if not any(host.startswith(f"{name}@") for host in answered)]
        if missing:
            return "not answering Celery ping: " + ", ".join(missing)
        return self._dags_not_parsed()

    def ping_workers(self) -> list[str]:
        """Celery hostnames of the workers that answer a ping through the broker."""
        from celery import Celery

        app = Celery(broker=self.cfg.broker_url)
        try:
            return [host for reply in app.control.ping(timeout=1.0) or [] for host in reply]
        finally:
            app.close()

    def _dags_not_parsed(self) -> str:
        """'' once the dag-processor has parsed every DAG file in dags/ (a DAG or an import error for each)."""
        from local.demo import PIPELINE_ORDER

        # the files Airflow's safe mode would parse: those that mention both "airflow" and "dag"
        files = {str(p) for p in (REPO_ROOT / "dags").glob("*.py")
                 if all(word in p.read_bytes().lower() for word in (b"airflow", b"dag"))}
        dags = self._get("/api/v2/dags?limit=1000")["dags"]
        errors = self._get("/api/v2/importErrors?limit=1000")["import_errors"]
        if errors:
            first = errors[0]
            last = (first["stack_trace"].strip().splitlines() or ["?"])[-1]
            raise ClusterError(f"DAG import error in {first['filename']}: {last}")
        unknown = sorted(d["dag_id"] for d in dags if d["dag_id"] not in PIPELINE_ORDER)
        if unknown:
            raise ClusterError(f"DAG(s) {unknown} are not in local/demo.py PIPELINE_ORDER: "
                               "add them in dependency order")
        missing = files - {d["fileloc"] for d in dags}
        return f"DAG files not parsed yet: {sorted(Path(f).name for f in missing)}" if missing else ""

    def down(self) -> None:
        """Celery warm shutdown (SIGTERM, running tasks finish), then the rest; SIGKILL after a grace period."""
        import psutil

        for group, grace in ((WORKERS, WORKER_STOP_GRACE_S),
                             (("scheduler", "triggerer", "dag-processor", "api-server"), STOP_GRACE_S)):
            victims = []
            for name in group:
                tree = self.processes(name)
                victims += tree
                pid = self.pid(name)
                if pid is not None:
                    try:
                        os.kill(pid, signal.SIGTERM)  # the main process: it stops its own children
                    except ProcessLookupError:
                        pass
            _, alive = psutil.wait_procs(victims, timeout=grace)
            _kill_and_wait(alive)
            for name in group:
                self._pid_file(name).unlink(missing_ok=True)
        self.stack.down()

    def status(self) -> dict[str, str]:
        out = {}
        for name in COMPONENTS:
            pid = self.pid(name)
            out[name] = f"running (pid {pid}, log {self.log_file(name)})" if pid else "stopped"
        if out["api-server"] != "stopped":
            try:
                health = self._get("/api/v2/monitor/health", auth=False)
                out["health"] = ", ".join(f"{k} {v.get('status')}" for k, v in health.items() if isinstance(v, dict))
            except (OSError, ValueError) as e:
                out["health"] = f"api-server not answering on {self.cfg.api_url}: {e}"
        for name, state in self.stack.status().items():
            out[f"stack {name}"] = state
        return out

    def _write_env_file(self) -> None:
        lines = ["# written by `python -m local.cluster up`: source it to run the airflow CLI against the cluster"]
        lines += [f"export {k}={shlex.quote(v)}" for k, v in self.airflow_env().items()
                  if k.startswith(("AIRFLOW", "GENAI_", "REQUESTS_CA_BUNDLE", "TIKTOKEN_CACHE_DIR", "PYTHONPATH"))]
        (self.cfg.base_dir / "env").write_text("\n".join(lines) + "\n")
        (self.cfg.base_dir / "env").chmod(0o600)

    # ---------------------------------------------------------------- REST API

    def token(self) -> str:
        """A JWT from the api-server's /auth/token (SimpleAuthManager with all admins: no password)."""
        if self._token is None:
            self._token = self._request("POST", "/auth/token", {"username": "admin", "password": "admin"},
                                        auth=False)["access_token"]
        return self._token

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None, *, auth: bool = True) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        request = urllib.request.Request(self.cfg.api_url + path, method=method, headers=headers,
                                         data=json.dumps(body).encode() if body is not None else None)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (local URL)
                return json.load(response)
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")[:300]
            raise ClusterError(f"{method} {path}: HTTP {e.code} {detail}") from e

    def _get(self, path: str, *, auth: bool = True) -> Any:
        return self._request("GET", path, auth=auth)

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the REST API (``path`` under /api/v2) with the token."""
        return self._request(method, "/api/v2" + path, body)

    def pipelines(self) -> list[str]:
        """The DAG ids the cluster knows, in local/demo.py PIPELINE_ORDER (checked against dags/ at start-up)."""
        from local.demo import PIPELINE_ORDER

        problem = self._dags_not_parsed()
        if problem:
            raise ClusterError(problem)
        known = {d["dag_id"] for d in self._get("/api/v2/dags?limit=1000")["dags"]}
        return [dag_id for dag_id in PIPELINE_ORDER if dag_id in known]

    def task_instances(self, dag_id: str = "~", run_id: str = "~") -> list[dict[str, Any]]:
        found, offset = [], 0
        while True:
            page = self.api("GET", f"/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='~')}/taskInstances"
                                   f"?limit=100&offset={offset}")
            found += page["task_instances"]
            offset += len(page["task_instances"])
            if not page["task_instances"] or offset >= page["total_entries"]:
                return found

    def task_log_path(self, ti: dict[str, Any]) -> Path:
        folder = (self.cfg.airflow_home / "logs" / f"dag_id={ti['dag_id']}" / f"run_id={ti['dag_run_id']}"
                  / f"task_id={ti['task_id']}")
        if ti.get("map_index", -1) >= 0:
            folder /= f"map_index={ti['map_index']}"
        return folder / f"attempt={max(ti.get('try_number') or 1, 1)}.log"

    def _failure(self, dag_id: str, run: dict[str, Any]) -> str:
        tis = self.task_instances(dag_id, run["dag_run_id"])
        bad = [t for t in tis if t["state"] in ("failed", "up_for_retry")] or \
              [t for t in tis if t["state"] not in ("success", "skipped")]
        if not bad:
            return f"{dag_id} run {run['dag_run_id']} {run['state']} with every task successful"
        ti = bad[0]
        index = f"[{ti['map_index']}]" if ti.get("map_index", -1) >= 0 else ""
        return (f"{dag_id} run {run['dag_run_id']}: task {ti['task_id']}{index} {ti['state']} "
                f"(try {ti['try_number']}, host {ti.get('hostname') or '-'}); log: {self.task_log_path(ti)}")

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.api("PATCH", f"/dags/{dag_id}", {"is_paused": paused})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, logical_date: str | None = None) -> str:
        """Create a run (left queued while the DAG is paused); returns its run id."""
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": logical_date, "conf": conf or {}})
        return run["dag_run_id"]

    def wait(self, dag_id: str, run_id: str, timeout_s: float = 900.0) -> int:
        """Wait until the run ends and no other run of the DAG is queued or running; raise with one line
        naming the DAG, task, state and log unless all of them succeeded. Returns the runs waited on."""
        deadline = time.monotonic() + timeout_s
        seen: dict[str, dict[str, Any]] = {}
        while True:
            runs = self.api("GET", f"/dags/{dag_id}/dagRuns?limit=100&order_by=-run_after")["dag_runs"]
            seen.update({r["dag_run_id"]: r for r in runs if r["dag_run_id"] == run_id or r["dag_run_id"] in seen
                         or r["state"] in ("queued", "running")})
            for run in seen.values():
                if run["state"] == "failed":
                    raise ClusterError(self._failure(dag_id, run))
            if run_id in seen and all(r["state"] in TERMINAL for r in seen.values()):
                return len(seen)
            if time.monotonic() > deadline:
                states = ", ".join(f"{r['dag_run_id']} {r['state']}" for r in seen.values()) or f"{run_id} not found"
                raise ClusterError(f"{dag_id}: not finished after {timeout_s:.0f} s ({states}); "
                                   f"scheduler log: {self.log_file('scheduler')}")
            time.sleep(1)

    def run_dag(self, dag_id: str, conf: dict[str, Any] | None = None, *, logical_date: str | None = None,
                timeout_s: float = 900.0) -> RunResult:
        """Trigger while paused, unpause, wait for it and any run that appeared meanwhile, pause again."""
        started = time.monotonic()
        run_id = self.trigger(dag_id, conf, logical_date)
        self.set_paused(dag_id, False)
        try:
            runs = self.wait(dag_id, run_id, timeout_s)
            self.set_paused(dag_id, True)
            # a run created between the last poll and the pause (a cron tick) would sit queued: let it finish
            active = self.api("GET", f"/dags/{dag_id}/dagRuns?state=queued&state=running")["dag_runs"]
            if active:
                self.set_paused(dag_id, False)
                for run in active:
                    self.wait(dag_id, run["dag_run_id"], timeout_s)
                runs += len(active)
        finally:
            self.set_paused(dag_id, True)  # after a failure too: nothing more starts until someone looks
        return RunResult(dag_id, run_id, time.monotonic() - started, runs)

    # ---------------------------------------------------------------- run

    def _next_logical_date(self, dag_id: str) -> str | None:
        return self.api("GET", f"/dags/{dag_id}").get("next_dagrun_logical_date")

    def seed(self, as_of: datetime) -> None:
        """The demo's synthetic data (plus its manifest under seed/, which no pipeline reads) into the stack."""
        from local.demo import seed_command

        log = self.cfg.logs_dir / "seed.log"
        with log.open("w") as out:
            done = subprocess.run([*seed_command(as_of), "--with-manifest"], cwd=REPO_ROOT, stdout=out,
                                  stderr=subprocess.STDOUT,
                                  env={**self.airflow_env(), "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING"})
        if done.returncode != 0:
            raise ClusterError(f"seeding the stack failed (log: {log})")
        (self.cfg.base_dir / "seed.json").write_text(json.dumps({"as_of": as_of.isoformat()}))

    def run(self, echo: bool = False) -> list[RunResult]:
        """Seed the stack, then every pipeline once, in PIPELINE_ORDER, through the REST API."""
        pipelines = self.pipelines()
        # pos_transactions_ingest reads the hour of its logical date and the hour before: the events are
        # seeded into the hour before the hour of the logical date it is then triggered with
        pos = "pos_transactions_ingest"
        pos_date = self._next_logical_date(pos) if pos in pipelines else None
        when = datetime.fromisoformat(pos_date.replace("Z", "+00:00")) if pos_date else datetime.now(timezone.utc)
        self.seed(when.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0))
        results = []
        for dag_id in pipelines:
            # A cron DAG runs at its next scheduled slot, read just before (unpausing then adds no run for
            # that slot, unless a cron tick passes in between: wait() also waits for that run). A DAG on
            # Assets or without a schedule gets a run without logical date.
            logical_date = pos_date if dag_id == pos else self._next_logical_date(dag_id)
            result = self.run_dag(dag_id, logical_date=logical_date)
            results.append(result)
            if echo:
                hosts: dict[str, int] = {}
                for ti in self.task_instances(dag_id, result.run_id):
                    hosts[ti.get("hostname") or "-"] = hosts.get(ti.get("hostname") or "-", 0) + 1
                where = ", ".join(f"{n} on {h}" for h, n in sorted(hosts.items()))
                print(f"{dag_id:<30} success in {result.seconds:.0f} s ({result.runs} run(s); tasks: {where})",
                      flush=True)
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.cluster", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status", "run"])
    args = parser.parse_args(argv)
    cluster = Cluster(ClusterConfig.from_env())
    try:
        if args.command == "up":
            started = time.monotonic()
            cluster.up()
            for name, state in cluster.status().items():
                print(f"{name:<16} {state}")
            print(f"cluster up in {time.monotonic() - started:.0f} s; UI and REST API on {cluster.cfg.api_url}; "
                  f"env: {cluster.cfg.base_dir / 'env'}")
        elif args.command == "run":
            started = time.monotonic()
            cluster.run(echo=True)
            print(f"every pipeline succeeded in {time.monotonic() - started:.0f} s")
        elif args.command == "down":
            cluster.down()
            print("cluster stopped")
        else:
            for name, state in cluster.status().items():
                print(f"{name:<16} {state}")
    except (ClusterError, StackError, AssetError) as e:
        print(f"cluster {args.command} failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
