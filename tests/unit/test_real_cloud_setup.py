"""The real-cloud set-up under deploy/ checked against what the code does, without a network.

Snowflake (deploy/snowflake/*.sql): every statement is lexed and parsed with sqlglot's Snowflake
dialect. sqlglot 30 understands CREATE WAREHOUSE / DATABASE, GRANT .. ON WAREHOUSE / DATABASE /
SCHEMA, ALTER TABLE and USE, but for CREATE ROLE / USER, GRANT ROLE, future and ALL grants, CREATE
SCHEMA .. WITH MANAGED ACCESS and ALTER WAREHOUSE / SCHEMA / USER it falls back to an opaque
``exp.Command`` with a warning: it accepts *any* text there (even ``GRANT USAGE ON SCHEMA TO``), so a
Command proves nothing. Every statement must therefore also match the grammar below, transcribed
from Snowflake's SQL reference for exactly the statement kinds the set-up uses, with property names
and privilege names checked against the documented vocabulary. A statement of any other kind fails
the test until its grammar is added here.

The cross-checks derive what is needed from the code, not from lists kept by hand: the schemas and
object types come from rendering include/sql/**/*.sql; the AWS calls from the syntax tree of
plugins/ and include/ (boto3 client methods are recognised from botocore's own service models,
S3Hook methods from the provider's class); model ids, S3 prefixes and the batch role from the
settings' and operators' defaults. What is hand-written is only knowledge about the clouds: which
IAM action an API call needs (the few where it is not ``<service>:<Operation>``), which S3 calls an
S3Hook method makes, and Snowflake's privilege vocabulary.
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pytest
import sqlglot
from sqlglot import exp

REPO = Path(__file__).resolve().parents[2]
SNOWFLAKE_DIR = REPO / "deploy" / "snowflake"
AWS_DIR = REPO / "deploy" / "aws"
SQL_ROOT = REPO / "include" / "sql"
ENV_EXAMPLE = REPO / ".env.example"
DOC = REPO / "docs" / "real-cloud.md"

PIPELINES_POLICY = AWS_DIR / "pipelines-policy.json"
PIPELINES_TRUST = AWS_DIR / "pipelines-role-trust-policy.json"
BATCH_POLICY = AWS_DIR / "batch-inference-role-policy.json"
BATCH_TRUST = AWS_DIR / "batch-inference-role-trust-policy.json"
CROSS_REGION_POLICY = AWS_DIR / "pipelines-policy-cross-region.json"

PIPELINE_ROLE = "GENAI_PIPELINES"
READER_ROLE = "GENAI_READER"

# ================================================================================= Snowflake grammar

_ID = r"[A-Za-z_][A-Za-z0-9_$]*"
_QID = rf"{_ID}(?:\.{_ID}){{0,2}}"
_STR = r"'(?:[^'\\]|''|\\.)*'"
_VALUE = rf"(?:{_STR}|\d+|TRUE|FALSE|{_ID})"

# Object types that live in a schema, as they appear after CREATE and in "CREATE <type>" privileges
# (https://docs.snowflake.com/en/user-guide/security-access-control-privileges#schema-privileges).
SCHEMA_OBJECT_TYPES = (
    "DYNAMIC TABLE", "EXTERNAL TABLE", "HYBRID TABLE", "ICEBERG TABLE", "EVENT TABLE", "MATERIALIZED VIEW",
    "FILE FORMAT", "MASKING POLICY", "ROW ACCESS POLICY", "SESSION POLICY", "PASSWORD POLICY", "NETWORK RULE",
    "TABLE", "VIEW", "STAGE", "SEQUENCE", "FUNCTION", "PROCEDURE", "STREAM", "TASK", "PIPE", "TAG", "ALERT",
    "SECRET", "STREAMLIT", "NOTEBOOK",
)
PRIVILEGES: dict[str, frozenset[str]] = {
    "WAREHOUSE": frozenset({"USAGE", "OPERATE", "MONITOR", "MODIFY", "APPLYBUDGET", "OWNERSHIP", "ALL"}),
    "DATABASE": frozenset({"USAGE", "MONITOR", "MODIFY", "CREATE SCHEMA", "CREATE DATABASE ROLE", "APPLYBUDGET",
                           "OWNERSHIP", "ALL"}),
    "SCHEMA": frozenset({"USAGE", "MONITOR", "MODIFY", "ADD SEARCH OPTIMIZATION", "OWNERSHIP", "ALL",
                         *(f"CREATE {t}" for t in SCHEMA_OBJECT_TYPES)}),
    "TABLE": frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "EVOLVE SCHEMA", "REBUILD",
                        "OWNERSHIP", "ALL"}),
    "VIEW": frozenset({"SELECT", "REFERENCES", "OWNERSHIP", "ALL"}),
    "MATERIALIZED VIEW": frozenset({"SELECT", "REFERENCES", "OWNERSHIP", "ALL"}),
    "DYNAMIC TABLE": frozenset({"SELECT", "OPERATE", "MONITOR", "OWNERSHIP", "ALL"}),
    "STAGE": frozenset({"READ", "WRITE", "USAGE", "OWNERSHIP", "ALL"}),
    "SEQUENCE": frozenset({"USAGE", "OWNERSHIP", "ALL"}),
    "FILE FORMAT": frozenset({"USAGE", "OWNERSHIP", "ALL"}),
}
PLURALS = {"TABLES": "TABLE", "VIEWS": "VIEW", "DYNAMIC TABLES": "DYNAMIC TABLE", "MATERIALIZED VIEWS":
           "MATERIALIZED VIEW", "STAGES": "STAGE", "SEQUENCES": "SEQUENCE", "FILE FORMATS": "FILE FORMAT",
           "SCHEMAS": "SCHEMA"}
_PLURAL = "|".join(sorted(PLURALS, key=len, reverse=True))

_WAREHOUSE_SIZES = {"XSMALL", "X-SMALL", "SMALL", "MEDIUM", "LARGE", "XLARGE", "X-LARGE", "XXLARGE", "X2LARGE",
                    "2X-LARGE", "XXXLARGE", "X3LARGE", "3X-LARGE", "X4LARGE", "4X-LARGE", "X5LARGE", "5X-LARGE",
                    "X6LARGE", "6X-LARGE"}
_INT, _BOOL = re.compile(r"\d+"), re.compile(r"TRUE|FALSE", re.I)
_STRING, _IDENT = re.compile(_STR), re.compile(_ID)
# property -> pattern of its value (https://docs.snowflake.com/en/sql-reference/sql/create-warehouse, create-user)
WAREHOUSE_PROPERTIES = {
    "WAREHOUSE_SIZE": re.compile("'?(" + "|".join(re.escape(s) for s in _WAREHOUSE_SIZES) + ")'?", re.I),
    "WAREHOUSE_TYPE": re.compile(r"'?(STANDARD|SNOWPARK-OPTIMIZED)'?", re.I),
    "AUTO_SUSPEND": _INT, "AUTO_RESUME": _BOOL, "INITIALLY_SUSPENDED": _BOOL, "MIN_CLUSTER_COUNT": _INT,
    "MAX_CLUSTER_COUNT": _INT, "SCALING_POLICY": re.compile(r"STANDARD|ECONOMY", re.I), "RESOURCE_MONITOR": _IDENT,
    "ENABLE_QUERY_ACCELERATION": _BOOL, "QUERY_ACCELERATION_MAX_SCALE_FACTOR": _INT,
    "STATEMENT_TIMEOUT_IN_SECONDS": _INT, "STATEMENT_QUEUED_TIMEOUT_IN_SECONDS": _INT, "MAX_CONCURRENCY_LEVEL": _INT,
    "COMMENT": _STRING,
}
# No PASSWORD on purpose: the pipelines' user authenticates with a key pair only.
USER_PROPERTIES = {
    "TYPE": re.compile(r"SERVICE|PERSON|LEGACY_SERVICE", re.I), "DEFAULT_ROLE": _IDENT, "DEFAULT_WAREHOUSE": _IDENT,
    "DEFAULT_NAMESPACE": re.compile(_QID), "RSA_PUBLIC_KEY": _STRING, "RSA_PUBLIC_KEY_2": _STRING,
    "DISABLED": _BOOL, "LOGIN_NAME": _STRING, "DISPLAY_NAME": _STRING, "NETWORK_POLICY": _IDENT, "COMMENT": _STRING,
}
SCHEMA_PROPERTIES = {"DATA_RETENTION_TIME_IN_DAYS": _INT, "MAX_DATA_EXTENSION_TIME_IN_DAYS": _INT, "COMMENT": _STRING}
DATABASE_PROPERTIES = SCHEMA_PROPERTIES

_PROPERTY = re.compile(rf"\s*({_ID})\s*=\s*({_VALUE})", re.I)


def _properties(text: str, allowed: dict[str, re.Pattern[str]]) -> tuple[dict[str, str], str | None]:
    """``NAME = value ...`` into a dict; the error names the first unknown property or bad value."""
    found: dict[str, str] = {}
    position = 0
    while position < len(text.rstrip()):
        match = _PROPERTY.match(text, position)
        if not match:
            return found, f"cannot read a NAME = value property at {text[position:position + 40]!r}"
        name, value = match.group(1).upper(), match.group(2)
        if name not in allowed:
            return found, f"{name} is not a property Snowflake documents here"
        if not allowed[name].fullmatch(value):
            return found, f"{name} = {value} is not a valid value"
        found[name] = value
        position = match.end()
    return found, None


@dataclass(frozen=True)
class Grant:
    privileges: frozenset[str]
    on: str  # WAREHOUSE | DATABASE | SCHEMA | FUTURE <type> | ALL <type>
    target: str  # the object, or the schema / database of FUTURE and ALL grants
    role: str


@dataclass
class SnowflakeSetup:
    """What deploy/snowflake creates and grants, read from its statements."""

    roles: set[str] = field(default_factory=set)
    warehouses: dict[str, dict[str, str]] = field(default_factory=dict)
    databases: set[str] = field(default_factory=set)
    schemas: dict[str, bool] = field(default_factory=dict)  # DB.SCHEMA -> managed access
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    user_roles: set[tuple[str, str]] = field(default_factory=set)  # (user, role)
    role_parents: set[tuple[str, str]] = field(default_factory=set)  # (role, granted to role)
    grants: list[Grant] = field(default_factory=list)
    change_tracking: set[str] = field(default_factory=set)

    def privileges(self, role: str, on: str, target: str) -> set[str]:
        return {p for g in self.grants if (g.role, g.on, g.target) == (role, on, target) for p in g.privileges}


@dataclass(frozen=True)
class Statement:
    file: str
    line: int
    text: str  # whitespace-normalised


def split_statements(text: str, name: str) -> list[Statement]:
    """Statements of a SQL text, split on sqlglot's SEMICOLON tokens, comments dropped, whitespace between
    tokens made one space (string literals stay as written)."""
    statements: list[Statement] = []
    current: list[Any] = []
    for token in [*sqlglot.tokenize(text, read="snowflake"), None]:
        if token is not None and token.token_type != sqlglot.TokenType.SEMICOLON:
            current.append(token)
            continue
        if current:
            parts = [text[current[0].start:current[0].end + 1]]
            for before, after in zip(current, current[1:]):
                parts.append(" " * (after.start > before.end + 1) + text[after.start:after.end + 1])
            statements.append(Statement(name, current[0].line, "".join(parts)))
        current = []
    return statements


def _grant(statement: str) -> Grant | str:
    match = re.fullmatch(
        rf"GRANT (?P<privs>.+?) ON (?:(?P<scope>FUTURE|ALL) (?P<plural>{_PLURAL}) IN (?:SCHEMA|DATABASE) "
        rf"(?P<within>{_QID})|(?P<kind>WAREHOUSE|DATABASE|SCHEMA) (?P<name>{_QID})) TO ROLE (?P<role>{_ID})",
        statement, re.I,
    )
    if not match:
        return "not GRANT <privileges> ON {WAREHOUSE|DATABASE|SCHEMA <name> | FUTURE|ALL <objects> IN ...} TO ROLE"
    if match["scope"]:
        object_type = PLURALS[" ".join(match["plural"].upper().split())]
        on, target = f"{match['scope'].upper()} {object_type}", match["within"].upper()
    else:
        object_type = on = match["kind"].upper()
        target = match["name"].upper()
    privileges = frozenset(" ".join(p.upper().split()) for p in match["privs"].split(","))
    unknown = sorted(privileges - PRIVILEGES[object_type])
    if unknown:
        return f"{', '.join(unknown)} is not a privilege on a {object_type}"
    return Grant(privileges, on, target, match["role"].upper())


def _interpret(statement: str, setup: SnowflakeSetup) -> tuple[str, type[exp.Expression] | None] | str:
    """Record what one statement does in ``setup``; returns (its kind, the sqlglot node it parses to, if any)
    or an error. The grammar follows https://docs.snowflake.com/en/sql-reference/sql/<command>."""
    s = statement
    if m := re.fullmatch(rf"USE ROLE ({_ID})", s, re.I):
        return "USE ROLE", exp.Use
    if m := re.fullmatch(rf"CREATE ROLE IF NOT EXISTS ({_ID})(?: COMMENT = {_STR})?", s, re.I):
        setup.roles.add(m[1].upper())
        return "CREATE ROLE", None
    if m := re.fullmatch(rf"GRANT ROLE ({_ID}) TO (ROLE|USER) ({_ID})", s, re.I):
        role, grantee = m[1].upper(), m[3].upper()
        if m[2].upper() == "ROLE":
            setup.role_parents.add((role, grantee))
        else:
            setup.user_roles.add((grantee, role))
        return "GRANT ROLE", None
    if m := re.fullmatch(rf"CREATE WAREHOUSE IF NOT EXISTS ({_ID})(?: WITH)?((?: {_ID} = {_VALUE})*)", s, re.I):
        props, error = _properties(m[2], WAREHOUSE_PROPERTIES)
        if error:
            return error
        setup.warehouses.setdefault(m[1].upper(), {}).update(props)
        return "CREATE WAREHOUSE", exp.Create
    if m := re.fullmatch(rf"ALTER WAREHOUSE (?:IF EXISTS )?({_ID}) SET((?: {_ID} = {_VALUE})+)", s, re.I):
        props, error = _properties(m[2], WAREHOUSE_PROPERTIES)
        if error:
            return error
        setup.warehouses.setdefault(m[1].upper(), {}).update(props)
        return "ALTER WAREHOUSE", None
    if m := re.fullmatch(rf"CREATE DATABASE IF NOT EXISTS ({_ID})((?: {_ID} = {_VALUE})*)", s, re.I):
        _, error = _properties(m[2], DATABASE_PROPERTIES)
        if error:
            return error
        setup.databases.add(m[1].upper())
        return "CREATE DATABASE", exp.Create
    if m := re.fullmatch(rf"CREATE SCHEMA IF NOT EXISTS ({_ID}\.{_ID})( WITH MANAGED ACCESS)?((?: {_ID} = {_VALUE})*)",
                         s, re.I):
        _, error = _properties(m[3], SCHEMA_PROPERTIES)
        if error:
            return error
        setup.schemas[m[1].upper()] = setup.schemas.get(m[1].upper(), False) or bool(m[2])
        return "CREATE SCHEMA", exp.Create
    if m := re.fullmatch(rf"ALTER SCHEMA (?:IF EXISTS )?({_ID}\.{_ID}) (ENABLE|DISABLE) MANAGED ACCESS", s, re.I):
        setup.schemas[m[1].upper()] = m[2].upper() == "ENABLE"
        return "ALTER SCHEMA", None
    if re.match(r"GRANT ", s, re.I):
        grant = _grant(s)
        if isinstance(grant, str):
            return grant
        setup.grants.append(grant)
        return "GRANT", exp.Grant
    if m := re.fullmatch(rf"CREATE USER IF NOT EXISTS ({_ID})((?: {_ID} = {_VALUE})*)", s, re.I):
        props, error = _properties(m[2], USER_PROPERTIES)
        if error:
            return error
        setup.users.setdefault(m[1].upper(), {}).update(props)
        return "CREATE USER", None
    if m := re.fullmatch(rf"ALTER USER (?:IF EXISTS )?({_ID}) SET((?: {_ID} = {_VALUE})+)", s, re.I):
        props, error = _properties(m[2], USER_PROPERTIES)
        if error:
            return error
        setup.users.setdefault(m[1].upper(), {}).update(props)
        return "ALTER USER", None
    if m := re.fullmatch(rf"ALTER TABLE (?:IF EXISTS )?({_QID}) SET CHANGE_TRACKING = TRUE", s, re.I):
        setup.change_tracking.add(m[1].upper())
        return "ALTER TABLE", exp.Alter
    return "not a statement kind this test has a Snowflake grammar for (add it, from Snowflake's SQL reference)"


