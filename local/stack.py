"""Start, stop and describe the local stack: stand-ins for Snowflake, S3 and Bedrock/Comprehend.

    python -m local.stack up       # start in the background (idempotent), write .local/env
    python -m local.stack down     # stop (idempotent)
    python -m local.stack status   # one line per service

Each stand-in is its own process in its own session, so it outlives the command that started
it and can be stopped as a group. The pipelines reach them only through Airflow connections,
written to ``.local/env`` as ``AIRFLOW_CONN_*`` exports: pointing the project at real Snowflake
and AWS means changing those connections, nothing else.

Ports come from LOCAL_SNOWFLAKE_PORT, LOCAL_S3_PORT and LOCAL_BEDROCK_PORT (defaults below); the
Bedrock knobs (LOCAL_BEDROCK_*) are passed through to the Bedrock stand-in from the environment.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from local import assets

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORTS = {"snowflake": 18443, "s3": 18500, "bedrock": 18600}
START_TIMEOUT_S = 60.0
LANDING_BUCKET = "genai-landing"
SNOWFLAKE_DATABASE = "GENAI"


class StackError(RuntimeError):
    """Something the user must fix; the message is one line that says what to run."""


@dataclass(frozen=True)
class StackConfig:
    state_dir: Path
    assets_dir: Path
    ports: dict[str, int]
    host: str = "127.0.0.1"

    @classmethod
    def from_env(cls, state_dir: Path | None = None) -> StackConfig:
        state = Path(state_dir or os.environ.get("LOCAL_STACK_DIR") or REPO_ROOT / ".local").resolve()
        ports = {name: int(os.environ.get(f"LOCAL_{name.upper()}_PORT", port)) for name, port in DEFAULT_PORTS.items()}
        # assets are large and immutable: share them between stacks (tests run their own stack)
        assets_dir = Path(os.environ.get("LOCAL_ASSETS_DIR") or assets.DEFAULT_ASSETS_DIR).resolve()
        # a container publishes the stand-ins on every interface; a laptop keeps them on loopback
        host = os.environ.get("LOCAL_STACK_HOST", "127.0.0.1")
        return cls(state_dir=state, assets_dir=assets_dir, ports=ports, host=host)

    @property
    def certs_dir(self) -> Path:
        return self.state_dir / "certs"

    @property
    def ca_bundle(self) -> Path:
        return self.certs_dir / "ca-bundle.pem"

    @property
    def env_file(self) -> Path:
        return self.state_dir / "env"

    @property
    def airflow_home(self) -> Path:
        return self.state_dir / "airflow"

    def url(self, service: str) -> str:
        return f"http://{self.host}:{self.ports[service]}"


@dataclass
class Service:
    name: str
    command: Callable[[StackConfig, dict[str, Path]], list[str]]
    ready: Callable[[StackConfig], bool]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (for private stacks in tests and benchmarks)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    """True while the process runs; a zombie (exited, not yet reaped by its parent) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        # field 3 of /proc/<pid>/stat is the state; the name before it may hold spaces, not ')'
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc: trust kill(0)


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def _http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310 (local URL)
            return response.status < 500
    except urllib.error.HTTPError as e:
        return e.code < 500
    except OSError:
        return False


def _snowflake_ready(cfg: StackConfig) -> bool:
    # a TLS handshake that verifies against our bundle proves the cert the clients will see
    context = ssl.create_default_context(cafile=str(cfg.ca_bundle))
    try:
        with socket.create_connection((cfg.host, cfg.ports["snowflake"]), timeout=1) as raw:
            with context.wrap_socket(raw, server_hostname="localhost"):
                return True
    except OSError:
        return False


SERVICES = [
    Service(
        "snowflake",
        lambda cfg, _a: [
            sys.executable, "-m", "local.snowflake.server", "--host", cfg.host,
            "--port", str(cfg.ports["snowflake"]),
            "--certfile", str(cfg.certs_dir / "snowflake.pem"), "--keyfile", str(cfg.certs_dir / "snowflake-key.pem"),
        ],
        _snowflake_ready,
    ),
    Service(
        "s3",
        lambda cfg, _a: [sys.executable, "-m", "moto.server", "-H", cfg.host, "-p", str(cfg.ports["s3"])],
        lambda cfg: _http_ok(cfg.url("s3") + "/moto-api/"),
    ),
    Service(
        "bedrock",
        lambda cfg, a: [
            sys.executable, "-m", "local.bedrock.server", "--host", cfg.host, "--port", str(cfg.ports["bedrock"]),
            "--s3-endpoint", cfg.url("s3"), "--tokenizer", str(a["embedding_tokenizer"]),
        ],
        lambda cfg: _http_ok(cfg.url("bedrock") + "/_local/health"),
    ),
]


