"""Snowflake dynamic tables for fakesnow: real tables that really refresh.

A dynamic table is materialised as an ordinary DuckDB table (``CREATE OR REPLACE TABLE .. AS
<query>``, run through fakesnow so the query is Snowflake SQL). Its definition, scheduling state
and refresh history are kept in DuckDB, in the ``_fs_global`` database fakesnow attaches to every
instance. DuckDB rather than a Python structure because:

- the metadata lives and dies with its fakesnow instance (the server's shared instance, each
  ``fakesnow.patch()``), so no registry keyed by instance is needed;
- SHOW DYNAMIC TABLES and the refresh-history table function become plain SQL over it, so
  WHERE / ORDER BY / LIMIT on the history work for free;
- DuckDB transactions keep it consistent between the server's request threads and the scheduler.

All mutations and refreshes also run under one process-wide lock, so two refreshes of the same
table never interleave (a stand-in needs correctness here, not throughput).

Stand-in only: ``SELECT SYSTEM$LOCAL_AGE_DYNAMIC_TABLE('DB.S.T', seconds)`` moves a table's
data_timestamp back, so a test can make it stale without waiting, and
``SELECT SYSTEM$LOCAL_DYNAMIC_TABLE_SCHEDULER('PAUSE' | 'RESUME' | 'STATUS')`` pauses the scheduled
refresh, so a table made stale stays stale until the test has looked at it.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import sqlglot
from duckdb import DuckDBPyConnection
from snowflake.connector.errors import ProgrammingError
from sqlglot import exp

logger = logging.getLogger(__name__)

META = "_fs_global._local_dynamic_tables"
_LOCK = threading.RLock()

_STORE_SQL = f"""
CREATE SCHEMA IF NOT EXISTS {META};
CREATE TABLE IF NOT EXISTS {META}.tables (
    database_name VARCHAR, schema_name VARCHAR, name VARCHAR,
    text VARCHAR, query VARCHAR, target_lag VARCHAR, target_lag_seconds BIGINT,
    warehouse VARCHAR, refresh_mode VARCHAR, initialize VARCHAR, comment VARCHAR,
    scheduling_state VARCHAR, created_on TIMESTAMPTZ, data_timestamp TIMESTAMPTZ,
    last_suspended_on TIMESTAMPTZ, rows BIGINT,
    context_database VARCHAR, context_schema VARCHAR
);
CREATE TABLE IF NOT EXISTS {META}.refresh_history (
    name VARCHAR, schema_name VARCHAR, database_name VARCHAR, qualified_name VARCHAR,
    state VARCHAR, state_code VARCHAR, state_message VARCHAR, query_id VARCHAR,
    data_timestamp TIMESTAMPTZ, refresh_start_time TIMESTAMPTZ, refresh_end_time TIMESTAMPTZ,
    refresh_action VARCHAR, refresh_trigger VARCHAR, target_lag_sec BIGINT
);
"""

# --------------------------------------------------------------------------------------------
# names and errors


_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_NAME = rf"{_IDENT}(?:\s*\.\s*{_IDENT}){{0,2}}"


def _ident_value(part: str) -> str:
    # Snowflake: unquoted identifiers are upper-cased, quoted ones kept as written
    return part[1:-1].replace('""', '"') if part.startswith('"') else part.upper()


def _quote(part: str) -> str:
    return '"' + part.replace('"', '""') + '"'


@dataclass(frozen=True)
class Name:
    database: str
    schema: str
    name: str

    @property
    def qualified(self) -> str:
        return f"{self.database}.{self.schema}.{self.name}"

    @property
    def sql(self) -> str:
        return ".".join(_quote(p) for p in (self.database, self.schema, self.name))


def resolve(text: str, database: str | None, schema: str | None) -> Name:
    """Resolve a (partly) qualified Snowflake name against the session's database and schema."""
    parts = [_ident_value(p) for p in re.findall(_IDENT, text)]
    if not 1 <= len(parts) <= 3:
        raise _error(f"SQL compilation error:\ninvalid identifier '{text}'", 904, "42000")
    name = parts[-1]
    schema = parts[-2] if len(parts) >= 2 else schema
    database = parts[-3] if len(parts) == 3 else database
    if not database:
        raise _error(
            "Cannot perform operation. This session does not have a current database. "
            "Call 'USE DATABASE', or use a qualified name.",
            90105,
            "22000",
        )
    if not schema:
        raise _error(
            "Cannot perform operation. This session does not have a current schema. "
            "Call 'USE SCHEMA', or use a qualified name.",
            90106,
            "22000",
        )
    return Name(database, schema, name)


def _error(msg: str, errno: int, sqlstate: str) -> ProgrammingError:
    return ProgrammingError(msg=msg, errno=errno, sqlstate=sqlstate)