def _check(statement: Statement, setup: SnowflakeSetup) -> str | None:
    try:
        tree = sqlglot.parse_one(statement.text, read="snowflake")
    except sqlglot.errors.ParseError as e:
        return f"sqlglot cannot parse it: {str(e).splitlines()[0]}"
    result = _interpret(statement.text, setup)
    if isinstance(result, str):
        return result
    kind, node = result
    if not isinstance(tree, exp.Command) and (node is None or not isinstance(tree, node)):
        return f"sqlglot reads this {kind} as {type(tree).__name__}: the grammar here and sqlglot disagree"
    return None


@functools.cache
def snowflake_setup() -> tuple[SnowflakeSetup, tuple[Statement, ...], tuple[str, ...]]:
    """Every statement of deploy/snowflake/*.sql, in file order, what they set up, and the errors."""
    setup = SnowflakeSetup()
    statements: list[Statement] = []
    errors: list[str] = []
    for path in sorted(SNOWFLAKE_DIR.glob("*.sql")):
        try:
            found = split_statements(path.read_text(), path.name)
        except sqlglot.errors.TokenError as e:
            errors.append(f"{path.name}: sqlglot cannot tokenize it: {e}")
            continue
        for statement in found:
            statements.append(statement)
            if error := _check(statement, setup):
                errors.append(f"{statement.file}:{statement.line}: {error}: {statement.text[:120]}")
    return setup, tuple(statements), tuple(errors)


