"""The deployment files agree with the code and with each other: docker-compose.yaml, Dockerfile(s),
airflow_settings.yaml, .env.example and docker-compose.local-stack.env.

No Docker and no network: the files are parsed, and the parts that Airflow or the providers interpret
(connections, pools) are handed to the installed Airflow and provider hooks. `make compose-config` runs
`docker-compose config` on the same files (CI runs it; docker-compose is not needed by `make test`).
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yaml"
LOCAL_STACK_ENV = ROOT / "docker-compose.local-stack.env"
ENV_EXAMPLE = ROOT / ".env.example"
SETTINGS = ROOT / "airflow_settings.yaml"

# Astro Runtime release -> the Airflow it ships (https://www.astronomer.io/docs/runtime/runtime-release-notes).
# Add the new release here when requirements-dev.txt moves to another Airflow.
ASTRO_RUNTIME_AIRFLOW = {"3.3-6": "3.3.1", "3.3-7": "3.3.1", "3.3-8": "3.3.2"}

AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
                    "airflow-triggerer")  # fmt: skip
CONTAINER_STATE = "/opt/airflow/local-stack"  # where the Airflow containers mount the local-stack-state volume


# ----------------------------------------------------------------------------------------------------- helpers


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _service_env(service: str) -> dict[str, str]:
    env = _compose()["services"][service]["environment"]
    return {str(k): str(v) for k, v in env.items()}


def _pinned_airflow() -> str:
    pins = re.findall(r"^apache-airflow==(\S+)$", (ROOT / "requirements-dev.txt").read_text(), re.MULTILINE)
    assert len(pins) == 1, "requirements-dev.txt must pin apache-airflow==<version> exactly once"
    return pins[0]


def _project_python() -> str:
    requires = re.search(r'^requires-python\s*=\s*">=(\d+\.\d+),<', (ROOT / "pyproject.toml").read_text(), re.M)
    assert requires, "pyproject.toml: requires-python must read '>=X.Y,<...'"
    return requires.group(1)


def _env_file(path: Path, commented: bool = False) -> dict[str, str]:
    """NAME=value lines as docker compose and the Astro CLI read them: a single-quoted value is taken literally.

    With ``commented``, also the ``# NAME=value`` lines that document optional variables.
    """
    values = {}
    prefix = r"(?:#\s*)?" if commented else ""
    for line in path.read_text().splitlines():
        match = re.match(rf"^{prefix}([A-Z_][A-Z0-9_]*)=(.*)$", line.strip())
        if not match:
            continue
        value = match.group(2)
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        values[match.group(1)] = value
    return values


def _string_constants(folders: tuple[str, ...]) -> Iterator[tuple[Path, ast.AST]]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                yield path, node


def _genai_settings_read_by_code() -> set[str]:
    """Every GENAI_* name the code spells out as a whole string (env.get("GENAI_X"), ENV tables, ...)."""
    name = re.compile(r"^GENAI_[A-Z0-9_]*[A-Z0-9]$")
    return {
        node.value
        for _path, node in _string_constants(("dags", "plugins", "include"))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and name.match(node.value)
    }


def _pools_used() -> dict[str, list[str]]:
    """pool="x" keyword arguments and {"pool": "x"} entries (default_args) in dags/ and plugins/."""
    used: dict[str, list[str]] = {}
    for path, node in _string_constants(("dags", "plugins")):
        values = []
        if isinstance(node, ast.keyword) and node.arg == "pool":
            values = [node.value]
        elif isinstance(node, ast.Dict):
            values = [v for k, v in zip(node.keys, node.values)
                      if isinstance(k, ast.Constant) and k.value == "pool"]  # fmt: skip
        for value in values:
            assert isinstance(value, ast.Constant) and isinstance(value.value, str), (
                f"{path.relative_to(ROOT)}:{value.lineno}: pool must be a literal name, so this test can check it"
            )
            used.setdefault(value.value, []).append(f"{path.relative_to(ROOT)}:{value.lineno}")
    return used


def _settings() -> dict[str, Any]:
    return yaml.safe_load(SETTINGS.read_text())["airflow"]


def _stack_connections(host: str) -> dict[str, dict[str, Any]]:
    """local/stack.py's connections for the stand-ins reached at ``host`` (the source of truth)."""
    from local.stack import DEFAULT_PORTS, StackConfig, connections

    cfg = StackConfig(state_dir=Path("/unused"), assets_dir=Path("/unused"), ports=dict(DEFAULT_PORTS), host=host)
    conns = {name: json.loads(value) for name, value in connections(cfg).items()}
    # the Snowflake stand-in is reached by name, which its certificate carries; on a laptop that is localhost
    conns["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"]["extra"]["host"] = host
    return conns