def _not_found(name: Name | str) -> ProgrammingError:
    text = name.qualified if isinstance(name, Name) else name
    return _error(f"SQL compilation error:\nDynamic table '{text}' does not exist or not authorized.", 2003, "02000")


def _syntax_error(sql: str, position: int) -> ProgrammingError:
    near = sql[position : position + 30].split("\n")[0]
    return _error(
        f"SQL compilation error:\nsyntax error line 1 at position {position} unexpected '{near}'.", 1003, "42000"
    )


# DuckDB's binder errors for a column the query names but its source no longer has (the usual cause
# of a failing dynamic-table refresh), and Snowflake's words for it
_MISSING_COLUMN = [
    re.compile(r'Table "(?P<table>[^"]+)" does not have a column named "(?P<column>[^"]+)"'),
    re.compile(r'Referenced column "(?P<column>[^"]+)" not found'),
]


def _as_snowflake_error(error: ProgrammingError) -> ProgrammingError:
    """Snowflake's 'invalid identifier' for DuckDB's missing-column binder errors; other errors as they are.

    A refresh error is what on-call reads in the refresh history and in freshness alerts, so it should
    read like Snowflake's (which also names the position; the stand-in cannot).
    """
    message = error.raw_msg or ""
    for pattern in _MISSING_COLUMN:
        if match := pattern.search(message):
            identifier = ".".join(v.upper() for v in (match.groupdict().get("table"), match["column"]) if v)
            return _error(f"SQL compilation error:\ninvalid identifier '{identifier}'", 904, "42000")
    return error


_LAG = re.compile(r"^\s*(\d+)\s*(seconds?|secs?|minutes?|mins?|hours?|days?)\s*$", re.I)
_LAG_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_target_lag(value: str) -> tuple[str, int | None]:
    """'5 minutes' -> ('5 minutes', 300); DOWNSTREAM -> ('DOWNSTREAM', None)."""
    if value.upper() == "DOWNSTREAM":
        return "DOWNSTREAM", None
    match = _LAG.match(value)
    seconds = int(match[1]) * _LAG_UNITS[match[2][0].lower()] if match else 0
    # Snowflake's minimum target lag is one minute
    if seconds < 60:
        raise _error(f"SQL compilation error:\ninvalid value ['{value}'] for parameter 'TARGET_LAG'", 1008, "22023")
    return value.strip(), seconds


def _unquote_value(value: str) -> str:
    return value[1:-1].replace("''", "'") if value.startswith("'") else value


# --------------------------------------------------------------------------------------------
# statements

_CREATE = re.compile(
    rf"^CREATE\s+(?P<replace>OR\s+REPLACE\s+)?(?:TRANSIENT\s+)?DYNAMIC\s+TABLE\s+"
    rf"(?P<ine>IF\s+NOT\s+EXISTS\s+)?(?P<name>{_NAME})(?P<rest>.*)$",
    re.I | re.S,
)
_CLAUSE = re.compile(
    r"""\s*(?:
        (?P<key>[A-Za-z_]+)\s*=\s*(?P<value>'(?:[^']|'')*'|[^\s()]+)
      | CLUSTER\s+BY\s*\([^)]*\)
      | (?P<as>AS)\b
    )""",
    re.I | re.X | re.S,
)
_ALTER = re.compile(rf"^ALTER\s+DYNAMIC\s+TABLE\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{_NAME})\s+(?P<action>.+)$", re.I | re.S)
_DROP = re.compile(
    rf"^DROP\s+DYNAMIC\s+TABLE\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{_NAME})\s*(?:CASCADE|RESTRICT)?$", re.I | re.S
)
_SHOW = re.compile(
    rf"^SHOW\s+(?:TERSE\s+)?DYNAMIC\s+TABLES"
    rf"(?:\s+LIKE\s+'(?P<like>(?:[^']|'')*)')?"
    rf"(?:\s+IN\s+(?:(?P<account>ACCOUNT)|(?P<in_db>DATABASE)(?:\s+(?P<db>{_IDENT}))?"
    rf"|(?P<in_schema>SCHEMA)(?:\s+(?P<schema>{_NAME}))?|(?P<bare>{_NAME})))?"
    rf"(?:\s+STARTS\s+WITH\s+'(?P<starts>(?:[^']|'')*)')?"
    rf"(?:\s+LIMIT\s+(?P<limit>\d+))?$",
    re.I | re.S,
)
_DESCRIBE = re.compile(rf"^DESC(?:RIBE)?\s+DYNAMIC\s+TABLE\s+(?P<name>{_NAME})$", re.I | re.S)
_AGE = re.compile(
    r"^SELECT\s+SYSTEM\$LOCAL_AGE_DYNAMIC_TABLE\s*\(\s*'(?P<name>[^']+)'\s*,\s*(?P<seconds>\d+)\s*\)$", re.I | re.S
)
_SCHEDULER_CONTROL = re.compile(
    r"^SELECT\s+SYSTEM\$LOCAL_DYNAMIC_TABLE_SCHEDULER\s*\(\s*'(?P<action>[^']*)'\s*\)$", re.I | re.S
)
_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*\n?|/\*.*?\*/)+", re.S)