# ================================================================================== the DAGs' SQL


class _Lenient(jinja2.ChainableUndefined):
    """Renders every template whatever its parameters: unknown values are empty, falsy and zero."""

    def __int__(self) -> int:
        return 0

    def __float__(self) -> float:
        return 0.0


@dataclass(frozen=True)
class CreatedObject:
    template: str
    object_type: str  # TABLE, DYNAMIC TABLE, VIEW, STAGE, ... or SCHEMA
    schema: str  # the schema it is created in (for SCHEMA: the schema itself)
    name: str  # as written, qualified or not
    temporary: bool
    statement: str


_CREATE = re.compile(
    r"CREATE (?:OR REPLACE )?(?:(?:LOCAL |GLOBAL )?(?P<temp>TEMPORARY|TEMP|VOLATILE|TRANSIENT) )?(?:SECURE )?"
    rf"(?P<type>{'|'.join(SCHEMA_OBJECT_TYPES)}|SCHEMA) (?:IF NOT EXISTS )?(?P<name>{_QID})", re.I)
_USE_SCHEMA = re.compile(rf"USE SCHEMA ({_QID})", re.I)


@functools.cache
def dag_sql(database: str, warehouse: str) -> tuple[dict[str, tuple[Statement, ...]], tuple[str, ...]]:
    """Every include/sql template rendered with the given database and warehouse, split into statements."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(SQL_ROOT)), undefined=_Lenient,
                             keep_trailing_newline=True)
    # the values that shape the DDL, plus stage paths (an empty one would render "@STAGE//", a "//" comment)
    params = {"database": database, "warehouse": warehouse, "target_lag": "15 minutes",
              "table_name": "EMB_SET_UNDER_TEST", "dimensions": 1024, "stage_path": "run", "usage_stage_path": "run",
              "file": "/tmp/part.csv", "usage_file": "/tmp/usage.csv"}
    rendered: dict[str, tuple[Statement, ...]] = {}
    errors: list[str] = []
    for path in sorted(SQL_ROOT.rglob("*.sql")):
        name = str(path.relative_to(SQL_ROOT))
        try:
            rendered[name] = tuple(split_statements(env.get_template(name).render(**params), name))
        except (jinja2.TemplateError, sqlglot.errors.TokenError) as e:
            errors.append(f"include/sql/{name}: cannot render and split it: {e}")
    return rendered, tuple(errors)


def created_objects(database: str, warehouse: str) -> tuple[list[CreatedObject], list[str]]:
    """What the DAGs' SQL creates, with the schema each object lands in (USE SCHEMA followed per file)."""
    rendered, errors = dag_sql(database, warehouse)
    objects: list[CreatedObject] = []
    problems = list(errors)
    for template, statements in rendered.items():
        current: str | None = None
        for statement in statements:
            if use := _USE_SCHEMA.fullmatch(statement.text):
                current = use[1].upper().split(".")[-1]
            if not statement.text.upper().startswith("CREATE "):
                continue
            match = _CREATE.match(statement.text)
            if not match:
                problems.append(f"include/sql/{template}:{statement.line}: a CREATE this test cannot classify: "
                                f"{statement.text[:100]}")
                continue
            object_type = " ".join(match["type"].upper().split())
            parts = match["name"].upper().split(".")
            if object_type == "SCHEMA":
                schema = parts[-1]
            elif len(parts) == 3:
                schema = parts[1]
            elif len(parts) == 2:
                schema = parts[0]
            elif current:
                schema = current
            else:
                problems.append(f"include/sql/{template}:{statement.line}: {match['name']} is created without a "
                                "schema and without USE SCHEMA before it (it would land in the connection's default)")
                continue
            objects.append(CreatedObject(template, object_type, schema, match["name"].upper(), bool(match["temp"]),
                                         statement.text))
    return objects, problems


def referenced_schemas(database: str, warehouse: str) -> dict[str, str]:
    """Every schema of ``database`` the DAGs' SQL names, with one template naming it."""
    rendered, _ = dag_sql(database, warehouse)
    found: dict[str, str] = {}
    for template, statements in rendered.items():
        for statement in statements:
            for schema in re.findall(rf"\b{re.escape(database)}\.({_ID})\b", statement.text, re.I):
                if schema.upper() != "INFORMATION_SCHEMA":
                    found.setdefault(schema.upper(), template)
    return found


# ============================================================================== settings and names


@functools.cache
def env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in ENV_EXAMPLE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def snowflake_connection() -> dict[str, Any]:
    raw = env_example().get("AIRFLOW_CONN_SNOWFLAKE_DEFAULT")
    assert raw, ".env.example has no AIRFLOW_CONN_SNOWFLAKE_DEFAULT: the real-cloud connection is undocumented"
    return json.loads(raw)


def real_database() -> str:
    setup, _, _ = snowflake_setup()
    assert len(setup.databases) == 1, f"deploy/snowflake must create exactly one database, creates {setup.databases}"
    return next(iter(setup.databases))


