"""Explicit transactions on the stand-in: DELETE, INSERT and MERGE inside BEGIN ... COMMIT, as on Snowflake.

(DDL is left out on purpose: on Snowflake it commits the open transaction, so SQL that needs
atomicity must not run any inside one.)
"""

from __future__ import annotations

from typing import Any


def _setup(cur: Any) -> None:
    cur.execute("CREATE SCHEMA GENAI.KB")
    cur.execute("CREATE TABLE GENAI.KB.DOCS (ID INT, NAME VARCHAR)")
    cur.execute("CREATE TABLE GENAI.KB.PARTS (ID INT, PART INT)")
    cur.execute("INSERT INTO GENAI.KB.PARTS VALUES (1, 1), (1, 2)")
    cur.execute("USE SCHEMA GENAI.KB")
    cur.execute("CREATE TEMPORARY TABLE INCOMING (ID INT, NAME VARCHAR)")
    cur.execute("INSERT INTO INCOMING VALUES (1, 'one')")


def _replace(cur: Any, end: str) -> None:
    cur.execute("BEGIN")
    cur.execute("DELETE FROM GENAI.KB.PARTS WHERE ID IN (SELECT ID FROM INCOMING)")
    cur.execute("INSERT INTO GENAI.KB.PARTS VALUES (1, 3)")
    cur.execute("MERGE INTO GENAI.KB.DOCS AS t USING INCOMING AS s ON t.ID = s.ID "
                "WHEN MATCHED THEN UPDATE SET NAME = s.NAME WHEN NOT MATCHED THEN INSERT (ID, NAME) VALUES (s.ID, s.NAME)")
    cur.execute(end)


def test_merge_after_other_writes_commits_together(cur: Any) -> None:
    _setup(cur)
    _replace(cur, "COMMIT")
    cur.execute("SELECT * FROM GENAI.KB.PARTS")
    assert cur.fetchall() == [(1, 3)]
    cur.execute("SELECT * FROM GENAI.KB.DOCS")
    assert cur.fetchall() == [(1, "one")]


def test_rollback_undoes_every_write(cur: Any) -> None:
    _setup(cur)
    _replace(cur, "ROLLBACK")
    cur.execute("SELECT * FROM GENAI.KB.PARTS ORDER BY PART")
    assert cur.fetchall() == [(1, 1), (1, 2)]
    cur.execute("SELECT COUNT(*) FROM GENAI.KB.DOCS")
    assert cur.fetchall() == [(0,)]