# the statement kinds sqlglot should report for each, so the server sends the right statement type
_EXPRESSION_KINDS: list[tuple[re.Pattern[str], Callable[[], exp.Expr]]] = [
    (_CREATE, lambda: exp.Create(kind="TABLE")),
    (_ALTER, lambda: exp.Alter(kind="TABLE")),
    (_DROP, lambda: exp.Drop(kind="TABLE")),
    (_SHOW, lambda: exp.Show(this="DYNAMIC TABLES")),
    (_AGE, lambda: exp.select("1")),
    (_SCHEDULER_CONTROL, lambda: exp.select("1")),
]


def _strip(sql: str) -> str:
    return _COMMENTS.sub("", sql).strip().rstrip(";").strip()


def statement_expression(sql: str) -> exp.Expr | None:
    """A stand-in sqlglot expression for a dynamic-table statement, else None.

    sqlglot cannot parse most of these statements (it falls back to a Command with a warning, or
    drops the TARGET_LAG/WAREHOUSE properties), but fakesnow's server parses every statement to
    find its type before running it.
    """
    text = _strip(sql)
    return next((make() for pattern, make in _EXPRESSION_KINDS if pattern.match(text)), None)


@dataclass
class CreateStatement:
    text: str
    name: str
    replace: bool
    if_not_exists: bool
    query: str
    columns: list[str]
    target_lag: str
    target_lag_seconds: int | None
    warehouse: str
    refresh_mode: str
    initialize: str
    comment: str | None


_IGNORED_PROPERTIES = {"DATA_RETENTION_TIME_IN_DAYS", "MAX_DATA_EXTENSION_TIME_IN_DAYS", "DEFAULT_DDL_COLLATION"}