def real_warehouse() -> str:
    setup, _, _ = snowflake_setup()
    assert len(setup.warehouses) == 1, f"deploy/snowflake must create exactly one warehouse, creates {setup.warehouses}"
    return next(iter(setup.warehouses))


# ============================================================================ Snowflake: the tests


def test_every_snowflake_statement_parses_and_follows_snowflake_grammar() -> None:
    files = sorted(p.name for p in SNOWFLAKE_DIR.glob("*.sql"))
    assert files, "deploy/snowflake/ has no SQL files"
    assert [f[:3] for f in files] == [f"{i:02d}_" for i in range(1, len(files) + 1)], \
        f"deploy/snowflake files must be numbered 01_, 02_, ... in the order they run: {files}"
    _, statements, errors = snowflake_setup()
    assert statements, "deploy/snowflake/*.sql hold no statements"
    assert not errors, "deploy/snowflake statements Snowflake would refuse:\n" + "\n".join(errors)


def test_snowflake_grammar_check_rejects_what_sqlglot_lets_through() -> None:
    # sqlglot turns these into exp.Command without an error; the grammar must not accept them
    bad = [
        "GRANT USAGE ON SCHEMA TO ROLE GENAI_PIPELINES",
        "GRANT CREATE DYNAMIC_TABLE ON SCHEMA GENAI.RAW TO ROLE GENAI_PIPELINES",
        "GRANT SELECT ON FUTURE TABLE IN SCHEMA GENAI.RAW TO ROLE GENAI_READER",
        "CREATE USER IF NOT EXISTS X PASSWORD = 'secret'",
        "ALTER WAREHOUSE W SET AUTO_SUSPEND = 'soon'",
        "CREATE ROLE GENAI_PIPELINES",  # not idempotent
    ]
    for text in bad:
        assert _check(Statement("probe.sql", 1, text), SnowflakeSetup()) is not None, f"grammar accepted {text!r}"
    good = "GRANT SELECT, MONITOR ON FUTURE DYNAMIC TABLES IN SCHEMA GENAI.CURATED TO ROLE GENAI_READER"
    assert _check(Statement("probe.sql", 1, good), SnowflakeSetup()) is None


def test_snowflake_setup_is_idempotent_and_drops_nothing() -> None:
    _, statements, _ = snowflake_setup()
    for statement in statements:
        text = statement.text.upper()
        where = f"{statement.file}:{statement.line}"
        assert not text.startswith(("DROP ", "REVOKE ", "TRUNCATE ", "DELETE ")), f"{where} destroys something"
        if text.startswith("CREATE "):
            assert " IF NOT EXISTS " in text and " OR REPLACE " not in text, \
                f"{where}: CREATE must be IF NOT EXISTS (OR REPLACE would drop grants and data on a re-run)"


def test_no_secrets_in_the_snowflake_setup() -> None:
    setup, statements, _ = snowflake_setup()
    text = "\n".join(p.read_text() for p in SNOWFLAKE_DIR.glob("*.sql"))
    assert not re.search(r"-----BEGIN [A-Z ]*PRIVATE KEY-----", text), "a private key in deploy/snowflake"
    assert not any("PASSWORD" in props for props in setup.users.values()), "a user with a password"
    keys = [props["RSA_PUBLIC_KEY"] for props in setup.users.values() if "RSA_PUBLIC_KEY" in props]
    assert keys, "no user gets an RSA public key: key-pair auth is not set up"
    for key in keys:
        assert key.startswith("'<") and key.endswith(">'"), f"RSA_PUBLIC_KEY must stay a <placeholder> here, is {key}"


def test_names_agree_with_env_example_and_settings() -> None:
    setup, _, _ = snowflake_setup()
    connection = snowflake_connection()
    extra = connection.get("extra") or {}
    if isinstance(extra, str):
        extra = json.loads(extra)
    env = env_example()
    database, warehouse = real_database(), real_warehouse()
    mismatches = []
    for what, theirs, ours in [
        ("AIRFLOW_CONN_SNOWFLAKE_DEFAULT extra.database", extra.get("database"), database),
        ("GENAI_SNOWFLAKE_DATABASE", env.get("GENAI_SNOWFLAKE_DATABASE"), database),
        ("AIRFLOW_CONN_SNOWFLAKE_DEFAULT extra.warehouse", extra.get("warehouse"), warehouse),
        # the dynamic tables' DDL names this warehouse (settings.snowflake_warehouse)
        ("GENAI_SNOWFLAKE_WAREHOUSE", env.get("GENAI_SNOWFLAKE_WAREHOUSE"), warehouse),
        ("AIRFLOW_CONN_SNOWFLAKE_DEFAULT extra.role", extra.get("role"), PIPELINE_ROLE),
    ]:
        if str(theirs or "").upper() != ours:
            mismatches.append(f".env.example {what} is {theirs!r}, deploy/snowflake uses {ours}")
    login = str(connection.get("login") or "").upper()
    if login not in setup.users:
        mismatches.append(f".env.example connects as {login!r}, deploy/snowflake creates users {sorted(setup.users)}")
    elif (login, PIPELINE_ROLE) not in setup.user_roles:
        mismatches.append(f"user {login} is not granted role {PIPELINE_ROLE}")
    elif setup.users[login].get("DEFAULT_ROLE", "").upper() != PIPELINE_ROLE:
        mismatches.append(f"user {login}'s DEFAULT_ROLE is not {PIPELINE_ROLE}")
    if not ({"private_key_content", "private_key_file"} & set(extra)):
        mismatches.append(".env.example's Snowflake connection does not use key-pair auth (private_key_content/_file)")
    assert not mismatches, "\n".join(mismatches)


def test_roles_and_warehouse_are_set_up() -> None:
    setup, _, _ = snowflake_setup()
    assert {PIPELINE_ROLE, READER_ROLE} <= setup.roles, f"deploy/snowflake creates roles {sorted(setup.roles)}"
    for role in (PIPELINE_ROLE, READER_ROLE):
        assert (role, "SYSADMIN") in setup.role_parents, f"role {role} does not roll up to SYSADMIN"
    props = setup.warehouses[real_warehouse()]
    assert {"WAREHOUSE_SIZE", "AUTO_SUSPEND", "AUTO_RESUME"} <= set(props), f"warehouse settings incomplete: {props}"
    assert 0 < int(props["AUTO_SUSPEND"]) <= 600, "AUTO_SUSPEND should stop an idle warehouse within minutes"
    for role in (PIPELINE_ROLE, READER_ROLE):
        assert "USAGE" in setup.privileges(role, "WAREHOUSE", real_warehouse()), f"{role} cannot use the warehouse"
    assert setup.privileges(PIPELINE_ROLE, "WAREHOUSE", real_warehouse()) == {"USAGE"}, \
        "the pipelines need USAGE on the warehouse and nothing more"


def test_the_dynamic_tables_name_the_warehouse_the_setup_creates() -> None:
    database, warehouse = real_database(), real_warehouse()
    objects, problems = created_objects(database, warehouse)
    assert not problems, "\n".join(problems)
    dynamic = [o for o in objects if o.object_type == "DYNAMIC TABLE"]
    assert dynamic, "include/sql creates no dynamic table: this test's premise changed"
    for table in dynamic:
        assert f"WAREHOUSE = {warehouse}" in table.statement, \
            f"{table.name} does not take its warehouse from the setting (GENAI_SNOWFLAKE_WAREHOUSE)"


