"""The CLI: writes to a directory or, through S3Hook, to a (moto) bucket."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from local.seed.__main__ import main
from local.seed.generate import MANIFEST_KEY, SeedConfig, generate

ARGS = ["--customers", "120", "--products", "60", "--hours", "2", "--events-per-hour", "40",
        "--seed", "11", "--as-of", "2026-11-22T10:00:00Z"]


def expected_files() -> dict[str, bytes]:
    config = SeedConfig(customers=120, products=60, hours=2, events_per_hour=40, seed=11,
                        as_of=datetime(2026, 11, 22, 10, tzinfo=timezone.utc))
    return generate(config).files


def test_out_dir_gets_the_generated_files_and_a_summary_without_customer_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([*ARGS, "--out-dir", str(tmp_path)]) == 0
    written = {p.relative_to(tmp_path).as_posix(): p.read_bytes()
               for p in tmp_path.rglob("*") if p.is_file()}
    assert written == expected_files()  # the manifest is not written by default
    summary = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in summary] == ["customers", "catalog", "pos", "documents"]
    customers = written["customers/customers.csv"].decode()
    assert "@example" not in "\n".join(summary)
    assert not any(row.split(",")[1] in line for row in customers.splitlines()[1:]
                   for line in summary if len(row.split(",")[1]) > 3)


def test_with_manifest_writes_it_under_seed(tmp_path: Path) -> None:
    main([*ARGS, "--out-dir", str(tmp_path), "--with-manifest"])
    manifest = json.loads((tmp_path / MANIFEST_KEY).read_text())
    assert manifest["counts"]["good_events"] == 80
    assert manifest["config"]["as_of"] == "2026-11-22T10:00:00+00:00"


def test_rejects_a_naive_as_of(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--out-dir", "/nonexistent", "--as-of", "2026-11-22T10:00:00"])
    assert "--as-of" in capsys.readouterr().err


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({
        "conn_type": "aws", "login": "testing", "password": "testing",
        "extra": {"region_name": "us-east-1", "endpoint_url": endpoint},
    }))
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.mark.integration
def test_upload_round_trip_through_s3hook(moto_endpoint: str) -> None:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    # Twice: the second run finds the bucket and overwrites every key with the same bytes.
    for _ in range(2):
        assert main([*ARGS, "--bucket", "genai-landing", "--aws-conn-id", "aws_default",
                     "--with-manifest"]) == 0
    hook = S3Hook(aws_conn_id="aws_default")
    expected = expected_files()
    keys = set(hook.list_keys(bucket_name="genai-landing"))
    assert keys == set(expected) | {MANIFEST_KEY}
    client = hook.get_conn()
    for key, data in expected.items():
        assert client.get_object(Bucket="genai-landing", Key=key)["Body"].read() == data, key