def _outside_quotes(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, paren depth after it) for every character outside quoted strings."""
    depth, quote = 0, ""
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
            continue
        if ch in "'\"":
            quote = ch
            continue
        depth += {"(": 1, ")": -1}.get(ch, 0)
        yield i, ch, depth


def _split_top_level(text: str) -> list[str]:
    items, start = [], 0
    for i, ch, depth in _outside_quotes(text):
        if ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [i.strip() for i in items if i.strip()]


def _closing_paren(text: str, open_at: int) -> int:
    for i, ch, depth in _outside_quotes(text, open_at):
        if ch == ")" and depth == 0:
            return i
    raise _syntax_error(text, open_at)


def parse_create(sql: str) -> CreateStatement | None:
    text = _strip(sql)
    if not (match := _CREATE.match(text)):
        return None
    rest, offset = match["rest"], match.start("rest")
    columns: list[str] = []
    pos = len(rest) - len(rest.lstrip())
    if rest[pos : pos + 1] == "(":
        end = _closing_paren(rest, pos)
        # a column list item is a name, optionally followed by a type or a COMMENT
        columns = [re.match(_IDENT, item)[0] for item in _split_top_level(rest[pos + 1 : end])]  # type: ignore[index]
        pos = end + 1
    props: dict[str, str] = {}
    while True:
        clause = _CLAUSE.match(rest, pos)
        if not clause:
            raise _syntax_error(text, offset + pos)
        pos = clause.end()
        if clause["as"]:
            break
        if clause["key"]:
            props[clause["key"].upper()] = clause["value"]
    query = rest[pos:].strip()
    if not query:
        raise _syntax_error(text, len(text))

    if missing := [p for p in ("TARGET_LAG", "WAREHOUSE") if p not in props]:
        raise _error(f"SQL compilation error:\nMissing option(s): [{', '.join(missing)}]", 1008, "22023")
    if unknown := set(props) - {"TARGET_LAG", "WAREHOUSE", "REFRESH_MODE", "INITIALIZE", "COMMENT"} - _IGNORED_PROPERTIES:
        raise _error(f"SQL compilation error:\ninvalid property '{sorted(unknown)[0]}' for 'DYNAMIC TABLE'", 1008, "22023")
    target_lag, lag_seconds = parse_target_lag(_unquote_value(props["TARGET_LAG"]))
    refresh_mode = _unquote_value(props.get("REFRESH_MODE", "AUTO")).upper()
    initialize = _unquote_value(props.get("INITIALIZE", "ON_CREATE")).upper()
    if refresh_mode not in {"AUTO", "FULL", "INCREMENTAL"}:
        raise _error(f"SQL compilation error:\ninvalid value '{refresh_mode}' for property 'REFRESH_MODE'", 1008, "22023")
    if initialize not in {"ON_CREATE", "ON_SCHEDULE"}:
        raise _error(f"SQL compilation error:\ninvalid value '{initialize}' for property 'INITIALIZE'", 1008, "22023")
    return CreateStatement(
        text=text,
        name=match["name"],
        replace=bool(match["replace"]),
        if_not_exists=bool(match["ine"]),
        query=query,
        columns=columns,
        target_lag=target_lag,
        target_lag_seconds=lag_seconds,
        warehouse=_ident_value(props["WAREHOUSE"]),
        refresh_mode=refresh_mode,
        initialize=initialize,
        comment=_unquote_value(props["COMMENT"]) if "COMMENT" in props else None,
    )


# --------------------------------------------------------------------------------------------
# the store: one per fakesnow instance (ie: per DuckDB database)


def _now() -> datetime:
    return datetime.now(UTC)


_TABLE_COLUMNS = (
    "database_name, schema_name, name, text, query, target_lag, target_lag_seconds, warehouse, refresh_mode, "
    "initialize, comment, scheduling_state, created_on, data_timestamp, last_suspended_on, rows, "
    "context_database, context_schema"
)


@dataclass
class Definition:
    database_name: str
    schema_name: str
    name: str
    text: str
    query: str
    target_lag: str
    target_lag_seconds: int | None
    warehouse: str
    refresh_mode: str
    initialize: str
    comment: str | None
    scheduling_state: str
    created_on: datetime
    data_timestamp: datetime | None
    last_suspended_on: datetime | None
    rows: int | None
    context_database: str | None
    context_schema: str | None

    @property
    def ident(self) -> Name:
        return Name(self.database_name, self.schema_name, self.name)


class DynamicTables:
    """The dynamic tables of one fakesnow instance."""

    def __init__(self, duck: DuckDBPyConnection) -> None:
        # our own connection, so we never disturb the result set or transaction of a session
        self._duck = duck.cursor()
        self._ensure_store()

    def close(self) -> None:
        self._duck.close()

    def _ensure_store(self) -> None:
        with _LOCK:
            (count,) = self._duck.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = '_fs_global' "
                "AND schema_name = '_local_dynamic_tables'"
            ).fetchone()  # type: ignore[misc]
            if count < 2:
                self._duck.execute(_STORE_SQL)

    def _worker(self, database: str | None, schema: str | None) -> Any:
        """A fakesnow connection of our own, so refresh queries are Snowflake SQL run by fakesnow."""
        from fakesnow.conn import FakeSnowflakeConnection

        return FakeSnowflakeConnection(
            self._duck.cursor(), {}, database, schema, create_database=False, create_schema=False
        )

    def _run(self, sql: str, database: str | None, schema: str | None) -> list[tuple]:
        conn = self._worker(database, schema)
        try:
            return conn.cursor().execute(sql).fetchall()  # type: ignore[return-value]
        except ProgrammingError as e:
            raise _as_snowflake_error(e) from e
        finally:
            conn.close()

    # ---- reads

    def get(self, name: Name) -> Definition | None:
        row = self._duck.execute(
            f"SELECT {_TABLE_COLUMNS} FROM {META}.tables WHERE database_name = ? AND schema_name = ? AND name = ?",
            [name.database, name.schema, name.name],
        ).fetchone()
        return Definition(*row) if row else None

    def require(self, name: Name) -> Definition:
        if (definition := self.get(name)) is None or not self._table_exists(name):
            raise _not_found(name)
        return definition

    def _table_exists(self, name: Name) -> bool:
        return bool(
            self._duck.execute(
                "SELECT 1 FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ?",
                [name.database, name.schema, name.name],
            ).fetchone()
        )

    def all(self) -> list[Definition]:
        rows = self._duck.execute(f"SELECT {_TABLE_COLUMNS} FROM {META}.tables").fetchall()
        return [Definition(*r) for r in rows]

    # ---- DDL

    def create(self, stmt: CreateStatement, database: str | None, schema: str | None) -> str:
        name = resolve(stmt.name, database, schema)
        with _LOCK:
            exists = self._table_exists(name)
            if exists and stmt.if_not_exists:
                return f"{name.name} already exists, statement succeeded."
            if exists and not stmt.replace:
                raise _error(f"SQL compilation error:\nObject '{name.qualified}' already exists.", 2002, "42710")

            query = stmt.query
            if stmt.columns:
                query = f"SELECT * FROM ({query}) AS _dt_columns({', '.join(stmt.columns)})"
            start = _now()
            # INITIALIZE = ON_SCHEDULE creates the table empty; its first refresh fills it
            body = query if stmt.initialize == "ON_CREATE" else f"SELECT * FROM ({query}) AS _dt_empty LIMIT 0"
            # run in the creating session's context, like every later refresh of this query
            self._run(f"CREATE OR REPLACE TABLE {name.sql} AS {body}", database, schema)
            rows = self._count(name) if stmt.initialize == "ON_CREATE" else 0

            self._duck.execute("BEGIN")
            try:
                self._duck.execute(
                    f"DELETE FROM {META}.tables WHERE database_name = ? AND schema_name = ? AND name = ?",
                    [name.database, name.schema, name.name],
                )
                # a replaced dynamic table is a new object, with a history of its own
                self._duck.execute(f"DELETE FROM {META}.refresh_history WHERE qualified_name = ?", [name.qualified])
                self._duck.execute(
                    f"INSERT INTO {META}.tables ({_TABLE_COLUMNS}) VALUES ({', '.join('?' * 18)})",
                    [
                        name.database, name.schema, name.name, stmt.text, query, stmt.target_lag,
                        stmt.target_lag_seconds, stmt.warehouse, stmt.refresh_mode, stmt.initialize, stmt.comment,
                        "RUNNING", start, start if stmt.initialize == "ON_CREATE" else None, None, rows,
                        database, schema,
                    ],
                )  # fmt: skip
                self._duck.execute("COMMIT")
            except Exception:
                self._duck.execute("ROLLBACK")
                raise
            if stmt.initialize == "ON_CREATE":
                self._record(self.require(name), "SUCCEEDED", None, None, start, "CREATION", "REINITIALIZE")
        logger.info("created dynamic table %s", name.qualified)
        return f"Dynamic table {name.name} successfully created."

    def drop(self, name: Name, if_exists: bool) -> str:
        with _LOCK:
            if self.get(name) is None or not self._table_exists(name):
                if if_exists:
                    return f"Drop statement executed successfully ({name.name} already dropped)."
                raise _not_found(name)
            self._run(f"DROP TABLE IF EXISTS {name.sql}", None, None)
            self._duck.execute(
                f"DELETE FROM {META}.tables WHERE database_name = ? AND schema_name = ? AND name = ?",
                [name.database, name.schema, name.name],
            )
        return f"{name.name} successfully dropped."

    def alter(self, name: Name, action: str) -> str:
        words = action.split()
        verb = words[0].upper()
        with _LOCK:
            self.require(name)
            if verb == "REFRESH" and len(words) == 1:
                self.refresh(name, "MANUAL")
            elif verb in {"SUSPEND", "RESUME"} and len(words) == 1:
                state = "SUSPENDED" if verb == "SUSPEND" else "RUNNING"
                self._update(name, "scheduling_state = ?", [state])
                if verb == "SUSPEND":
                    self._update(name, "last_suspended_on = ?", [_now()])
            elif verb == "SET":
                self._alter_set(name, action[len(words[0]) :])
            else:
                raise _syntax_error(action, 0)
        return "Statement executed successfully."

    def _alter_set(self, name: Name, assignments: str) -> None:
        pos = 0
        while pos < len(assignments.rstrip()):
            clause = _CLAUSE.match(assignments, pos)
            if not clause or not clause["key"]:
                raise _syntax_error(assignments, pos)
            pos = clause.end()
            key, value = clause["key"].upper(), _unquote_value(clause["value"])
            if key == "TARGET_LAG":
                lag, seconds = parse_target_lag(value)
                self._update(name, "target_lag = ?, target_lag_seconds = ?", [lag, seconds])
            elif key == "WAREHOUSE":
                self._update(name, "warehouse = ?", [_ident_value(value)])
            elif key == "COMMENT":
                self._update(name, "comment = ?", [value])
            elif key not in _IGNORED_PROPERTIES:
                raise _error(f"SQL compilation error:\ninvalid property '{key}' for 'DYNAMIC TABLE'", 1008, "22023")

    def _update(self, name: Name, assignments: str, params: list[Any]) -> None:
        self._duck.execute(
            f"UPDATE {META}.tables SET {assignments} WHERE database_name = ? AND schema_name = ? AND name = ?",
            [*params, name.database, name.schema, name.name],
        )

    def age(self, name: Name, seconds: int) -> str:
        """Stand-in only: pretend the table's data was refreshed `seconds` earlier than it was."""
        with _LOCK:
            self.require(name)
            self._update(name, "data_timestamp = data_timestamp - to_seconds(?)", [seconds])
        return f"Dynamic table {name.qualified} aged by {seconds} seconds (local stand-in only)."

    # ---- refresh

    def refresh(self, name: Name, trigger: str, _visiting: frozenset[Name] = frozenset()) -> None:
        """Recompute the table from its query; on failure keep the old rows and record FAILED.

        Upstream dynamic tables that are RUNNING refresh first, as in Snowflake, which is also what
        makes TARGET_LAG = DOWNSTREAM tables refresh when a table reading them does.
        """
        with _LOCK:
            definition = self.require(name)
            start = _now()
            try:
                for upstream in self._upstream(definition):
                    if upstream not in _visiting and upstream != name:
                        upstream_def = self.get(upstream)
                        if upstream_def and upstream_def.scheduling_state == "RUNNING":
                            self.refresh(upstream, trigger, _visiting | {name})
            except ProgrammingError as e:
                self._record(definition, "UPSTREAM_FAILED", _code(e), e.raw_msg, start, trigger, "NO_DATA")
                raise
            try:
                # DuckDB replaces the table in one statement: if the query fails, the old rows stay
                self._run(
                    f"CREATE OR REPLACE TABLE {name.sql} AS {definition.query}",
                    definition.context_database,
                    definition.context_schema,
                )
            except (ProgrammingError, duckdb.Error) as e:
                msg = e.raw_msg if isinstance(e, ProgrammingError) else str(e)
                self._record(definition, "FAILED", _code(e), msg, start, trigger, "FULL")
                logger.warning("refresh of dynamic table %s failed: %s", name.qualified, msg)
                raise e if isinstance(e, ProgrammingError) else _error(msg, 2003, "02000") from e
            self._update(name, "data_timestamp = ?, rows = ?", [start, self._count(name)])
            self._record(definition, "SUCCEEDED", None, None, start, trigger, "FULL")
            logger.info("refreshed dynamic table %s (%s)", name.qualified, trigger)

    def _count(self, name: Name) -> int:
        (count,) = self._duck.execute(f"SELECT count(*) FROM {name.sql}").fetchone()  # type: ignore[misc]
        return int(count)

    def _upstream(self, definition: Definition) -> list[Name]:
        try:
            tree = sqlglot.parse_one(definition.query, read="snowflake")
        except sqlglot.errors.ParseError:
            return []
        ctes = {cte.alias_or_name.upper() for cte in tree.find_all(exp.CTE)}
        names = []
        for table in tree.find_all(exp.Table):
            if not table.name or (not table.db and table.name.upper() in ctes):
                continue
            parts = [p.name if p.quoted else p.name.upper() for p in table.parts if isinstance(p, exp.Identifier)]
            if not 1 <= len(parts) <= 3:
                continue
            candidate = Name(
                parts[-3] if len(parts) == 3 else definition.context_database or "",
                parts[-2] if len(parts) >= 2 else definition.context_schema or "",
                parts[-1],
            )
            if self.get(candidate) is not None:
                names.append(candidate)
        return names

    def _record(
        self,
        definition: Definition,
        state: str,
        code: str | None,
        message: str | None,
        start: datetime,
        trigger: str,
        action: str,
    ) -> None:
        succeeded = state == "SUCCEEDED"
        self._duck.execute(
            f"INSERT INTO {META}.refresh_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                definition.name, definition.schema_name, definition.database_name, definition.ident.qualified,
                state, code, message, str(uuid.uuid4()), start if succeeded else definition.data_timestamp,
                start, _now(), action, trigger, definition.target_lag_seconds,
            ],
        )  # fmt: skip

    def due(self, now: datetime | None = None) -> list[Name]:
        """RUNNING tables whose lag (now - data_timestamp) has reached their target lag."""
        now = now or _now()
        return [
            d.ident
            for d in self.all()
            if d.scheduling_state == "RUNNING"
            and d.target_lag_seconds is not None
            and (d.data_timestamp is None or (now - d.data_timestamp) >= timedelta(seconds=d.target_lag_seconds))
            and self._table_exists(d.ident)
        ]