def connections(cfg: StackConfig) -> dict[str, str]:
    """The Airflow connections that point the project at this stack, as AIRFLOW_CONN_* values."""
    bedrock = cfg.url("bedrock")
    snowflake = {
        "conn_type": "snowflake",
        "login": "local",
        "password": "local",
        "schema": "PUBLIC",
        "extra": {
            "account": "local",
            "database": SNOWFLAKE_DATABASE,
            "warehouse": "LOCAL_WH",
            "role": "SYSADMIN",
            "host": "localhost",
            "port": cfg.ports["snowflake"],
            # the stand-in's certificate is self-signed: no OCSP responder to ask
            "insecure_mode": True,
        },
    }
    aws = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {
            "region_name": "us-east-1",
            "endpoint_url": cfg.url("s3"),
            "service_config": {name: {"endpoint_url": bedrock} for name in ("bedrock-runtime", "bedrock", "comprehend")},
        },
    }
    return {"AIRFLOW_CONN_SNOWFLAKE_DEFAULT": json.dumps(snowflake), "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(aws)}


def environment(cfg: StackConfig, asset_paths: dict[str, Path]) -> dict[str, str]:
    """Every variable `airflow dags test` needs to run the project against this stack."""
    return {
        "AIRFLOW_HOME": str(cfg.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": str(REPO_ROOT),
        **connections(cfg),
        "REQUESTS_CA_BUNDLE": str(cfg.ca_bundle),
        "TIKTOKEN_CACHE_DIR": str(asset_paths["tiktoken_cache_dir"]),
        # botocore would otherwise probe the EC2 metadata service for credentials and region
        "AWS_EC2_METADATA_DISABLED": "true",
        "GENAI_LANDING_BUCKET": LANDING_BUCKET,
        "GENAI_SNOWFLAKE_DATABASE": SNOWFLAKE_DATABASE,
    }


class LocalStack:
    def __init__(self, cfg: StackConfig):
        self.cfg = cfg

    def _pid_file(self, name: str) -> Path:
        return self.cfg.state_dir / "run" / f"{name}.pid"

    def _log_file(self, name: str) -> Path:
        return self.cfg.state_dir / "logs" / f"{name}.log"

    def _pid(self, name: str) -> int | None:
        try:
            pid = int(self._pid_file(name).read_text())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def status(self) -> dict[str, str]:
        out = {}
        for service in SERVICES:
            pid = self._pid(service.name)
            port = self.cfg.ports[service.name]
            if pid and service.ready(self.cfg):
                out[service.name] = f"running (pid {pid}, port {port})"
            elif pid:
                out[service.name] = f"starting or unhealthy (pid {pid}, port {port}, log {self._log_file(service.name)})"
            else:
                out[service.name] = "stopped"
        return out

    def up(self) -> dict[str, str]:
        """Start whatever is not running; return the environment for clients. Safe to call twice."""
        started_at = time.monotonic()
        asset_paths = assets.ensure_all(self.cfg.assets_dir)
        self._ensure_certs()
        to_wait = []
        for service in SERVICES:
            if self._pid(service.name):
                continue
            port = self.cfg.ports[service.name]
            if _port_open(self.cfg.host, port):
                raise StackError(
                    f"local stack: port {port} ({service.name}) is taken by another program; "
                    f"stop it or set LOCAL_{service.name.upper()}_PORT to a free port"
                )
            to_wait.append(self._spawn(service, asset_paths))
        for service, process in to_wait:
            self._wait_ready(service, process, started_at)
        env = environment(self.cfg, asset_paths)
        self._write_env_file(env)
        log.info("local stack up in %.1f s", time.monotonic() - started_at)
        return env

    def down(self) -> None:
        """Stop every service this stack started. Safe to call when nothing runs."""
        for service in reversed(SERVICES):
            pid = self._pid(service.name)
            if pid:
                self._stop(pid)
            self._pid_file(service.name).unlink(missing_ok=True)

    def _ensure_certs(self) -> None:
        from local.snowflake.tls import make_self_signed_cert

        cert, key = self.cfg.certs_dir / "snowflake.pem", self.cfg.certs_dir / "snowflake-key.pem"
        if not (cert.exists() and key.exists() and self.cfg.ca_bundle.exists()):
            self.cfg.certs_dir.mkdir(parents=True, exist_ok=True)
            make_self_signed_cert(cert, key, self.cfg.ca_bundle)

    def _spawn(self, service: Service, asset_paths: dict[str, Path]) -> tuple[Service, subprocess.Popen[bytes]]:
        log_path = self._log_file(service.name)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._pid_file(service.name).parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        with log_path.open("ab") as log_fh:
            process = subprocess.Popen(
                service.command(self.cfg, asset_paths),
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives `make local-up`; stopped as a group
            )
        self._pid_file(service.name).write_text(str(process.pid))
        return service, process

    def _wait_ready(self, service: Service, process: subprocess.Popen[bytes], started_at: float) -> None:
        while time.monotonic() - started_at < START_TIMEOUT_S:
            if process.poll() is not None:
                self._pid_file(service.name).unlink(missing_ok=True)
                raise StackError(f"local stack: {service.name} exited at start: {self._last_log_line(service.name)}")
            if service.ready(self.cfg):
                return
            time.sleep(0.1)
        raise StackError(
            f"local stack: {service.name} not ready after {START_TIMEOUT_S:.0f} s; see {self._log_file(service.name)}"
        )

    def _last_log_line(self, name: str) -> str:
        lines = [line for line in self._log_file(name).read_text(errors="replace").splitlines() if line.strip()]
        return lines[-1].strip() if lines else f"no output (see {self._log_file(name)})"

    @staticmethod
    def _stop(pid: int, timeout_s: float = 10.0) -> None:
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            # reap it if it is our child (tests start the stack in-process)
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            if not _alive(pid):
                return
            time.sleep(0.05)
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _write_env_file(self, env: dict[str, str]) -> None:
        lines = ["# written by `make local-up`; source it to run airflow against the local stack"]
        lines += [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
        self.cfg.env_file.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.stack", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    stack = LocalStack(StackConfig.from_env())
    try:
        if args.command == "up":
            stack.up()
            for name, state in stack.status().items():
                print(f"{name:<10} {state}")
            print(f"env: {stack.cfg.env_file}  (source it, or use the make targets)")
        elif args.command == "down":
            stack.down()
            print("local stack stopped")
        else:
            for name, state in stack.status().items():
                print(f"{name:<10} {state}")
    except (StackError, assets.AssetError) as e:
        print(str(e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
