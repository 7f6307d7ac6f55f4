"""Teach fakesnow (0.12.1) what the project needs and it lacks: VECTOR and dynamic tables.

``install()`` patches fakesnow at class / module level, so the same code serves both the TLS
server (``local.snowflake.server``) and in-process unit tests under ``fakesnow.patch()``:

- ``FakeSnowflakeCursor.execute``: dynamic-table statements (CREATE / ALTER / DROP / SHOW
  DYNAMIC TABLE(S), the stand-in-only SYSTEM$LOCAL_AGE_DYNAMIC_TABLE) are run here, everything
  else goes to fakesnow;
- ``FakeSnowflakeCursor._transform``: the refresh-history table function before fakesnow's
  transforms, VECTOR types and functions after them;
- ``parse_one`` as fakesnow's cursor and server call it: makes ``?::TYPE`` parseable and gives
  dynamic-table statements a statement type without sqlglot warnings;
- ``describe_as_rowtype``: reports FLOAT[n] / INTEGER[n] results as VECTOR columns;
- ``fakesnow.arrow.timestamp_to_sf_struct``: keeps NULL timestamps NULL through the server (fakesnow
  sends them as 1970-01-01, eg: SHOW DYNAMIC TABLES' last_suspended_on).
- ``fakesnow.transforms.extract_comment_on_table``: a CREATE with any property (TEMPORARY, say) but
  no COMMENT no longer records a comment of None in ``_fs_global``. DuckDB lets one transaction
  write to one database only, so that write broke every CREATE TEMPORARY TABLE, and every MERGE
  (fakesnow runs it through a temporary table), inside BEGIN ... COMMIT after a write elsewhere;
  Snowflake runs a MERGE inside a transaction.

It relies on fakesnow internals (``_transform``, ``_execute``, ``_conn``), so constraints.txt pins
fakesnow; the tests under tests/local/snowflake catch a change in them.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import sqlglot
from snowflake.connector.errors import ProgrammingError
from sqlglot import exp

from local.snowflake import dynamic_tables, vector

_installed = False


def _normalise(sql: str) -> str:
    return vector.normalise_sql(dynamic_tables.rewrite_describe(sql))


def _wrap_parse_one(original: Callable[[str], exp.Expr]) -> Callable[[str], exp.Expr]:
    @functools.wraps(original)
    def parse_one(command: str) -> exp.Expr:
        if (stand_in := dynamic_tables.statement_expression(command)) is not None:
            return stand_in
        return original(_normalise(command))

    parse_one.__local_snowflake__ = True  # type: ignore[attr-defined]
    return parse_one


def _wrap_extract_comment_on_table(original: Callable[[exp.Expr], exp.Expr]) -> Callable[[exp.Expr], exp.Expr]:
    @functools.wraps(original)
    def extract_comment_on_table(expression: exp.Expr) -> exp.Expr:
        new = original(expression)
        comment = new.args.get("table_comment")
        if comment is not None and comment[1] is None:
            del new.args["table_comment"]
        return new

    return extract_comment_on_table


def _wrap_timestamp_to_sf_struct(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    import pyarrow as pa
    import pyarrow.compute as pc

    @functools.wraps(original)
    def timestamp_to_sf_struct(ts: Any) -> Any:  # noqa: ANN401 (pyarrow arrays)
        struct = original(ts)
        if not ts.null_count:
            return struct
        # the struct itself must be null where the timestamp is, not a struct of null fields
        children = [pc.fill_null(struct.field(i), 0) for i in range(struct.type.num_fields)]
        mask = pc.is_null(ts.combine_chunks() if isinstance(ts, pa.ChunkedArray) else ts)
        return pa.StructArray.from_arrays(children, fields=list(struct.type), mask=mask)

    return timestamp_to_sf_struct


def _run_dynamic_table_statement(cursor: Any, command: str) -> Any:  # noqa: ANN401 (fakesnow cursor)
    conn = cursor._conn  # noqa: SLF001
    try:
        cursor._sqlstate = None  # noqa: SLF001
        if not conn._autocommit and conn._in_transaction and not command.lstrip().upper().startswith("SHOW"):  # noqa: SLF001
            # Snowflake commits the open transaction before DDL
            cursor._duck_conn.commit()  # noqa: SLF001
            conn._in_transaction = False  # noqa: SLF001
        sql, params = dynamic_tables.run_statement(command, cursor._duck_conn, conn.database, conn.schema)  # noqa: SLF001
        # let fakesnow run the result query, so result set, rowcount, sfqid and describe all work
        cursor._execute(sqlglot.parse_one(sql, read="duckdb"), params or None)  # noqa: SLF001
        return cursor
    except ProgrammingError as e:
        cursor._sqlstate = e.sqlstate  # noqa: SLF001
        raise


def as_sql_error(error: Exception) -> ProgrammingError:
    """A Snowflake-shaped error for anything fakesnow lets escape.

    fakesnow's server answers an unexpected exception with HTTP 500, and the Snowflake connector
    retries a 500 for minutes: a bad statement would look like a hang. As a ProgrammingError it
    reaches the client at once, as one line, like Snowflake's own errors.
    """
    import duckdb

    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if isinstance(error, (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.OutOfRangeException)):
        # bad data in a statement Snowflake supports, e.g. PARSE_JSON('{'): a data exception
        return ProgrammingError(msg=first_line, errno=100069, sqlstate="22000")
    return ProgrammingError(
        msg=f"the local Snowflake stand-in cannot run this statement: {type(error).__name__}: {first_line}",
        errno=2,
        sqlstate="0A000",  # feature not supported
    )


def install() -> None:
    """Install the extensions into fakesnow. Idempotent, and safe before or after fakesnow.server is imported."""
    global _installed
    import fakesnow.arrow
    import fakesnow.cursor
    import fakesnow.dialect
    import fakesnow.rowtype
    import fakesnow.transforms
    from fakesnow.cursor import FakeSnowflakeCursor

    if not _installed:
        original_execute = FakeSnowflakeCursor.execute
        original_transform = FakeSnowflakeCursor._transform  # noqa: SLF001

        @functools.wraps(original_execute)
        def execute(self: Any, command: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
            try:
                if isinstance(command, str):
                    command = dynamic_tables.rewrite_describe(command)
                    if dynamic_tables.is_statement(command):
                        return _run_dynamic_table_statement(self, command)
                return original_execute(self, command, params, *args, **kwargs)
            except ProgrammingError:
                raise
            except Exception as e:  # noqa: BLE001 (every other error becomes a SQL error, see below)
                raise as_sql_error(e) from e

        @functools.wraps(original_transform)
        def _transform(self: Any, expression: exp.Expr, params: Any) -> exp.Expr:  # noqa: ANN401
            if expression.find(exp.TableFromRows):
                # the history subquery reads the store, so it must exist
                dynamic_tables.DynamicTables(self._duck_conn).close()  # noqa: SLF001
                expression = dynamic_tables.history_transform(expression, self._conn.database, self._conn.schema)  # noqa: SLF001
            return vector.transform(original_transform(self, expression, params))

        FakeSnowflakeCursor.execute = execute  # type: ignore[method-assign]
        FakeSnowflakeCursor._transform = _transform  # type: ignore[method-assign]  # noqa: SLF001
        fakesnow.dialect.parse_one = _wrap_parse_one(fakesnow.dialect.parse_one)
        fakesnow.rowtype.describe_as_rowtype = vector.wrap_describe_as_rowtype(fakesnow.rowtype.describe_as_rowtype)
        fakesnow.arrow.timestamp_to_sf_struct = _wrap_timestamp_to_sf_struct(fakesnow.arrow.timestamp_to_sf_struct)
        fakesnow.transforms.extract_comment_on_table = _wrap_extract_comment_on_table(
            fakesnow.transforms.extract_comment_on_table
        )
        _installed = True

    # modules bind these names at import: patch every copy already imported (fakesnow.server is
    # imported only by the server, maybe after install() ran)
    for module in (fakesnow.cursor, sys.modules.get("fakesnow.server")):
        if module is not None:
            module.parse_one = fakesnow.dialect.parse_one  # type: ignore[attr-defined]
            if hasattr(module, "describe_as_rowtype"):
                module.describe_as_rowtype = fakesnow.rowtype.describe_as_rowtype  # type: ignore[attr-defined]