def _code(e: Exception) -> str:
    errno = getattr(e, "errno", None)
    return f"{errno:06d}" if isinstance(errno, int) and errno > 0 else "000000"


# --------------------------------------------------------------------------------------------
# SHOW and the refresh-history table function, as SQL over the store

_SHOW_SQL = f"""
SELECT
    t.created_on AS "created_on", t.name AS "name", t.database_name AS "database_name",
    t.schema_name AS "schema_name", '' AS "cluster_by", t.rows AS "rows", CAST(NULL AS BIGINT) AS "bytes",
    'SYSADMIN' AS "owner", t.target_lag AS "target_lag",
    CASE WHEN t.refresh_mode = 'AUTO' THEN 'FULL' ELSE t.refresh_mode END AS "refresh_mode",
    CASE WHEN t.refresh_mode = 'AUTO' THEN 'the local stand-in always refreshes fully' ELSE NULL END
        AS "refresh_mode_reason",
    t.warehouse AS "warehouse", coalesce(t.comment, '') AS "comment", t.text AS "text",
    'OFF' AS "automatic_clustering", t.scheduling_state AS "scheduling_state",
    t.last_suspended_on AS "last_suspended_on", false AS "is_clone", false AS "is_replica",
    false AS "is_iceberg", t.data_timestamp AS "data_timestamp", 'ROLE' AS "owner_role_type"
FROM {META}.tables AS t
WHERE EXISTS (
    SELECT 1 FROM duckdb_tables() AS d
    WHERE d.database_name = t.database_name AND d.schema_name = t.schema_name AND d.table_name = t.name
)
"""

