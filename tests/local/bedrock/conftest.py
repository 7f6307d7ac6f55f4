"""Fixtures for the local Bedrock stand-in tests: servers in threads and an aws connection."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator

import pytest

# Airflow reads AIRFLOW_HOME at import; keep it out of the developer's home directory.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-bedrock-tests-"))

from local.bedrock.config import StandInConfig  # noqa: E402
from local.bedrock.server import RunningServer, serve_in_thread  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: starts real servers (uvicorn, moto)")


@pytest.fixture
def start_stand_in() -> Iterator[Callable[..., RunningServer]]:
    """Start the stand-in with the given knobs; stopped at the end of the test."""
    servers: list[RunningServer] = []

    def start(**knobs: object) -> RunningServer:
        knobs.setdefault("batch_step_seconds", 0.05)
        server = serve_in_thread(StandInConfig(**knobs))  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def use_aws_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Point AIRFLOW_CONN_AWS_DEFAULT at a stand-in, the way `make local-up` does."""

    def use(stand_in_url: str, s3_url: str | None = None, max_attempts: int = 1) -> None:
        extra: dict[str, object] = {
            "region_name": "us-east-1",
            "service_config": {
                service: {"endpoint_url": stand_in_url}
                for service in ("bedrock-runtime", "bedrock", "comprehend")
            },
        }
        if s3_url:
            extra["endpoint_url"] = s3_url
        # One attempt by default, so tests see every injected fault.
        extra["config_kwargs"] = {"retries": {"total_max_attempts": max_attempts, "mode": "standard"}}
        conn = {"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra}
        monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(conn))

    return use
