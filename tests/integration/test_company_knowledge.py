"""document_ingest -> embedding_refresh -> retrieval, end to end on the local stack.

S3 (moto server) -> Airflow (dag.test) -> Snowflake (fakesnow server) and Bedrock (the stand-in, with
real MiniLM embeddings). Each test gets its own database and bucket through the project settings'
environment variables. Model calls are counted by the stand-in (/_local/stats), not by our code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from dag_runs import bedrock_local, query, run_dag, xcom

pytestmark = pytest.mark.integration


class Knowledge:
    """One test's database and bucket, and the stand-ins' counters."""

    def __init__(self, name: str, stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        self.stack = stack
        self.monkeypatch = monkeypatch
        self.database = f"KB_{name.upper()}"
        self.bucket = f"kb-{name.lower()}"
        monkeypatch.setenv("GENAI_SNOWFLAKE_DATABASE", self.database)
        monkeypatch.setenv("GENAI_LANDING_BUCKET", self.bucket)
        self.s3 = S3Hook(aws_conn_id="aws_default")
        self.s3.create_bucket(self.bucket)
        query(f"CREATE DATABASE IF NOT EXISTS {self.database}")

    def put(self, key: str, data: bytes) -> None:
        self.s3.load_bytes(data, key, bucket_name=self.bucket, replace=True)

    def put_seed_documents(self) -> dict[str, bytes]:
        from local.seed.documents import generate_documents

        documents = generate_documents()
        for key, data in documents.items():
            self.put(key, data)
        return documents

    def ingest(self) -> dict[str, Any]:
        run, _ = run_dag("document_ingest")
        return xcom("document_ingest", run.run_id, "sync_documents")

    def refresh(self, expect_success: bool = True) -> tuple[dict[str, Any] | None, int]:
        """Run embedding_refresh; returns (its summary or None if it failed, Titan calls the stand-in served)."""
        before = self.bedrock("stats")["embedding_texts"]
        run, states = run_dag("embedding_refresh", expect_success=expect_success)
        calls = self.bedrock("stats")["embedding_texts"] - before
        summary = xcom("embedding_refresh", run.run_id, "refresh_embeddings") if states["refresh_embeddings"] == "success" else None
        return summary, calls

    def bedrock(self, what: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return bedrock_local(self.stack, what, body)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return query(sql.format(db=self.database))

    def chunk_hashes(self) -> set[str]:
        return {row[0] for row in self.rows("SELECT DISTINCT CONTENT_HASH FROM {db}.RAG.CHUNKS")}

    def search(self, question: str, k: int = 3) -> list[Any]:
        from genai_personalization.retrieval import KnowledgeRetriever

        with KnowledgeRetriever() as retriever:
            return retriever.search(question, k)


def long_guide(last_section: str) -> bytes:
    """A guide long enough for several chunks: 12 distinct sections, then ``last_section``."""
    places = ["Innsbruck", "Hall", "Schwaz", "Wattens", "Seefeld", "Telfs", "Imst", "Landeck", "Kufstein", "Lienz",
              "Kitzbuehel", "Mayrhofen"]
    sections = [
        f"## Stage {n}: {place}\n\nFrom {place} the trail climbs for {n + 2} hours through larch and pine. "
        f"Water is available at the spring after {n * 3} kilometres; carry {n % 3 + 1} litres in summer. "
        f"The marked variant to the east adds {n * 40} metres of ascent and a view of the {place} valley. "
        f"Huts on this stage open from June to September and take bookings by telephone only."
        for n, place in enumerate(places, start=1)
    ]
    return ("# The Tarnwick trail guide\n\n" + "\n\n".join(sections) + f"\n\n## Last stage\n\n{last_section}\n").encode()


@pytest.fixture
def kb(request: pytest.FixtureRequest, local_stack: Any, airflow_db: None,
       monkeypatch: pytest.MonkeyPatch) -> Iterator[Knowledge]:
    name = re.sub(r"[^a-z0-9]", "", request.node.name.lower())[-30:]
    knowledge = Knowledge(name, local_stack, monkeypatch)
    yield knowledge
    knowledge.bedrock("config", {"throttle_rate": 0, "error_rate": 0})


def test_add_edit_touch_delete_and_rerun(kb: Knowledge) -> None:
    documents = kb.put_seed_documents()
    first = kb.ingest()
    assert (first["listed"], first["new"], first["rejected"]) == (len(documents), len(documents), 0)
    docs = kb.rows("SELECT STATUS, COUNT(*), SUM(CHUNK_COUNT) FROM {db}.RAG.DOCUMENTS GROUP BY STATUS")
    assert [(status, count) for status, count, _ in docs] == [("active", len(documents))]
    chunk_rows = kb.rows("SELECT COUNT(*), MAX(TOKEN_COUNT), MIN(TOKEN_COUNT) FROM {db}.RAG.CHUNKS")[0]
    assert chunk_rows[0] == first["chunks_written"] == int(docs[0][2]) and 0 < chunk_rows[2] <= chunk_rows[1] <= 512

    summary, calls = kb.refresh()
    hashes = kb.chunk_hashes()
    assert summary is not None and summary["activated"] and calls == summary["embedded"] == len(hashes)
    assert kb.rows("SELECT COUNT(*) FROM {db}.RAG.CHUNK_EMBEDDINGS")[0][0] == chunk_rows[0]

    # nothing changed: nothing read, no model call, no row written
    again = kb.ingest()
    assert (again["unchanged"], again["read"], again["chunks_written"]) == (len(documents), 0, 0)
    summary, calls = kb.refresh()
    assert summary is not None and calls == 0
    assert (summary["embedded"], summary["pruned"], summary["activated"]) == (0, 0, False)

    # an edit re-embeds exactly the chunks whose text changed: in a long guide, the last section only
    key = "documents/guides/trail-guide.md"
    kb.put(key, long_guide(last_section="The hut serves soup until nine."))
    kb.ingest()
    kb.refresh()
    guide_chunks = kb.rows(f"SELECT COUNT(*) FROM {{db}}.RAG.CHUNKS c JOIN {{db}}.RAG.DOCUMENTS d ON c.DOC_ID = d.DOC_ID "
                           f"WHERE d.SOURCE_URI = 's3://{kb.bucket}/{key}'")[0][0]
    hashes = kb.chunk_hashes()
    kb.put(key, long_guide(last_section="The snow-shoe rental desk at the Hafelekar cable car station is closed on Tuesdays."))
    edited = kb.ingest()
    assert (edited["changed"], edited["read"]) == (1, 1)
    new_hashes = kb.chunk_hashes() - hashes
    summary, calls = kb.refresh()
    assert guide_chunks >= 3 and 0 < len(new_hashes) < guide_chunks
    assert summary is not None and len(new_hashes) == calls == summary["embedded"]
    assert summary["pruned"] == len(hashes - kb.chunk_hashes())
    top = kb.search("Is the snow-shoe rental desk at the Hafelekar open on Tuesdays?", k=3)
    assert f"s3://{kb.bucket}/{key}" in [c.source_uri for c in top]

    # the same bytes under a new ETag (a copy, a multipart re-upload) are decided by content: not re-chunked
    kb.rows(f"UPDATE {{db}}.RAG.DOCUMENTS SET ETAG = 'stale' WHERE SOURCE_URI = 's3://{kb.bucket}/{key}'")
    touched = kb.ingest()
    assert (touched["touched"], touched["changed"], touched["chunks_written"]) == (1, 0, 0)
    assert kb.rows(f"SELECT ETAG FROM {{db}}.RAG.DOCUMENTS WHERE SOURCE_URI = 's3://{kb.bucket}/{key}'")[0][0] != "stale"

    # a deleted document loses its chunks at once, and its embeddings at the next refresh
    kb.s3.delete_objects(kb.bucket, [key])
    deleted = kb.ingest()
    assert deleted["deleted"] == 1
    assert kb.rows(f"SELECT STATUS, DELETED FROM {{db}}.RAG.DOCUMENTS WHERE SOURCE_URI = 's3://{kb.bucket}/{key}'") == [("deleted", True)]
    assert all(c.source_uri != f"s3://{kb.bucket}/{key}" for c in kb.search("snow-shoe rental desk Hafelekar Tuesdays", k=20))
    summary, calls = kb.refresh()
    assert summary is not None and calls == 0 and summary["pruned"] > 0
    assert kb.rows("SELECT COUNT(*) FROM {db}.RAG.EMB_AMAZON_TITAN_EMBED_TEXT_V2_0_1024")[0][0] == len(kb.chunk_hashes())


def test_bad_documents_are_quarantined_and_the_rest_still_load(kb: Knowledge, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENAI_DOCUMENT_MAX_BYTES", "20000")
    kb.put("documents/good.md", b"# Opening hours\n\nThe Innsbruck store opens at nine.\n")
    bad = {
        "documents/contract.docx": b"PK\x03\x04 not a text document",
        "documents/empty.md": b"",
        "documents/latin1.txt": "Grüße aus Köln".encode("latin-1"),
        "documents/binary.txt": b"\x00\x01\x02\x03" * 100,
        "documents/huge.md": b"# Big\n\n" + b"word " * 5000,
        "documents/scan.pdf": b"%PDF-1.4 this is not really a pdf",
    }
    for key, data in bad.items():
        kb.put(key, data)
    summary = kb.ingest()
    assert (summary["new"], summary["rejected"]) == (1, len(bad))
    reasons = dict(kb.rows("SELECT SOURCE, REASON FROM {db}.OPS.QUARANTINE"))
    assert set(reasons) == {f"s3://{kb.bucket}/{key}" for key in bad}
    assert all("\n" not in reason and reason for reason in reasons.values())
    assert len(set(reasons.values())) == len(bad)  # each kind has its own reason
    assert "20000" in reasons[f"s3://{kb.bucket}/documents/huge.md"]
    assert kb.rows("SELECT STATUS, COUNT(*) FROM {db}.RAG.DOCUMENTS GROUP BY STATUS ORDER BY STATUS") == [
        ("active", 1), ("rejected", len(bad))]
    assert kb.rows("SELECT COUNT(DISTINCT DOC_ID) FROM {db}.RAG.CHUNKS")[0][0] == 1

    # a re-run reads none of them again and adds no quarantine rows
    again = kb.ingest()
    assert (again["read"], again["unchanged"]) == (0, len(bad) + 1)
    assert len(kb.rows("SELECT * FROM {db}.OPS.QUARANTINE")) == len(bad)

    # a fixed document loads and leaves quarantine
    kb.put("documents/latin1.txt", "Grüße aus Köln: the store on the Hohe Straße.".encode("utf-8"))
    fixed = kb.ingest()
    assert (fixed["read"], fixed["new"] + fixed["changed"], fixed["rejected"]) == (1, 1, 0)
    assert f"s3://{kb.bucket}/documents/latin1.txt" not in dict(kb.rows("SELECT SOURCE, REASON FROM {db}.OPS.QUARANTINE"))


def test_throttling_loses_nothing_and_a_model_change_switches_only_when_complete(
    kb: Knowledge, monkeypatch: pytest.MonkeyPatch,
) -> None:
    kb.put_seed_documents()
    kb.ingest()
    kb.bedrock("config", {"throttle_rate": 0.3})
    summary, calls = kb.refresh()
    assert summary is not None and summary["embedded"] == len(kb.chunk_hashes()) and summary["failed"] == 0
    assert summary["model_throttles"] > 0 and calls == summary["embedded"]  # throttled calls never reach the model
    question = "Where did the two founders first meet each other?"
    before = kb.search(question)

    # switch to 512 dimensions with attempts too few to get through heavy throttling: the run fails
    # part way, keeps what it embedded, and retrieval still answers from the complete 1024 set
    monkeypatch.setenv("GENAI_EMBEDDING_DIMENSIONS", "512")
    monkeypatch.setenv("GENAI_EMBEDDING_MAX_ATTEMPTS", "1")
    kb.bedrock("config", {"throttle_rate": 0.5})
    failed, _ = kb.refresh(expect_success=False)
    assert failed is None
    partial = kb.rows("SELECT COUNT(*) FROM {db}.RAG.EMB_AMAZON_TITAN_EMBED_TEXT_V2_0_512")[0][0]
    assert 0 < partial < len(kb.chunk_hashes())
    assert kb.rows("SELECT SET_NAME, STATUS FROM {db}.RAG.EMBEDDING_SETS ORDER BY SET_NAME") == [
        ("AMAZON_TITAN_EMBED_TEXT_V2_0_1024", "active"), ("AMAZON_TITAN_EMBED_TEXT_V2_0_512", "building")]
    assert [c.chunk_id for c in kb.search(question)] == [c.chunk_id for c in before]

    # the retry embeds only the rest, then activates the new set
    kb.bedrock("config", {"throttle_rate": 0})
    monkeypatch.setenv("GENAI_EMBEDDING_MAX_ATTEMPTS", "8")
    summary, calls = kb.refresh()
    assert summary is not None and summary["activated"] and calls == summary["embedded"] == len(kb.chunk_hashes()) - partial
    assert kb.rows("SELECT DIMENSIONS FROM {db}.RAG.CHUNK_EMBEDDINGS LIMIT 1") == [(512,)]
    assert kb.search(question)[0].source_uri == before[0].source_uri

    # the next run drops the retired set's table
    summary, calls = kb.refresh()
    assert summary is not None and summary["dropped_sets"] == ["AMAZON_TITAN_EMBED_TEXT_V2_0_1024"] and calls == 0
    assert dict(kb.rows("SELECT SET_NAME, STATUS FROM {db}.RAG.EMBEDDING_SETS"))["AMAZON_TITAN_EMBED_TEXT_V2_0_1024"] == "dropped"


def test_retrieval_finds_the_right_document_for_labelled_questions(kb: Knowledge) -> None:
    from local.seed.documents import QUESTIONS_PATH, SOURCE_DIR, document_key

    kb.put_seed_documents()
    kb.ingest()
    kb.refresh()
    questions = [json.loads(line) for line in QUESTIONS_PATH.read_text().splitlines() if line.strip()]
    assert len(questions) >= 30
    hits = 0
    for q in questions:
        expected = f"s3://{kb.bucket}/{document_key(SOURCE_DIR / q['document'])}"
        results = kb.search(q["question"], k=3)
        assert len(results) == 3 and results[0].score >= results[1].score >= results[2].score
        hits += any(r.source_uri == expected for r in results)
    recall = hits / len(questions)
    assert recall >= 0.8, f"recall@3 = {recall:.2f} over {len(questions)} questions"


def test_search_many_matches_one_search_per_query(kb: Knowledge) -> None:
    from genai_personalization.retrieval import KnowledgeRetriever

    kb.put_seed_documents()
    kb.ingest()
    kb.refresh()
    questions = ["Where did the two founders first meet each other?", "How do I wash a down jacket?",
                 "Where did the two founders first meet each other?", "Which stores open on Sundays?"]
    before = kb.bedrock("stats")["embedding_texts"]
    with KnowledgeRetriever() as retriever:
        many = retriever.search_many(questions, k=3)
        assert kb.bedrock("stats")["embedding_texts"] - before == 3  # the repeated question is embedded once
        one_by_one = [retriever.search(q, k=3) for q in questions]
    assert [[c.chunk_id for c in r] for r in many] == [[c.chunk_id for c in r] for r in one_by_one]
    assert all(len(r) == 3 for r in many)