_HISTORY_COLUMNS = (
    "NAME, SCHEMA_NAME, DATABASE_NAME, QUALIFIED_NAME, STATE, STATE_CODE, STATE_MESSAGE, QUERY_ID, "
    "DATA_TIMESTAMP, REFRESH_START_TIME, REFRESH_END_TIME, REFRESH_ACTION, REFRESH_TRIGGER, TARGET_LAG_SEC"
)


def show_sql(match: re.Match[str], database: str | None, schema: str | None) -> tuple[str, list[Any]]:
    where, params = [], []
    if match["like"] is not None:
        where.append("t.name ILIKE ?")
        params.append(match["like"].replace("''", "'"))
    if match["account"]:
        pass
    elif match["in_schema"] or match["bare"]:
        parts = [_ident_value(p) for p in re.findall(_IDENT, match["schema"] or match["bare"] or "")]
        where.append("t.database_name = ? AND t.schema_name = ?")
        params += parts[-2:] if len(parts) >= 2 else [database, parts[0] if parts else schema]
    elif match["in_db"]:
        where.append("t.database_name = ?")
        params.append(_ident_value(match["db"]) if match["db"] else database)
    elif database:
        # without IN, Snowflake searches the current database (or the account without one)
        where.append("t.database_name = ?")
        params.append(database)
    if match["starts"] is not None:
        where.append("starts_with(t.name, ?)")
        params.append(match["starts"].replace("''", "'"))
    sql = _SHOW_SQL + "".join(f" AND {w}" for w in where) + " ORDER BY t.database_name, t.schema_name, t.name"
    if match["limit"]:
        sql += f" LIMIT {int(match['limit'])}"
    return sql, params