# ----------------------------------------------------------------------------------------------- docker-compose


def test_compose_has_the_official_celery_shape() -> None:
    compose = _compose()
    services = compose["services"]
    for name in ("postgres", "redis", *AIRFLOW_SERVICES, "airflow-init"):
        assert name in services, f"docker-compose.yaml: service {name} is missing"
    env = _service_env("airflow-worker")
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "@redis:" in env["AIRFLOW__CELERY__BROKER_URL"]
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql") and "@postgres/" in (
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    )
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert services["airflow-worker"]["command"] == "celery worker"
    for name in ("postgres", "redis", *AIRFLOW_SERVICES):
        assert "healthcheck" in services[name], f"docker-compose.yaml: {name} has no healthcheck"
    for name in AIRFLOW_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == depends["redis"]["condition"] == "service_healthy", name
        # one image and one configuration for every component (the JWT secret above all) comes from the anchor
        assert _service_env(name)["AIRFLOW__API_AUTH__JWT_SECRET"] == env["AIRFLOW__API_AUTH__JWT_SECRET"], name
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"
    assert services["airflow-init"]["environment"]["_AIRFLOW_DB_MIGRATE"] == "true"
    assert services["local-stack"]["profiles"] == ["local-stack"]


def test_compose_image_is_the_pinned_airflow_on_the_project_python() -> None:
    airflow, python = _pinned_airflow(), _project_python()
    expected = f"apache/airflow:{airflow}-python{python}"
    build = _compose()["x-airflow-common"]["build"]
    assert build["args"]["AIRFLOW_BASE_IMAGE"] == expected, (
        f"docker-compose.yaml builds on {build['args']['AIRFLOW_BASE_IMAGE']}, the pins say {expected}"
    )
    dockerfile = (ROOT / build["dockerfile"]).read_text()
    assert re.search(rf"^ARG AIRFLOW_BASE_IMAGE={re.escape(expected)}$", dockerfile, re.M), (
        f"{build['dockerfile']}: ARG AIRFLOW_BASE_IMAGE default must be {expected}"
    )
    assert "-r /opt/airflow/requirements.txt" in dockerfile and '"apache-airflow==${AIRFLOW_VERSION}"' in dockerfile
    assert f":{airflow}-python{python}" in _compose()["x-airflow-common"]["image"]


def _mounts(volumes: list[str]) -> dict[str, str]:
    """Container path -> source of compose's short volume syntax (source:target[:ro])."""
    parsed = [re.fullmatch(r"(.+):(/[^:]+)(?::r[ow])?", v) for v in volumes]
    assert all(parsed), f"docker-compose.yaml: a volume is not source:/target[:ro]: {volumes}"
    return {m.group(2): m.group(1) for m in parsed if m}


def test_compose_mounts_the_project_where_pythonpath_finds_it() -> None:
    common = _compose()["x-airflow-common"]
    mounts = _mounts(common["volumes"])
    for folder in ("dags", "plugins", "include"):
        assert mounts[f"/opt/airflow/{folder}"] == f"${{AIRFLOW_PROJ_DIR:-.}}/{folder}", folder
    assert common["environment"]["PYTHONPATH"].split(":") == ["/opt/airflow", "/opt/airflow/plugins"]
    assert mounts[CONTAINER_STATE] == "local-stack-state"


