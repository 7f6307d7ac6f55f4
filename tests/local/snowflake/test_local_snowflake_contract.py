"""Contract: the real TLS server, the real connector, the stock Airflow SnowflakeHook.

Talks to the Snowflake stand-in of the session's local stack (started by ``local.stack`` exactly as
``make local-up`` starts it) through the connection the stack exports, as the operators do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]
DIMS = 384


@pytest.fixture
def hook(local_stack: Any) -> Any:  # noqa: ANN401
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    return SnowflakeHook(snowflake_conn_id="snowflake_default")


def _with_columns(hook: Any, sql: str, parameters: Any = None) -> list[dict[str, Any]]:  # noqa: ANN401
    def handler(cursor: Any) -> list[dict[str, Any]]:  # noqa: ANN401
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    return hook.run(sql, parameters=parameters, handler=handler)


def _unit(i: int) -> list[float]:
    v = [0.0] * DIMS
    v[i] = 1.0
    return v


def test_vector_top_k_search(hook: Any, local_stack: Any) -> None:
    hook.run(f"CREATE OR REPLACE TABLE chunk_embeddings (chunk_id VARCHAR, embedding VECTOR(FLOAT, {DIMS}))")
    # chunk c<i> points along axis i; c9 is halfway between axes 0 and 1
    for i in range(5):
        hook.run(
            f"INSERT INTO chunk_embeddings SELECT %(id)s, PARSE_JSON(%(v)s)::VECTOR(FLOAT, {DIMS})",
            parameters={"id": f"c{i}", "v": json.dumps(_unit(i))},
        )
    halfway = [a + b for a, b in zip(_unit(0), _unit(1), strict=True)]
    hook.run(
        f"INSERT INTO chunk_embeddings SELECT 'c9', %(v)s::VECTOR(FLOAT, {DIMS})", parameters={"v": json.dumps(halfway)}
    )

    query = json.dumps([0.9 if i == 0 else 0.1 if i == 1 else 0.0 for i in range(DIMS)])
    rows = hook.get_records(
        f"SELECT chunk_id, VECTOR_COSINE_SIMILARITY(embedding, PARSE_JSON(%(q)s)::VECTOR(FLOAT, {DIMS})) AS score "
        "FROM chunk_embeddings ORDER BY score DESC LIMIT 3",
        parameters={"q": query},
    )
    assert [r[0] for r in rows] == ["c0", "c9", "c1"]
    assert rows[0][1] == pytest.approx(0.9 / (0.82**0.5))
    assert rows[0][1] > rows[1][1] > rows[2][1]

    (embedding,) = hook.get_first("SELECT embedding FROM chunk_embeddings WHERE chunk_id = 'c3'")
    assert isinstance(embedding, list) and len(embedding) == DIMS and embedding[3] == 1.0

    # a qmark client binds the query vector server-side: `?::VECTOR` must parse and bind
    import snowflake.connector

    conn = snowflake.connector.connect(
        user="local", password="local", account="local", host="localhost", port=local_stack.cfg.ports["snowflake"],
        database="GENAI", schema="PUBLIC", insecure_mode=True, paramstyle="qmark",
    )  # fmt: skip
    try:
        top = conn.cursor().execute(
            f"SELECT chunk_id, VECTOR_COSINE_SIMILARITY(embedding, ?::VECTOR(FLOAT, {DIMS})) AS score "
            "FROM chunk_embeddings ORDER BY score DESC LIMIT 1",
            [json.dumps(_unit(2))],
        ).fetchall()
    finally:
        conn.close()
    assert top == [("c2", pytest.approx(1.0))]


def test_dynamic_table_lifecycle(hook: Any) -> None:
    from snowflake.connector.errors import ProgrammingError

    hook.run("CREATE OR REPLACE TABLE pos (event_id INT, customer_id INT, amount INT)")
    hook.run("INSERT INTO pos VALUES (1, 100, 5), (2, 100, 7), (3, 200, 1)")
    hook.run(
        "CREATE OR REPLACE DYNAMIC TABLE GENAI.PUBLIC.PURCHASES TARGET_LAG = '5 minutes' WAREHOUSE = LOCAL_WH "
        "AS SELECT customer_id, SUM(amount) AS total FROM pos GROUP BY customer_id"
    )
    hook.run("INSERT INTO pos VALUES (4, 300, 9)")
    assert hook.get_records("SELECT COUNT(*) FROM purchases") == [(2,)]

    hook.run("ALTER DYNAMIC TABLE GENAI.PUBLIC.PURCHASES REFRESH")
    assert hook.get_records("SELECT customer_id, total FROM purchases ORDER BY customer_id") == [
        (100, 12), (200, 1), (300, 9),
    ]  # fmt: skip

    (shown,) = _with_columns(hook, "SHOW DYNAMIC TABLES LIKE 'PURCHASES' IN SCHEMA GENAI.PUBLIC")
    assert shown["name"] == "PURCHASES" and shown["rows"] == 3
    assert shown["target_lag"] == "5 minutes" and shown["scheduling_state"] == "RUNNING"
    assert shown["last_suspended_on"] is None and shown["data_timestamp"] is not None

    history_sql = (
        "SELECT state, refresh_trigger, state_message FROM TABLE(GENAI.INFORMATION_SCHEMA."
        "DYNAMIC_TABLE_REFRESH_HISTORY(NAME => 'GENAI.PUBLIC.PURCHASES')) ORDER BY refresh_start_time"
    )
    assert [r[:2] for r in hook.get_records(history_sql)] == [("SUCCEEDED", "CREATION"), ("SUCCEEDED", "MANUAL")]

    # a failed refresh: the error reaches the client, the old rows stay, history says FAILED
    hook.run("ALTER TABLE pos RENAME COLUMN amount TO amount_usd")
    with pytest.raises(ProgrammingError, match="(?i)amount"):
        hook.run("ALTER DYNAMIC TABLE purchases REFRESH")
    assert hook.get_records("SELECT COUNT(*) FROM purchases") == [(3,)]
    assert hook.get_records(history_sql)[-1][:2] == ("FAILED", "MANUAL")

    with pytest.raises(ProgrammingError) as error:
        hook.run("ALTER DYNAMIC TABLE no_such_table REFRESH")
    assert "Dynamic table 'GENAI.PUBLIC.NO_SUCH_TABLE' does not exist or not authorized." in str(error.value)
    assert error.value.errno == 2003


def test_scheduler_refreshes_stale_tables(hook: Any) -> None:
    hook.run("CREATE OR REPLACE TABLE events (id INT)")
    hook.run("INSERT INTO events VALUES (1)")
    hook.run("CREATE OR REPLACE DYNAMIC TABLE event_count TARGET_LAG = '1 minute' WAREHOUSE = wh AS SELECT COUNT(*) AS n FROM events")
    hook.run("INSERT INTO events VALUES (2), (3)")
    hook.run("SELECT SYSTEM$LOCAL_AGE_DYNAMIC_TABLE('event_count', 600)")

    deadline = time.monotonic() + 20
    while hook.get_first("SELECT n FROM event_count") != (3,):
        assert time.monotonic() < deadline, "the scheduler did not refresh the stale dynamic table"
        time.sleep(0.5)
    triggers = hook.get_records(
        "SELECT refresh_trigger FROM TABLE(INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY(NAME => 'EVENT_COUNT')) "
        "WHERE state = 'SUCCEEDED' ORDER BY refresh_start_time"
    )
    assert triggers == [("CREATION",), ("SCHEDULED",)]



def test_paused_scheduler_leaves_a_stale_table_stale(hook: Any) -> None:
    hook.run("CREATE OR REPLACE TABLE paused_events (id INT)")
    hook.run("CREATE OR REPLACE DYNAMIC TABLE paused_count TARGET_LAG = '1 minute' WAREHOUSE = wh AS SELECT COUNT(*) AS n FROM paused_events")
    hook.run("INSERT INTO paused_events VALUES (1)")
    assert hook.get_first("SELECT SYSTEM$LOCAL_DYNAMIC_TABLE_SCHEDULER('PAUSE')") == ("PAUSED",)
    try:
        hook.run("SELECT SYSTEM$LOCAL_AGE_DYNAMIC_TABLE('paused_count', 600)")
        time.sleep(2.5)  # the scheduler ticks every second
        assert hook.get_first("SELECT n FROM paused_count") == (0,)
    finally:
        assert hook.get_first("SELECT SYSTEM$LOCAL_DYNAMIC_TABLE_SCHEDULER('RESUME')") == ("RUNNING",)
    deadline = time.monotonic() + 20
    while hook.get_first("SELECT n FROM paused_count") != (1,):
        assert time.monotonic() < deadline, "the resumed scheduler did not refresh the stale dynamic table"
        time.sleep(0.5)

def test_port_in_use_is_one_line_and_non_zero(local_stack: Any) -> None:
    cfg = local_stack.cfg
    port = cfg.ports["snowflake"]
    done = subprocess.run(
        [sys.executable, "-m", "local.snowflake.server", "--host", "127.0.0.1", "--port", str(port),
         "--certfile", str(cfg.certs_dir / "snowflake.pem"), "--keyfile", str(cfg.certs_dir / "snowflake-key.pem")],
        cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        f"local snowflake: port {port} is already in use (is the stack already running? try: make local-down)"
    ]