def _kwargs(call: exp.Anonymous) -> dict[str, exp.Expr]:
    return {
        kw.this.name.upper(): kw.expression for kw in call.expressions if isinstance(kw, exp.Kwarg) and kw.this
    }


def history_transform(expression: exp.Expr, database: str | None, schema: str | None) -> exp.Expr:
    """Replace TABLE([db.]INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY(...)) with a subquery on the store.

    Runs before fakesnow's transforms, so the rest of the query (WHERE, ORDER BY, LIMIT, joins)
    is ordinary Snowflake SQL over that subquery.
    """

    def rewrite(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.TableFromRows):
            return node
        call, prefix = node.this, []
        while isinstance(call, exp.Dot):
            prefix.insert(0, call.this)
            call = call.expression
        if not (isinstance(call, exp.Anonymous) and call.name.upper() == "DYNAMIC_TABLE_REFRESH_HISTORY"):
            return node
        db = database
        if prefix and isinstance(prefix[0], exp.Dot):
            db = _ident_value(prefix[0].this.sql(dialect="snowflake"))
        kwargs = _kwargs(call)
        conditions = ["1 = 1"]
        if db:
            conditions.append(f"DATABASE_NAME = {exp.Literal.string(db).sql()}")
        if isinstance(name := kwargs.get("NAME"), exp.Literal):
            qualified = resolve(name.name, db, schema).qualified
            conditions.append(f"QUALIFIED_NAME = {exp.Literal.string(qualified).sql()}")
        elif isinstance(name, exp.Placeholder):
            conditions.append(f"QUALIFIED_NAME = UPPER({name.sql(dialect='snowflake')})")
        if isinstance(prefix_arg := kwargs.get("NAME_PREFIX"), exp.Literal):
            conditions.append(f"STARTS_WITH(QUALIFIED_NAME, {exp.Literal.string(prefix_arg.name.upper()).sql()})")
        if isinstance(error_only := kwargs.get("ERROR_ONLY"), exp.Boolean) and error_only.this:
            conditions.append("STATE IN ('FAILED', 'UPSTREAM_FAILED')")
        limit = kwargs.get("RESULT_LIMIT")
        limit_sql = f" LIMIT {int(limit.name)}" if isinstance(limit, exp.Literal) else " LIMIT 100"
        inner = sqlglot.parse_one(
            f"SELECT {_HISTORY_COLUMNS} FROM {META}.refresh_history WHERE {' AND '.join(conditions)} "
            f"ORDER BY REFRESH_START_TIME DESC{limit_sql}",
            read="snowflake",
        )
        alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier("DYNAMIC_TABLE_REFRESH_HISTORY"))
        return exp.Subquery(this=inner, alias=alias)

    if not expression.find(exp.TableFromRows):
        return expression
    return expression.transform(rewrite, copy=False)


# --------------------------------------------------------------------------------------------
# entry point from the fakesnow cursor