def test_compose_passes_connections_and_settings_through_and_holds_no_secret() -> None:
    env = _compose()["x-airflow-common"]["environment"]
    documented = set(_env_file(ENV_EXAMPLE, commented=True)) | set(_env_file(LOCAL_STACK_ENV))
    for name in sorted(n for n in documented if n.startswith(("AIRFLOW_CONN_", "GENAI_"))):
        assert env.get(name) == f"${{{name}:-}}", f"docker-compose.yaml must pass {name} as ${{{name}:-}}"
    text = COMPOSE.read_text()
    for secret in ("PRIVATE KEY", "aws_secret_access_key", "AKIA", "hooks.slack.com"):
        assert secret not in text, f"docker-compose.yaml holds what looks like a secret ({secret})"


def test_compose_init_creates_every_pool_of_airflow_settings(tmp_path: Path) -> None:
    """Run the init's own settings-to-JSON step on airflow_settings.yaml and check what `pools import` gets."""
    init = _compose()["services"]["airflow-init"]
    assert "./airflow_settings.yaml:/opt/airflow/airflow_settings.yaml:ro" in [
        v.replace("${AIRFLOW_PROJ_DIR:-.}", ".") for v in init["volumes"]
    ]
    script = init["command"][1].replace("$$", "$")
    snippet = re.search(r"python -c '(.*?)' \|\| exit 1", script, re.S)
    assert snippet, "airflow-init: the python -c '...' step that reads airflow_settings.yaml is missing"
    assert "airflow pools import /tmp/pools.json" in script
    # /tmp/ first: the checkout itself may live under /tmp (CI's clean clones do)
    code = snippet.group(1).replace("/tmp/", f"{tmp_path}/")
    code = code.replace("/opt/airflow/airflow_settings.yaml", str(SETTINGS))
    exec(compile(code, "airflow-init", "exec"), {})  # noqa: S102 (the compose file's own code)
    pools = json.loads((tmp_path / "pools.json").read_text())
    expected = {p["pool_name"]: p["pool_slot"] for p in _settings()["pools"]}
    assert {name: pool["slots"] for name, pool in pools.items()} == expected


def test_local_stack_profile_points_airflow_at_the_stand_ins() -> None:
    from local.stack import DEFAULT_PORTS

    env = _env_file(LOCAL_STACK_ENV)
    stack = _stack_connections("local-stack")
    for name, expected in stack.items():
        assert json.loads(env[name]) == expected, f"docker-compose.local-stack.env: {name} differs from local/stack.py"
    service = _compose()["services"]["local-stack"]
    assert sorted(int(p.split(":")[1]) for p in service["ports"]) == sorted(DEFAULT_PORTS.values())
    state = service["environment"]["LOCAL_STACK_DIR"]
    assert f"local-stack-state:{state}" in service["volumes"]
    assert service["environment"]["LOCAL_ASSETS_DIR"] == f"{state}/assets"
    # the files the Airflow containers read are the ones the stack writes (StackConfig: certs/, assets/tiktoken)
    assert env["CONTAINER_CA_BUNDLE"] == f"{CONTAINER_STATE}/certs/ca-bundle.pem"
    assert env["CONTAINER_TIKTOKEN_CACHE_DIR"] == f"{CONTAINER_STATE}/assets/tiktoken"
    assert env["COMPOSE_PROFILES"] == "local-stack"