def test_every_schema_the_dags_use_is_created_and_granted() -> None:
    setup, _, _ = snowflake_setup()
    database = real_database()
    used = referenced_schemas(database, real_warehouse())
    assert used, "found no schema in include/sql: the rendering or the regex broke"
    problems = []
    for schema, template in sorted(used.items()):
        qualified = f"{database}.{schema}"
        if qualified not in setup.schemas:
            problems.append(f"schema {qualified} (used by include/sql/{template}) is not created in 02")
        elif not setup.schemas[qualified]:
            problems.append(f"schema {qualified} is not MANAGED ACCESS")
        for role in (PIPELINE_ROLE, READER_ROLE):
            if "USAGE" not in setup.privileges(role, "SCHEMA", qualified):
                problems.append(f"role {role} has no USAGE on schema {qualified} (used by include/sql/{template})")
    unused = sorted(set(setup.schemas) - {f"{database}.{s}" for s in used})
    if unused:
        problems.append(f"deploy/snowflake creates schemas no DAG uses: {unused}")
    for role in (PIPELINE_ROLE, READER_ROLE):
        if "USAGE" not in setup.privileges(role, "DATABASE", database):
            problems.append(f"role {role} has no USAGE on database {database}")
    assert not problems, "\n".join(problems)


def test_pipeline_role_gets_exactly_the_create_privileges_the_dag_sql_needs() -> None:
    setup, _, _ = snowflake_setup()
    database = real_database()
    objects, problems = created_objects(database, real_warehouse())
    assert not problems, "\n".join(problems)
    needed: dict[tuple[str, str, str], CreatedObject] = {}
    for obj in objects:
        if obj.object_type == "SCHEMA":
            needed.setdefault(("DATABASE", database, "CREATE SCHEMA"), obj)
        else:  # a TEMPORARY or TRANSIENT table needs CREATE TABLE like any other
            needed.setdefault(("SCHEMA", f"{database}.{obj.schema}", f"CREATE {obj.object_type}"), obj)
    missing = [f"GRANT {privilege} ON {on} {target} TO ROLE {PIPELINE_ROLE} is missing: include/sql/{obj.template} "
               f"creates {obj.object_type} {obj.name}"
               for (on, target, privilege), obj in sorted(needed.items())
               if privilege not in setup.privileges(PIPELINE_ROLE, on, target)]
    granted = {(g.on, g.target, p) for g in setup.grants if g.role == PIPELINE_ROLE for p in g.privileges}
    superfluous = [f"{privilege} ON {on} {target}: nothing in include/sql needs it"
                   for on, target, privilege in sorted(granted)
                   if privilege not in ("USAGE",) and (on, target, privilege) not in needed]
    assert not missing, "\n".join(missing)
    assert not superfluous, f"role {PIPELINE_ROLE} gets more than the DAGs need:\n" + "\n".join(superfluous)


def test_reader_role_reads_every_kind_of_object_and_writes_nothing() -> None:
    setup, _, _ = snowflake_setup()
    database = real_database()
    objects, problems = created_objects(database, real_warehouse())
    assert not problems, "\n".join(problems)
    readable = {"TABLE", "VIEW", "DYNAMIC TABLE", "MATERIALIZED VIEW"}
    missing = []
    for schema, object_type in sorted({(o.schema, o.object_type) for o in objects
                                       if o.object_type in readable and not o.temporary}):
        target = f"{database}.{schema}"
        wanted = {"SELECT", "MONITOR"} if object_type == "DYNAMIC TABLE" else {"SELECT"}
        for scope in ("FUTURE", "ALL"):
            lacking = wanted - setup.privileges(READER_ROLE, f"{scope} {object_type}", target)
            if lacking:
                missing.append(f"GRANT {', '.join(sorted(lacking))} ON {scope} {object_type}S IN SCHEMA {target} "
                               f"TO ROLE {READER_ROLE} is missing")
    assert not missing, "\n".join(missing)
    writes = sorted({p for g in setup.grants if g.role == READER_ROLE for p in g.privileges}
                    - {"USAGE", "SELECT", "MONITOR", "REFERENCES"})
    assert not writes, f"role {READER_ROLE} is read-only but gets {writes}"


def test_change_tracking_is_on_for_every_base_table_of_a_dynamic_table() -> None:
    setup, _, _ = snowflake_setup()
    database = real_database()
    objects, problems = created_objects(database, real_warehouse())
    assert not problems, "\n".join(problems)
    dynamic = [o for o in objects if o.object_type == "DYNAMIC TABLE"]
    dynamic_names = {o.name for o in dynamic}
    bases = {(ref.upper(), o.name) for o in dynamic
             for ref in re.findall(rf"\b(?:FROM|JOIN) ({re.escape(database)}\.{_ID}\.{_ID})\b", o.statement, re.I)
             if ref.upper() not in dynamic_names}
    assert bases, "found no base table of the dynamic tables: the parsing broke"
    missing = [f"ALTER TABLE IF EXISTS {base} SET CHANGE_TRACKING = TRUE is missing (base table of {table})"
               for base, table in sorted(bases) if base not in setup.change_tracking]
    assert not missing, "\n".join(missing)


# =================================================================================== IAM documents

PLACEHOLDERS = {  # what docs/real-cloud.md tells users to fill in, with sample values for the tests
    "ACCOUNT_ID": "111122223333",
    "REGION": "eu-central-1",
    "LANDING_BUCKET": "example-genai-landing",
    "AIRFLOW_PRINCIPAL_ARN": "arn:aws:iam::111122223333:role/airflow-workers",
    "GEO": "eu",
}
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_:]+)\}")
# Actions that have no resource-level permissions, so "Resource": "*" is the only form IAM accepts
# (Service Authorization Reference, "Actions defined by Amazon Comprehend": no resource type).
STAR_RESOURCE_ACTIONS = {"comprehend:batchdetectsentiment"}
# IAM actions that are not the name of an API operation
IAM_ONLY_ACTIONS = {"s3:listbucket", "iam:passrole"}
# the operators the policies use, which allowed() below evaluates
CONDITION_OPERATORS = {"StringEquals", "StringLike", "ArnEquals", "ArnLike"}
_ARN = re.compile(r"arn:aws:(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*|\*):(?P<account>\d{12}|\*|):(?P<rest>.+)")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def load_policy(path: Path, values: dict[str, str] | None = None) -> dict[str, Any]:
    text = path.read_text()
    if values is not None:
        text = _PLACEHOLDER.sub(lambda m: values[m[1]], text)
    return json.loads(text)


@functools.cache
def api_operations() -> dict[str, dict[str, str]]:
    """IAM service prefix -> {lower-case operation name: OperationName}, from botocore's service models."""
    by_prefix: dict[str, dict[str, str]] = {}
    for service in ("s3", "bedrock", "bedrock-runtime", "comprehend", "sts", "iam"):
        model = service_model(service)
        by_prefix.setdefault(model.signing_name, {}).update({op.lower(): op for op in model.operation_names})
    return by_prefix


@functools.cache
def renamed_operations() -> frozenset[str]:
    """``service:Operation`` names that are API operations but not IAM actions (bedrock:Converse is InvokeModel)."""
    return frozenset(f"{api_signing(service)}:{operation}".lower() for (service, operation), actions
                     in IAM_ACTIONS.items()
                     if f"{api_signing(service)}:{operation}".lower() not in {a.lower() for a in actions})