def run_statement(sql: str, duck: DuckDBPyConnection, database: str | None, schema: str | None) -> tuple[str, list]:
    """Run a dynamic-table statement; return the DuckDB SQL (and params) that produces its result.

    Raises LookupError if sql is not a dynamic-table statement.
    """
    text = _strip(sql)
    store = DynamicTables(duck)
    try:
        if (create := parse_create(text)) is not None:
            return _status(store.create(create, database, schema))
        if match := _ALTER.match(text):
            name = resolve(match["name"], database, schema)
            if match["ie"] and store.get(name) is None:
                return _status("Statement executed successfully.")
            return _status(store.alter(name, match["action"].strip()))
        if match := _DROP.match(text):
            return _status(store.drop(resolve(match["name"], database, schema), bool(match["ie"])))
        if match := _SHOW.match(text):
            return show_sql(match, database, schema)
        if match := _AGE.match(text):
            return _status(store.age(resolve(match["name"], database, schema), int(match["seconds"])), "status")
        if match := _SCHEDULER_CONTROL.match(text):
            return _status(control_scheduler(match["action"]), "status")
        if re.match(r"^(CREATE|ALTER|DROP|SHOW)\b.*\bDYNAMIC\s+TABLES?\b", text, re.I | re.S):
            raise _syntax_error(text, 0)
    finally:
        store.close()
    raise LookupError(sql)


_ANY_STATEMENT = re.compile(
    r"^(CREATE|ALTER|DROP|SHOW)\b(\s+(OR\s+REPLACE|TRANSIENT|TERSE))*\s+DYNAMIC\s+TABLES?\b", re.I | re.S
)


def is_statement(sql: str) -> bool:
    text = _strip(sql)
    return bool(_ANY_STATEMENT.match(text) or _AGE.match(text) or _SCHEDULER_CONTROL.match(text))


def rewrite_describe(sql: str) -> str:
    """DESCRIBE DYNAMIC TABLE x is DESCRIBE TABLE x, which fakesnow already answers like Snowflake."""
    text = _strip(sql)
    return f"DESCRIBE TABLE {match['name']}" if (match := _DESCRIBE.match(text)) else sql


def _status(message: str, column: str = "status") -> tuple[str, list]:
    # a literal, not a parameter, so DuckDB types the column VARCHAR when fakesnow describes it
    return f'SELECT {exp.Literal.string(message).sql(dialect="duckdb")} AS "{column}"', []


# --------------------------------------------------------------------------------------------
# scheduled refresh

# Process-wide, like the scheduler thread it pauses (the server has one shared instance). Set and
# read under _LOCK, so once PAUSE has answered no scheduled refresh is running or will start.
_SCHEDULER_PAUSED = threading.Event()


def control_scheduler(action: str) -> str:
    """Stand-in only: PAUSE / RESUME the scheduled refresh, or ask its STATUS; returns PAUSED or RUNNING.

    Manual refreshes (ALTER DYNAMIC TABLE .. REFRESH) still run while paused. Tests that pause must
    resume: the server, and so the pause, is shared by every test of a session.
    """
    verb = action.strip().upper()
    with _LOCK:
        if verb == "PAUSE":
            _SCHEDULER_PAUSED.set()
        elif verb == "RESUME":
            _SCHEDULER_PAUSED.clear()
        elif verb != "STATUS":
            raise _error(
                f"SQL compilation error:\ninvalid argument '{action}' for SYSTEM$LOCAL_DYNAMIC_TABLE_SCHEDULER: "
                "expected PAUSE, RESUME or STATUS",
                1008,
                "22023",
            )
        return "PAUSED" if _SCHEDULER_PAUSED.is_set() else "RUNNING"


class Scheduler:
    """Refreshes RUNNING dynamic tables whose lag has reached their target lag, like Snowflake.

    TARGET_LAG = DOWNSTREAM tables are never due on their own: they refresh when a table that reads
    them refreshes (see DynamicTables.refresh), or on ALTER ... REFRESH.
    """

    def __init__(self, duck: DuckDBPyConnection, interval: float = 1.0) -> None:
        self._duck = duck
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # a failing table is retried at most once a minute, not on every tick
        self._failed_at: dict[Name, datetime] = {}

    def tick(self, now: datetime | None = None) -> list[Name]:
        """Refresh every due table once (none while paused); return the ones refreshed successfully."""
        now = now or _now()
        if _SCHEDULER_PAUSED.is_set():
            return []
        store = DynamicTables(self._duck)
        refreshed = []
        try:
            for name in store.due(now):
                if (failed := self._failed_at.get(name)) and now - failed < timedelta(seconds=60):
                    continue
                with _LOCK:
                    if _SCHEDULER_PAUSED.is_set():  # paused during this tick
                        break
                    if name not in store.due(now):  # refreshed meanwhile as another table's upstream
                        continue
                    try:
                        store.refresh(name, "SCHEDULED")
                        self._failed_at.pop(name, None)
                        refreshed.append(name)
                    except ProgrammingError:
                        self._failed_at[name] = now
        finally:
            store.close()
        return refreshed

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.tick()
            except Exception:  # the scheduler must outlive any one bad tick
                logger.exception("dynamic table scheduler tick failed")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="dynamic-table-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
