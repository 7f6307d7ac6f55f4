"""Snowflake VECTOR support for fakesnow, on top of DuckDB fixed-size arrays.

Snowflake                                  DuckDB
VECTOR(FLOAT, n) / VECTOR(INT, n)          FLOAT[n] / INTEGER[n]
VECTOR_COSINE_SIMILARITY(a, b)             array_cosine_similarity(a, b)
VECTOR_INNER_PRODUCT(a, b)                 array_inner_product(a, b)
VECTOR_L2_DISTANCE(a, b)                   array_distance(a, b)
VECTOR_L1_DISTANCE(a, b)                   sum of |a[i] - b[i]|

sqlglot 30 parses VECTOR_COSINE_SIMILARITY into ``exp.CosineDistance`` and DuckDB would then
compute a *distance* (1 - similarity), silently reversing every top-k ordering. Snowflake has
no cosine distance function, so every CosineDistance node we see came from the similarity
function and is mapped back to a similarity here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlglot import exp

# DuckDB's DESCRIBE spelling of the array types VECTOR maps to
_DUCK_ARRAY_TYPE = re.compile(r"^(FLOAT|DOUBLE|INTEGER|BIGINT)\[(\d+)\]$")

# quoted strings are copied as they are; a bare `?::` is split so sqlglot can parse it
_QMARK_CAST = re.compile(r"('(?:[^'\\]|\\.|'')*')|\?::")


def normalise_sql(sql: str) -> str:
    """Make Snowflake SQL that sqlglot 30 cannot tokenize parseable, without changing its meaning.

    sqlglot reads ``?::`` as one token, so ``SELECT ?::VECTOR(FLOAT, 3)`` (how a qmark client binds an
    embedding) fails to parse; ``? ::VECTOR(FLOAT, 3)`` is the same statement and parses.
    """
    if "?::" not in sql:
        return sql
    return _QMARK_CAST.sub(lambda m: m.group(1) or "? ::", sql)


def _duck_array_type(vector: exp.DataType) -> exp.DataType:
    element, dimension = vector.expressions
    is_int = isinstance(element, exp.DataType) and element.is_type(*exp.DataType.INTEGER_TYPES)
    n = int(dimension.this.name if isinstance(dimension, exp.DataTypeParam) else dimension.name)
    # A user-defined type is rendered verbatim: fakesnow's later transforms would otherwise turn
    # an ARRAY type into JSON and a FLOAT element into DOUBLE (Snowflake vectors are 32 bit).
    return exp.DataType(this=exp.DataType.Type.USERDEFINED, kind=f"{'INTEGER' if is_int else 'FLOAT'}[{n}]")


def _l1_distance(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    # DuckDB has no array_l1_distance; sum |a[i] - b[i]| over the zipped elements. Bracket indexes
    # are 0-based in sqlglot's tree; the DuckDB generator writes them 1-based.
    lam = exp.Lambda(
        this=exp.Abs(
            this=exp.Sub(
                this=exp.Bracket(this=exp.to_identifier("p"), expressions=[exp.Literal.number(0)]),
                expression=exp.Bracket(this=exp.to_identifier("p"), expressions=[exp.Literal.number(1)]),
            )
        ),
        expressions=[exp.to_identifier("p")],
    )
    zipped = exp.Anonymous(this="list_zip", expressions=[a, b])
    return exp.Anonymous(this="list_sum", expressions=[exp.Anonymous(this="list_transform", expressions=[zipped, lam])])


def _double(name: str) -> Callable[[exp.Expr, exp.Expr], exp.Expr]:
    # Snowflake returns these as FLOAT, ie: 64 bit; DuckDB computes them as 32-bit FLOAT, a type
    # fakesnow cannot describe to the client
    return lambda a, b: exp.cast(exp.Anonymous(this=name, expressions=[a, b]), exp.DataType.Type.DOUBLE)


_FUNCTIONS: dict[type[exp.Expr], Callable[[exp.Expr, exp.Expr], exp.Expr]] = {
    exp.CosineDistance: _double("array_cosine_similarity"),
    exp.DotProduct: _double("array_inner_product"),
    exp.EuclideanDistance: _double("array_distance"),
    exp.ManhattanDistance: lambda a, b: exp.cast(_l1_distance(a, b), exp.DataType.Type.DOUBLE),
}


def transform(expression: exp.Expr) -> exp.Expr:
    """Rewrite VECTOR types and functions to DuckDB. Runs after fakesnow's own transforms."""

    def types(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.VECTOR and len(node.expressions) == 2:
            return _duck_array_type(node)
        return node

    def functions(node: exp.Expr) -> exp.Expr:
        if (build := _FUNCTIONS.get(type(node))) is not None:
            # transform() does not descend into a replacement, so rewrite the arguments first
            return build(node.this.transform(functions), node.expression.transform(functions))
        return node

    # two passes, because transform() skips the children of a node it replaced
    return expression.transform(types, copy=False).transform(functions, copy=False)


def wrap_describe_as_rowtype(original: Callable[[list], list[Any]]) -> Callable[[list], list[Any]]:
    """Report FLOAT[n] / INTEGER[n] result columns as Snowflake VECTOR columns.

    fakesnow's server raises NotImplementedError for array column types. With type ``vector``,
    ``vectorDimension`` and one element field, the real connector turns the Arrow fixed-size list
    into a Python list, as it does for real Snowflake.
    """

    def describe_as_rowtype(describe_results: list) -> list[Any]:
        vectors: dict[int, re.Match[str]] = {}
        rows = []
        for i, row in enumerate(describe_results):
            if (match := _DUCK_ARRAY_TYPE.match(str(row[1]))) is not None:
                vectors[i] = match
                row = (row[0], "DOUBLE", *row[2:])  # any known type: its info is replaced below
            elif row[1] == "FLOAT":
                # a 32-bit float, eg: an element of a vector; Snowflake has only 64-bit floats
                row = (row[0], "DOUBLE", *row[2:])
            rows.append(row)
        infos = original(rows)
        for i, match in vectors.items():
            element = "real" if match[1] in ("FLOAT", "DOUBLE") else "fixed"
            infos[i].update(
                type="vector",
                vectorDimension=int(match[2]),
                fields=[
                    {
                        "type": element,
                        "nullable": False,
                        "length": None,
                        "byteLength": None,
                        "precision": 38 if element == "fixed" else None,
                        "scale": 0 if element == "fixed" else None,
                        "collation": None,
                    }
                ],
                precision=None,
                scale=None,
            )
        return infos

    describe_as_rowtype.__wrapped__ = original  # type: ignore[attr-defined]
    return describe_as_rowtype