def test_local_stand_in_certificate_names_the_container_hosts(tmp_path: Path) -> None:
    from cryptography import x509

    from local.snowflake.tls import make_self_signed_cert

    make_self_signed_cert(tmp_path / "c.pem", tmp_path / "k.pem", tmp_path / "bundle.pem")
    cert = x509.load_pem_x509_certificate((tmp_path / "c.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert {"localhost", "local-stack", "host.docker.internal"} <= set(names)


# --------------------------------------------------------------------------------------------------- Astro


def test_astro_runtime_ships_the_pinned_airflow() -> None:
    airflow = _pinned_airflow()
    match = re.search(r"^FROM astrocrpublic\.azurecr\.io/runtime:(\d+\.\d+-\d+)(?:-python-(\d+\.\d+))?\s*$",
                      (ROOT / "Dockerfile").read_text(), re.M)  # fmt: skip
    assert match, "Dockerfile: FROM astrocrpublic.azurecr.io/runtime:<X.Y-N>[-python-<A.B>] not found"
    runtime = match.group(1)
    assert runtime in ASTRO_RUNTIME_AIRFLOW, (
        f"Dockerfile: Astro Runtime {runtime} is not in ASTRO_RUNTIME_AIRFLOW; look up the Airflow it ships"
    )
    assert ASTRO_RUNTIME_AIRFLOW[runtime] == airflow, (
        f"Dockerfile: Astro Runtime {runtime} ships Airflow {ASTRO_RUNTIME_AIRFLOW[runtime]}, "
        f"requirements-dev.txt pins {airflow}: use the Runtime that ships {airflow}"
    )
    assert runtime.split("-")[0] == ".".join(airflow.split(".")[:2])


def test_image_builds_leave_out_secrets_and_local_state() -> None:
    """Astro copies the whole build context into the image: .env (secrets) and the venv must stay out."""
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    for entry in (".env", ".venv", ".local", ".git"):
        assert entry in ignored, f".dockerignore must list {entry}"


def test_astro_config_names_the_project() -> None:
    config = yaml.safe_load((ROOT / ".astro" / "config.yaml").read_text())
    assert config["project"]["name"] == "genai-personalization-pipelines"


def test_every_pool_the_code_uses_is_in_airflow_settings() -> None:
    used = _pools_used()
    assert "bedrock" in used, "no task uses the bedrock pool any more: update this test and airflow_settings.yaml"
    declared = {p["pool_name"]: p for p in _settings()["pools"]}
    for pool, where in used.items():
        assert pool in declared, f"pool {pool!r} ({', '.join(where)}) is not in airflow_settings.yaml"
    for pool in ("bedrock", "snowflake"):
        assert isinstance(declared[pool]["pool_slot"], int) and declared[pool]["pool_slot"] >= 1, pool


def test_airflow_settings_holds_only_what_astro_can_load() -> None:
    """Astro runs `airflow ... '<value>'` per entry: a single quote would break the command."""

    def strings(value: Any) -> Iterator[str]:  # noqa: ANN401
        if isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)
        elif value is not None:
            yield str(value)

    for text in strings(_settings()):
        assert "'" not in text, f"airflow_settings.yaml: a value holds a single quote: {text[:60]}"
    assert _settings()["variables"] == [], "the code reads no Airflow Variables (settings are GENAI_* variables)"


def test_airflow_settings_connections_are_the_local_stack_seen_from_astro() -> None:
    from airflow.models.connection import Connection

    stack = _stack_connections("host.docker.internal")
    by_id = {c["conn_id"]: c for c in _settings()["connections"]}
    for env_name, expected in stack.items():
        entry = by_id[env_name.removeprefix("AIRFLOW_CONN_").lower()]
        # Astro passes a string extra through as it is, but keeps only the string values of a mapping
        assert isinstance(entry["conn_extra"], str), f"{entry['conn_id']}: conn_extra must be a JSON string"
        conn = Connection(conn_id=entry["conn_id"], conn_type=entry["conn_type"], login=entry.get("conn_login"),
                          password=entry.get("conn_password"), schema=entry.get("conn_schema"),
                          extra=entry["conn_extra"])  # fmt: skip
        assert conn.conn_type == expected["conn_type"]
        assert (conn.login, conn.password, conn.schema) == (
            expected.get("login"), expected.get("password"), expected.get("schema")
        )
        assert conn.extra_dejson == expected["extra"], f"airflow_settings.yaml: {entry['conn_id']} differs"


# ---------------------------------------------------------------------------------------------- .env.example


def test_env_example_connections_are_ones_airflow_accepts() -> None:
    from airflow.models.connection import Connection

    conns = {k: v for k, v in _env_file(ENV_EXAMPLE, commented=True).items() if k.startswith("AIRFLOW_CONN_")}
    assert {"AIRFLOW_CONN_SNOWFLAKE_DEFAULT", "AIRFLOW_CONN_AWS_DEFAULT"} <= set(_env_file(ENV_EXAMPLE))
    for name, value in conns.items():
        conn_id = name.removeprefix("AIRFLOW_CONN_").lower()
        try:
            conn = Connection.from_json(value, conn_id=conn_id)
        except ValueError as error:
            pytest.fail(f".env.example: {name} is not a connection Airflow accepts: {error}")
        assert conn.conn_type, name


def _private_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()  # fmt: skip


def test_env_example_snowflake_is_key_pair_auth_as_the_hook_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    example = json.loads(_env_file(ENV_EXAMPLE)["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"])
    assert "password" not in example, "key-pair auth: no password (it would be the key's passphrase)"
    assert "BEGIN PRIVATE KEY" in example["extra"].get("private_key_content", ""), (
        ".env.example: the Snowflake connection needs extra.private_key_content (a PKCS#8 PEM) for key-pair auth"
    )
    # the example with a real key in its place: the installed hook must turn it into key-pair parameters
    pem = _private_key_pem()
    monkeypatch.setenv("AIRFLOW_CONN_SNOWFLAKE_DEFAULT",
                       json.dumps({**example, "extra": {**example["extra"], "private_key_content": pem}}))  # fmt: skip
    params = SnowflakeHook(snowflake_conn_id="snowflake_default")._get_conn_params()
    assert isinstance(params["private_key"], bytes) and "password" not in params
    extra = example["extra"]
    assert (params["user"], params["account"], params["warehouse"], params["database"], params["role"]) == (
        example["login"], extra["account"], extra["warehouse"], extra["database"], extra["role"]
    )


def test_env_example_aws_assumes_a_role_without_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    value = _env_file(ENV_EXAMPLE)["AIRFLOW_CONN_AWS_DEFAULT"]
    example = json.loads(value)
    assert not {"login", "password"} & set(example), "no access keys in .env.example"
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", value)
    config = AwsBaseHook(aws_conn_id="aws_default", client_type="sts").conn_config
    assert config.region_name == example["extra"]["region_name"]
    assert config.role_arn == example["extra"]["role_arn"] and config.assume_role_method == "assume_role"


def test_env_example_documents_every_genai_setting_the_code_reads() -> None:
    read = _genai_settings_read_by_code()
    assert {"GENAI_LANDING_BUCKET", "GENAI_SNOWFLAKE_DATABASE", "GENAI_SNOWFLAKE_WAREHOUSE"} <= read
    documented = {n for n in _env_file(ENV_EXAMPLE, commented=True) if n.startswith("GENAI_")}
    assert not read - documented, f".env.example does not document {', '.join(sorted(read - documented))}"
    assert not documented - read, f".env.example documents settings no code reads: {sorted(documented - read)}"


def test_env_files_are_valid_shell_style_assignments() -> None:
    """One NAME=value per line with no stray quoting, so both compose versions and Astro read the same values."""
    for path in (ENV_EXAMPLE, LOCAL_STACK_ENV):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, _, value = line.partition("=")
            assert re.fullmatch(r"[A-Z_][A-Z0-9_]*", name), f"{path.name}:{number}: not NAME=value"
            if value.startswith("'"):
                assert value.endswith("'") and "'" not in value[1:-1], f"{path.name}:{number}: unbalanced quotes"
                shlex.split(value)  # and a shell would read it the same way