def iam_document_problems(path: Path) -> list[str]:
    problems: list[str] = []
    text = path.read_text()
    unknown = sorted(set(_PLACEHOLDER.findall(text)) - set(PLACEHOLDERS))
    if unknown:
        problems.append(f"placeholders the docs do not define: {unknown}")
        return problems
    document = load_policy(path, PLACEHOLDERS)
    trust = "trust" in path.name
    if document.get("Version") != "2012-10-17":
        problems.append('"Version" must be "2012-10-17"')
    statements = document.get("Statement")
    if not isinstance(statements, list) or not statements:
        return [*problems, '"Statement" must be a non-empty list']
    sids = [s.get("Sid") for s in statements]
    if len(set(sids)) != len(sids) or not all(isinstance(s, str) and re.fullmatch(r"[A-Za-z0-9]+", s) for s in sids):
        problems.append("every statement needs a unique alphanumeric Sid")
    for statement in statements:
        sid = statement.get("Sid")
        required = {"Effect", "Action", "Principal"} if trust else {"Effect", "Action", "Resource"}
        if set(statement) - (required | {"Sid", "Condition"}) or required - set(statement):
            problems.append(f"{sid}: keys {sorted(statement)}, expected {sorted(required)} (+ Sid, Condition)")
            continue
        if statement["Effect"] not in ("Allow", "Deny"):
            problems.append(f"{sid}: Effect {statement['Effect']!r}")
        actions = [a.lower() for a in _as_list(statement["Action"])]
        for action in actions:
            prefix, _, name = action.partition(":")
            if "*" in action or "?" in action:
                problems.append(f"{sid}: wildcard action {action}")
            elif action not in IAM_ONLY_ACTIONS and (name not in api_operations().get(prefix, {})
                                                      or action in renamed_operations()):
                problems.append(f"{sid}: {action} is not an action of that service")
        for operator, keys in (statement.get("Condition") or {}).items():
            if operator not in CONDITION_OPERATORS or not isinstance(keys, dict) or not keys:
                problems.append(f"{sid}: condition {operator} {keys}")
        if trust:
            continue
        for resource in _as_list(statement["Resource"]):
            if resource == "*":
                if not set(actions) <= STAR_RESOURCE_ACTIONS:
                    problems.append(f"{sid}: Resource \"*\" for {actions}, which support resource-level permissions")
            elif not _ARN.fullmatch(resource):
                problems.append(f"{sid}: {resource} is not an ARN")
    return problems


