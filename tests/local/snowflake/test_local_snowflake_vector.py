"""VECTOR types, casts and functions in the local Snowflake stand-in (in-process fakesnow)."""

from __future__ import annotations

import math
from typing import Any

import pytest
import snowflake.connector
from snowflake.connector.constants import FIELD_NAME_TO_ID
from snowflake.connector.errors import ProgrammingError

from local.snowflake.vector import normalise_sql


@pytest.fixture
def docs(cur: Any) -> Any:  # noqa: ANN401
    cur.execute("CREATE TABLE docs (id INT, embedding VECTOR(FLOAT, 3), counts VECTOR(INT, 2))")
    cur.execute("INSERT INTO docs SELECT 1, [1, 0, 0]::VECTOR(FLOAT, 3), [1, 2]::VECTOR(INT, 2)")
    cur.execute("INSERT INTO docs SELECT 2, [0, 1, 0]::VECTOR(FLOAT, 3), [3, 4]::VECTOR(INT, 2)")
    cur.execute("INSERT INTO docs SELECT 3, [-1, 0, 0]::VECTOR(FLOAT, 3), NULL")
    cur.execute("INSERT INTO docs SELECT 4, [0.6, 0.8, 0]::VECTOR(FLOAT, 3), NULL")
    return cur


def test_vector_columns_come_back_as_lists_and_are_described_as_vector(docs: Any) -> None:
    rows = docs.execute("SELECT id, embedding, counts FROM docs ORDER BY id").fetchall()
    assert rows[0] == (1, [1.0, 0.0, 0.0], [1, 2])
    assert rows[2] == (3, [-1.0, 0.0, 0.0], None)
    assert all(isinstance(v, float) for v in rows[0][1])
    assert all(isinstance(v, int) for v in rows[0][2])
    types = {d.name: d.type_code for d in docs.description}
    assert types["EMBEDDING"] == FIELD_NAME_TO_ID["VECTOR"]
    assert types["COUNTS"] == FIELD_NAME_TO_ID["VECTOR"]


@pytest.mark.parametrize(
    "expression",
    [
        "[0.5, 1.5, 2]::VECTOR(FLOAT, 3)",
        "ARRAY_CONSTRUCT(0.5, 1.5, 2)::VECTOR(FLOAT, 3)",
        "CAST(ARRAY_CONSTRUCT(0.5, 1.5, 2) AS VECTOR(FLOAT, 3))",
        "CAST([0.5, 1.5, 2] AS VECTOR(FLOAT, 3))",
        "PARSE_JSON('[0.5, 1.5, 2]')::VECTOR(FLOAT, 3)",
    ],
)
def test_casts_to_vector(cur: Any, expression: str) -> None:
    assert cur.execute(f"SELECT {expression}").fetchone() == ([0.5, 1.5, 2.0],)


def test_bound_json_array_casts_to_vector_qmark(cur: Any) -> None:
    # how a client binds an embedding: a JSON array string
    assert cur.execute("SELECT ?::VECTOR(FLOAT, 3)", ["[0.5, 1.5, 2]"]).fetchone() == ([0.5, 1.5, 2.0],)
    assert cur.execute("SELECT PARSE_JSON(?)::VECTOR(FLOAT, 3)", ["[1, 2, 3]"]).fetchone() == ([1.0, 2.0, 3.0],)


def test_bound_json_array_casts_to_vector_pyformat(sf_conn: Any) -> None:
    # the SnowflakeHook's default paramstyle, interpolated client-side
    conn = snowflake.connector.connect(database="GENAI", schema="PUBLIC", paramstyle="pyformat")
    cur = conn.cursor()
    cur.execute("CREATE TABLE emb (id INT, e VECTOR(FLOAT, 2))")
    cur.execute("INSERT INTO emb SELECT %(id)s, PARSE_JSON(%(v)s)::VECTOR(FLOAT, 2)", {"id": 7, "v": "[3, 4]"})
    cur.execute("INSERT INTO emb SELECT %(id)s, %(v)s::VECTOR(FLOAT, 2)", {"id": 8, "v": "[1, 0]"})
    assert cur.execute("SELECT id, e FROM emb ORDER BY id").fetchall() == [(7, [3.0, 4.0]), (8, [1.0, 0.0])]


def test_insert_select_of_vectors(docs: Any) -> None:
    docs.execute("CREATE TABLE copy (id INT, embedding VECTOR(FLOAT, 3))")
    docs.execute("INSERT INTO copy (id, embedding) SELECT id, embedding FROM docs WHERE id <= 2")
    assert docs.execute("SELECT * FROM copy ORDER BY id").fetchall() == [(1, [1.0, 0.0, 0.0]), (2, [0.0, 1.0, 0.0])]


def test_cosine_similarity_is_a_similarity_not_a_distance(cur: Any) -> None:
    # sqlglot maps VECTOR_COSINE_SIMILARITY to a cosine *distance*; identical must be 1, not 0
    sql = "SELECT VECTOR_COSINE_SIMILARITY(?::VECTOR(FLOAT, 3), ?::VECTOR(FLOAT, 3))"
    assert cur.execute(sql, ["[1, 2, 3]", "[1, 2, 3]"]).fetchone()[0] == pytest.approx(1.0)
    assert cur.execute(sql, ["[1, 0, 0]", "[0, 1, 0]"]).fetchone()[0] == pytest.approx(0.0)
    assert cur.execute(sql, ["[1, 0, 0]", "[-2, 0, 0]"]).fetchone()[0] == pytest.approx(-1.0)


def test_inner_product_and_distances(cur: Any) -> None:
    a, b = "[1, 2, 3]::VECTOR(FLOAT, 3)", "[4, -6, 3]::VECTOR(FLOAT, 3)"
    row = cur.execute(
        f"SELECT VECTOR_INNER_PRODUCT({a}, {b}), VECTOR_L2_DISTANCE({a}, {b}), VECTOR_L1_DISTANCE({a}, {b})"
    ).fetchone()
    assert row[0] == pytest.approx(1 * 4 + 2 * -6 + 3 * 3)
    assert row[1] == pytest.approx(math.sqrt(9 + 64 + 0))
    assert row[2] == pytest.approx(3 + 8 + 0)
    assert all(isinstance(v, float) for v in row)


def test_top_k_by_similarity(docs: Any) -> None:
    rows = docs.execute(
        "SELECT id, VECTOR_COSINE_SIMILARITY(embedding, ?::VECTOR(FLOAT, 3)) AS score "
        "FROM docs ORDER BY score DESC LIMIT 3",
        ["[0.9, 0.1, 0]"],
    ).fetchall()
    assert [r[0] for r in rows] == [1, 4, 2]
    assert rows[0][1] > rows[1][1] > rows[2][1]
    assert rows[0][1] == pytest.approx(0.9 / math.hypot(0.9, 0.1))


def test_wrong_dimension_is_an_error(cur: Any) -> None:
    with pytest.raises(ProgrammingError):
        cur.execute("SELECT [1, 2, 3]::VECTOR(FLOAT, 2)")


def test_normalise_sql_only_touches_bare_qmark_casts() -> None:
    assert normalise_sql("SELECT ?::VECTOR(FLOAT, 3)") == "SELECT ? ::VECTOR(FLOAT, 3)"
    assert normalise_sql("SELECT '?::x', ?::INT") == "SELECT '?::x', ? ::INT"
    assert normalise_sql("SELECT 1") == "SELECT 1"