def _matches(pattern: str, value: str) -> bool:
    """IAM wildcard match: * any run of characters (slashes included), ? one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.S) is not None


def _condition_holds(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    for operator, keys in condition.items():
        for key, wanted in keys.items():
            if key not in context:
                return False
            values = [str(v) for v in _as_list(wanted)]
            if operator in ("StringEquals", "ArnEquals") and context[key] not in values:
                return False
            if operator in ("StringLike", "ArnLike") and not any(_matches(v, context[key]) for v in values):
                return False
    return True


def allowed(policy: dict[str, Any], action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """Does this identity policy allow the request (explicit deny wins, no statement means denied)?"""
    verdict = False
    for statement in policy["Statement"]:
        if not any(_matches(a.lower(), action.lower()) for a in _as_list(statement["Action"])):
            continue
        if not any(_matches(r, resource) for r in _as_list(statement["Resource"])):
            continue
        if not _condition_holds(statement.get("Condition") or {}, context or {}):
            continue
        if statement["Effect"] == "Deny":
            return False
        verdict = True
    return verdict


@pytest.mark.parametrize("path", sorted(AWS_DIR.glob("*.json")), ids=lambda p: p.name)
def test_iam_documents_are_valid_and_use_no_wildcards(path: Path) -> None:
    problems = iam_document_problems(path)
    assert not problems, f"deploy/aws/{path.name}:\n" + "\n".join(problems)


def test_iam_checks_reject_what_iam_would_refuse_or_we_must_not_allow(tmp_path: Path) -> None:
    bad = {"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "B", "Effect": "Allow", "Action": "bedrock:Converse", "Resource": "arn:aws:bedrock:x"},
    ]}
    path = tmp_path / "probe-policy.json"
    path.write_text(json.dumps(bad))
    problems = iam_document_problems(path)
    assert any("wildcard action s3:*" in p for p in problems), problems
    assert any('Resource "*"' in p for p in problems), problems
    # Converse is an API of bedrock-runtime, but its IAM action is bedrock:InvokeModel
    assert any("bedrock:converse is not an action" in p for p in problems), problems


def test_every_placeholder_is_explained_in_the_docs() -> None:
    doc = DOC.read_text()
    used = {name for path in AWS_DIR.glob("*.json") for name in _PLACEHOLDER.findall(path.read_text())}
    assert used, "deploy/aws has no placeholders: account, region and bucket are hard-coded"
    missing = sorted(name for name in used if f"${{{name}}}" not in doc)
    assert not missing, f"docs/real-cloud.md does not say how to fill {missing}"
    for path in [*SNOWFLAKE_DIR.glob("*.sql"), *AWS_DIR.glob("*.json")]:
        assert path.name in doc, f"docs/real-cloud.md does not mention deploy/{path.parent.name}/{path.name}"


# ======================================================================= AWS calls made by the code


@dataclass(frozen=True)
class AwsCall:
    where: str  # path:line
    module: str  # plugins/genai_personalization/operators/pos.py -> operators.pos
    service: str  # botocore service name, or "S3Hook"
    operation: str  # API operation, or the S3Hook method


# The S3 API operations each S3Hook method the code may call makes (apache-airflow-providers-amazon,
# hooks/s3.py). get_key returns an S3.Object whose .get() the callers use, hence GetObject.
S3HOOK_OPERATIONS = {
    "iter_file_metadata": ("ListObjectsV2",),
    "list_keys": ("ListObjectsV2",),
    "list_prefixes": ("ListObjectsV2",),
    "head_object": ("HeadObject",),
    "check_for_key": ("HeadObject",),
    "get_key": ("HeadObject", "GetObject"),
    "read_key": ("HeadObject", "GetObject"),
    "download_file": ("HeadObject", "GetObject"),
    "load_bytes": ("PutObject", "AbortMultipartUpload"),  # upload_fileobj: multipart above 8 MB
    "load_string": ("PutObject", "AbortMultipartUpload"),
    "load_file": ("PutObject", "AbortMultipartUpload"),
    "load_file_obj": ("PutObject", "AbortMultipartUpload"),
    "delete_objects": ("DeleteObjects",),
    "copy_object": ("CopyObject",),
}
# IAM actions an S3Hook method needs beyond those of its API calls: check_for_key answers False for a missing
# key only if S3 may say 404, which it does for callers allowed to list the bucket (403 otherwise).
S3HOOK_EXTRA_ACTIONS = {"check_for_key": ("s3:ListBucket",)}
# API operation -> IAM actions, where it is not "<signing name>:<Operation>" (Service Authorization Reference)
IAM_ACTIONS = {
    ("bedrock-runtime", "Converse"): ("bedrock:InvokeModel",),  # "requires permission for bedrock:InvokeModel"
    ("bedrock-runtime", "ConverseStream"): ("bedrock:InvokeModelWithResponseStream",),
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "ListObjects"): ("s3:ListBucket",),
    ("s3", "HeadObject"): ("s3:GetObject",),
    ("s3", "DeleteObjects"): ("s3:DeleteObject",),
    ("s3", "CopyObject"): ("s3:GetObject", "s3:PutObject"),
    ("bedrock", "CreateModelInvocationJob"): ("bedrock:CreateModelInvocationJob", "iam:PassRole"),
}


def _boto_methods() -> dict[str, list[tuple[str, str, Any]]]:
    """boto3 method name -> [(service, Operation, input shape)] for the services the project talks to."""
    from botocore import xform_name

    methods: dict[str, list[tuple[str, str, Any]]] = {}
    for service in ("s3", "bedrock", "bedrock-runtime", "comprehend"):
        model = service_model(service)
        for operation in model.operation_names:
            shape = model.operation_model(operation).input_shape
            methods.setdefault(xform_name(operation), []).append((service, operation, shape))
    return methods


def _could_be(call: ast.Call, shape: Any) -> bool:
    """boto3 client methods take keyword arguments only, and every required member of the input."""
    if call.args:
        return False
    names = {k.arg for k in call.keywords}
    if None in names:  # **request: cannot tell, count it
        return True
    members = set(shape.members) if shape is not None else set()
    required = set(getattr(shape, "required_members", []) or []) if shape is not None else set()
    return names <= members and required <= names


@functools.cache
def aws_calls() -> tuple[AwsCall, ...]:
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    methods = _boto_methods()
    hook_methods = {n for n, v in vars(S3Hook).items() if callable(v) and not n.startswith("_")} - set(dir(AwsBaseHook))
    unmapped = sorted(set(S3HOOK_OPERATIONS) - hook_methods)
    assert not unmapped, f"S3HOOK_OPERATIONS names methods S3Hook does not have: {unmapped}"
    calls: list[AwsCall] = []
    for root in ("plugins", "include"):
        for path in sorted((REPO / root).rglob("*.py")):
            relative = str(path.relative_to(REPO))
            module = ".".join(path.relative_to(REPO / root).with_suffix("").parts[1 if root == "plugins" else 0:])
            for node in ast.walk(ast.parse(path.read_text(), relative)):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                name, where = node.func.attr, f"{relative}:{node.lineno}"
                if name in hook_methods:
                    calls.append(AwsCall(where, module, "S3Hook", name))
                for service, operation, shape in methods.get(name, []):
                    if _could_be(node, shape):
                        calls.append(AwsCall(where, module, service, operation))
    return tuple(calls)


@functools.cache
def s3_prefixes() -> dict[str, tuple[str, ...]]:
    """module -> the landing-bucket prefixes its S3 calls touch, from the operators' defaults."""
    import importlib

    from genai_personalization.operators.snowflake_steps import S3ToSnowflakeOperator

    found: dict[str, list[str]] = {}
    for path in sorted((REPO / "plugins" / "genai_personalization" / "operators").glob("*.py")):
        module = importlib.import_module(f"genai_personalization.operators.{path.stem}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or not issubclass(cls, S3ToSnowflakeOperator):
                continue
            prefix = inspect.signature(cls.__init__).parameters.get("prefix")
            if prefix is not None and isinstance(prefix.default, str):
                found.setdefault(f"operators.{path.stem}", []).append(prefix.default)
    from genai_personalization.operators.campaign_batch import batch_prefix

    sample = batch_prefix({"campaign_id": "email-2025-01-01", "run_id": "manual__1", "batch_no": 1})
    found["operators.campaign_batch"] = [sample.split("/", 1)[0] + "/"]
    # a DAG may pass its own prefix to an operator
    for path in sorted((REPO / "dags").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "prefix":
                assert isinstance(node.value, ast.Constant), f"dags/{path.name}: a prefix= the test cannot read"
                found.setdefault("dags", []).append(str(node.value.value))
    return {module: tuple(prefixes) for module, prefixes in found.items()}


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    why: str = ""


def requests_for(call: AwsCall) -> list[Request] | str:
    """The IAM requests one call of the code makes, with the resources the code's defaults name."""
    from include.campaign.batch_records import LOCAL_ROLE_ARN
    from include.campaign.config import CampaignConfig
    from include.knowledge.embedding import EmbeddingConfig

    region, account, bucket = "${REGION}", "${ACCOUNT_ID}", "${LANDING_BUCKET}"
    why = f"{call.where} calls {call.service}.{call.operation}"
    if call.service == "S3Hook":
        if call.operation not in S3HOOK_OPERATIONS:
            return f"{why}: S3HOOK_OPERATIONS does not say which S3 API calls it makes; add it, and allow them"
        actions = [a for op in S3HOOK_OPERATIONS[call.operation] for a in IAM_ACTIONS.get(("s3", op), (f"s3:{op}",))]
        actions += S3HOOK_EXTRA_ACTIONS.get(call.operation, ())
    else:
        actions = list(IAM_ACTIONS.get((call.service, call.operation),
                                       (f"{api_signing(call.service)}:{call.operation}",)))
    requests: list[Request] = []
    for action in dict.fromkeys(actions):
        if action.startswith("s3:"):
            if call.module not in s3_prefixes():
                return f"{why}: cannot tell which landing-bucket prefix module {call.module} uses"
            for prefix in [*s3_prefixes()[call.module], *s3_prefixes().get("dags", ())]:
                if action == "s3:ListBucket":
                    requests.append(Request(action, f"arn:aws:s3:::{bucket}", (("s3:prefix", prefix),), why))
                else:
                    requests.append(Request(action, f"arn:aws:s3:::{bucket}/{prefix}example.file", (), why))
        elif action == "bedrock:InvokeModel":
            # Converse writes the emails (campaign model), InvokeModel embeds (Titan): both are bedrock:InvokeModel
            model = CampaignConfig().model_id if call.operation.startswith("Converse") else EmbeddingConfig().model_id
            requests.append(Request(action, f"arn:aws:bedrock:{region}::foundation-model/{model}", (), why))
        elif action == "bedrock:CreateModelInvocationJob":
            model = CampaignConfig().model_id
            requests.append(Request(action, f"arn:aws:bedrock:{region}::foundation-model/{model}", (), why))
            requests.append(Request(action, f"arn:aws:bedrock:{region}:{account}:model-invocation-job/abc123", (), why))
        elif action == "bedrock:GetModelInvocationJob":
            requests.append(Request(action, f"arn:aws:bedrock:{region}:{account}:model-invocation-job/abc123", (), why))
        elif action == "iam:PassRole":
            role_name = LOCAL_ROLE_ARN.rsplit("/", 1)[-1]
            requests.append(Request(action, f"arn:aws:iam::{account}:role/{role_name}",
                                    (("iam:PassedToService", "bedrock.amazonaws.com"),), why))
        elif action.startswith("comprehend:"):
            requests.append(Request(action, "*", (("aws:RequestedRegion", region),), why))
        else:
            return f"{why} -> {action}: this test does not know its resources; add them to requests_for"
    return requests


@functools.cache
def service_model(service: str) -> Any:
    """botocore's model of an AWS service (shipped with botocore: no network)."""
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def api_signing(service: str) -> str:
    return service_model(service).signing_name


def _substitute(text: str) -> str:
    return _PLACEHOLDER.sub(lambda m: PLACEHOLDERS[m[1]], text)


def required_requests() -> tuple[list[Request], list[str]]:
    requests: list[Request] = []
    problems: list[str] = []
    for call in aws_calls():
        found = requests_for(call)
        if isinstance(found, str):
            problems.append(found)
        else:
            requests.extend(found)
    return requests, problems


def test_the_code_scan_finds_the_aws_calls_the_pipelines_make() -> None:
    # the scan is what the policy is checked against: it must see the known calls, or it proves nothing
    seen = {(c.service, c.operation) for c in aws_calls()}
    for expected in [("bedrock-runtime", "Converse"), ("bedrock-runtime", "InvokeModel"),
                     ("bedrock", "CreateModelInvocationJob"), ("bedrock", "GetModelInvocationJob"),
                     ("comprehend", "BatchDetectSentiment"), ("s3", "GetObject"), ("S3Hook", "iter_file_metadata")]:
        assert expected in seen, f"the scan of plugins/ and include/ no longer finds {expected}"
    # tiktoken's TokenCounter.count_tokens(text) is not bedrock-runtime CountTokens (positional argument)
    assert ("bedrock-runtime", "CountTokens") not in seen


def test_every_aws_call_in_the_code_is_allowed_by_the_pipelines_policy() -> None:
    requests, problems = required_requests()
    assert not problems, "\n".join(problems)
    policy = load_policy(PIPELINES_POLICY, PLACEHOLDERS)
    denied = sorted({f"{r.why} -> {r.action} on {_substitute(r.resource)}"
                     + (f" with {dict(r.context)}" if r.context else "")
                     for r in requests
                     if not allowed(policy, r.action, _substitute(r.resource),
                                    {k: _substitute(v) for k, v in r.context})})
    assert not denied, "deploy/aws/pipelines-policy.json does not allow:\n" + "\n".join(denied)


def test_the_pipelines_policy_allows_nothing_the_code_does_not_need() -> None:
    requests, problems = required_requests()
    assert not problems, "\n".join(problems)
    policy = load_policy(PIPELINES_POLICY, PLACEHOLDERS)
    extra = []
    for statement in policy["Statement"]:
        actions = {a.lower() for a in _as_list(statement["Action"])}
        wanted = [r for r in requests if r.action.lower() in actions]
        for action in sorted(actions - {r.action.lower() for r in wanted}):
            extra.append(f"{statement['Sid']}: {action}: plugins/ and include/ never need it")
        for resource in _as_list(statement["Resource"]):
            if not any(_matches(resource, _substitute(r.resource)) for r in wanted):
                extra.append(f"{statement['Sid']}: {resource} is not a resource the code uses with {sorted(actions)}")
        for key, values in (statement.get("Condition") or {}).get("StringLike", {}).items():
            used = [_substitute(dict(r.context)[key]) for r in wanted if key in dict(r.context)]
            for pattern in _as_list(values):
                if not any(_matches(pattern, u) for u in used):
                    extra.append(f"{statement['Sid']}: {key} {pattern} matches nothing the code asks for")
    assert not extra, "deploy/aws/pipelines-policy.json allows more than the DAGs call:\n" + "\n".join(extra)


def test_default_model_ids_and_landing_prefixes_are_in_the_policy() -> None:
    from include.campaign.config import CampaignConfig
    from include.knowledge.embedding import EmbeddingConfig

    text = PIPELINES_POLICY.read_text()
    for model in (CampaignConfig().model_id, EmbeddingConfig().model_id):
        assert f"foundation-model/{model}\"" in text, f"default model {model} is not a resource of the policy"
    for module, prefixes in s3_prefixes().items():
        for prefix in prefixes:
            assert f"/{prefix}*\"" in text, f"prefix {prefix} ({module}) is not in the policy's resources"
    # the names DESIGN.md promises for the landing layout
    assert {p for ps in s3_prefixes().values() for p in ps} >= {"pos/", "documents/", "catalog/", "customers/"}


def test_the_batch_inference_role_can_do_what_the_jobs_need() -> None:
    from genai_personalization.operators.campaign_batch import batch_prefix

    from include.campaign.batch_records import INPUT_FILE

    bucket, account, region = (PLACEHOLDERS[k] for k in ("LANDING_BUCKET", "ACCOUNT_ID", "REGION"))
    prefix = batch_prefix({"campaign_id": "email-2025-01-01", "run_id": "scheduled__2025-01-01", "batch_no": 3})
    policy = load_policy(BATCH_POLICY, PLACEHOLDERS)
    in_account = {"aws:ResourceAccount": account}
    # where start_batch_job writes the input and complete_batch_job reads the output
    name = BATCH_POLICY.name
    assert allowed(policy, "s3:GetObject", f"arn:aws:s3:::{bucket}/{prefix}/{INPUT_FILE}", in_account), \
        f"{name}: Bedrock cannot read the job input {prefix}/{INPUT_FILE}"
    assert allowed(policy, "s3:PutObject", f"arn:aws:s3:::{bucket}/{prefix}/output/job1/{INPUT_FILE}.out",
                   in_account), f"{name}: Bedrock cannot write the job output under {prefix}/output/"
    assert allowed(policy, "s3:ListBucket", f"arn:aws:s3:::{bucket}", {**in_account, "s3:prefix": f"{prefix}/"}), \
        f"{name}: Bedrock cannot list {prefix}/"
    # and nothing else of the landing bucket
    assert not allowed(policy, "s3:GetObject", f"arn:aws:s3:::{bucket}/customers/x.csv", in_account), \
        f"{name}: Bedrock may read customers/ (customer PII)"
    assert not allowed(policy, "s3:PutObject", f"arn:aws:s3:::{bucket}/{prefix}/{INPUT_FILE}", in_account), \
        f"{name}: Bedrock may overwrite the job input (only output/ is its to write)"
    trust = load_policy(BATCH_TRUST, PLACEHOLDERS)["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "bedrock.amazonaws.com"}]
    condition = trust[0]["Condition"]
    assert condition["StringEquals"]["aws:SourceAccount"] == account
    assert condition["ArnLike"]["aws:SourceArn"] == f"arn:aws:bedrock:{region}:{account}:model-invocation-job/*"
    # the pipelines may pass exactly this role, and only to Bedrock
    from include.campaign.batch_records import LOCAL_ROLE_ARN

    role = f"arn:aws:iam::{account}:role/{LOCAL_ROLE_ARN.rsplit('/', 1)[-1]}"
    pipelines = load_policy(PIPELINES_POLICY, PLACEHOLDERS)
    assert allowed(pipelines, "iam:PassRole", role, {"iam:PassedToService": "bedrock.amazonaws.com"}), \
        f"the pipelines cannot pass {role} to Bedrock"
    assert not allowed(pipelines, "iam:PassRole", role, {"iam:PassedToService": "ec2.amazonaws.com"}), \
        f"the pipelines may pass {role} to services other than Bedrock"
    assert not allowed(pipelines, "iam:PassRole", f"arn:aws:iam::{account}:role/admin",
                       {"iam:PassedToService": "bedrock.amazonaws.com"}), "the pipelines may pass other roles than it"
    assert role.rsplit("/", 1)[-1] in DOC.read_text(), "docs/real-cloud.md does not name the batch role"


def test_the_pipelines_role_trusts_only_the_airflow_workers() -> None:
    trust = load_policy(PIPELINES_TRUST, PLACEHOLDERS)["Statement"]
    assert [(s["Effect"], s["Action"], s["Principal"]) for s in trust] == [
        ("Allow", "sts:AssumeRole", {"AWS": PLACEHOLDERS["AIRFLOW_PRINCIPAL_ARN"]})]


def test_the_cross_region_overlay_reaches_the_model_only_through_its_profile() -> None:
    from include.campaign.config import CampaignConfig

    model = CampaignConfig().model_id
    region, account, geo = (PLACEHOLDERS[k] for k in ("REGION", "ACCOUNT_ID", "GEO"))
    profile = f"arn:aws:bedrock:{region}:{account}:inference-profile/{geo}.{model}"
    policy = load_policy(CROSS_REGION_POLICY, PLACEHOLDERS)
    assert allowed(policy, "bedrock:InvokeModel", profile), f"{CROSS_REGION_POLICY.name} does not allow {profile}"
    elsewhere = f"arn:aws:bedrock:eu-west-3::foundation-model/{model}"
    assert allowed(policy, "bedrock:InvokeModel", elsewhere, {"bedrock:InferenceProfileArn": profile}), \
        f"{CROSS_REGION_POLICY.name}: the profile cannot reach {model} in the regions it routes to"
    assert not allowed(policy, "bedrock:InvokeModel", elsewhere), "the model is reachable without the profile"
    other = f"arn:aws:bedrock:{region}::foundation-model/anthropic.claude-3-opus-20240229-v1:0"
    assert not allowed(policy, "bedrock:InvokeModel", other, {"bedrock:InferenceProfileArn": profile}), \
        f"{CROSS_REGION_POLICY.name} allows models other than {model}"


def _walk_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk_strings(item)
    elif isinstance(value, Iterable):
        for item in value:
            yield from _walk_strings(item)


def test_policies_hold_no_account_region_or_bucket_of_their_own() -> None:
    for path in AWS_DIR.glob("*.json"):
        for text in _walk_strings(load_policy(path)):
            assert not re.search(r"\b\d{12}\b", text), f"deploy/aws/{path.name}: an account id in {text}"
            assert not re.search(r"\b(us|eu|ap|ca|sa|me|af)-[a-z]+-\d\b", text), \
                f"deploy/aws/{path.name}: a region in {text} (use ${{REGION}})"
