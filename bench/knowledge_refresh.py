"""Company knowledge: incremental refresh cost and retrieval quality, on a private local stack.

A corpus of CORPUS_DOCUMENTS documents: the 13 sample documents of the Tarnwick seed plus product
pages built from the real Amazon Sales Dataset (``../shared/data/amazon-sales/amazon.csv``: for
each of PRODUCTS_PER_PAGE products its name, its "about" bullets and its reviews), so that
retrieval must find the right document among many unrelated ones. DocumentIngestOperator and
EmbeddingRefreshOperator run in one child process against the stand-ins; model calls are counted
by the Bedrock stand-in (/_local/stats), not by our code.

(a) first load: ingest and embed everything;
(b) a refresh with nothing changed: documents read, model calls, rows written (every table's row
    count and newest timestamp compared before and after);
(c) 1% of the documents edited (one paragraph rewritten each): chunks whose text changed (set
    difference of content hashes in RAG.CHUNKS) vs embedding calls;
(d) recall@3 of the labelled questions about the sample documents (local/seed/documents/
    questions.jsonl) over the whole corpus: a hit when one of the top 3 chunks comes from the
    question's document.
"""

from __future__ import annotations

import csv
import json
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from local.datasets import amazon_sales_csv

AMAZON_CSV = amazon_sales_csv()
BUCKET = "bench-knowledge"
DATABASE = "BENCH_KNOWLEDGE"
CORPUS_DOCUMENTS = 200
PRODUCTS_PER_PAGE = 4
EDITED_SHARE = 0.01

SNAPSHOT = {
    "documents": "SELECT COUNT(*), MAX(UPDATED_AT) FROM {db}.RAG.DOCUMENTS",
    "chunks": "SELECT COUNT(*), MAX(CREATED_AT) FROM {db}.RAG.CHUNKS",
    "embeddings": "SELECT COUNT(*), MAX(EMBEDDED_AT) FROM {db}.RAG.EMB_AMAZON_TITAN_EMBED_TEXT_V2_0_1024",
    "sets": "SELECT COUNT(*), MAX(ACTIVATED_AT) FROM {db}.RAG.EMBEDDING_SETS",
    "quarantine": "SELECT COUNT(*), MAX(QUARANTINED_AT) FROM {db}.OPS.QUARANTINE",
}


def product_pages(count: int, path: Path = AMAZON_CSV, per_page: int = PRODUCTS_PER_PAGE) -> dict[str, bytes]:
    """``count`` markdown pages of ``per_page`` distinct products each from the real dataset: a section per
    product with its name, its "about" bullets and its reviews, so most pages need several chunks."""
    sections: list[str] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["product_id"] in seen:
                continue
            seen.add(row["product_id"])
            about = "\n\n".join(part.strip() for part in row["about_product"].split("|") if part.strip())
            reviews = "\n\n".join(part.strip() for part in row["review_content"].split(",") if len(part.strip()) > 20)
            sections.append(f"## {row['product_name']}\n\n{about}\n\n### What customers say\n\n{reviews}")
            if len(sections) == count * per_page:
                break
    return {
        f"documents/products/page-{n:04d}.md": ("# Product notes\n\n" + "\n\n".join(sections[n * per_page:(n + 1) * per_page]) + "\n").encode()
        for n in range(len(sections) // per_page)
    }


def _edit(data: bytes, n: int) -> bytes:
    """Rewrite one paragraph in the middle of a document."""
    paragraphs = data.decode().split("\n\n")
    middle = len(paragraphs) // 2
    paragraphs[middle] = f"Edited in refresh round {n}: " + paragraphs[middle][::-1]
    return "\n\n".join(paragraphs).encode()


def _child(bedrock_url: str) -> dict[str, Any]:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    from genai_personalization.operators.documents import DocumentIngestOperator
    from genai_personalization.operators.embeddings import EmbeddingRefreshOperator
    from genai_personalization.retrieval import KnowledgeRetriever
    from local.seed.documents import QUESTIONS_PATH, SOURCE_DIR, document_key, generate_documents

    def embedding_calls() -> int:
        with urllib.request.urlopen(f"{bedrock_url}/_local/stats") as response:  # noqa: S310 (local URL)
            return int(json.load(response)["embedding_texts"])

    hook = SnowflakeHook(snowflake_conn_id="snowflake_default")

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in hook.get_records(sql.format(db=DATABASE)) or []]

    def snapshot() -> dict[str, list[tuple[Any, ...]]]:
        return {name: rows(sql) for name, sql in SNAPSHOT.items()}

    def hashes() -> set[str]:
        return {r[0] for r in rows("SELECT DISTINCT CONTENT_HASH FROM {db}.RAG.CHUNKS")}

    def refresh(run: str) -> dict[str, Any]:
        before = embedding_calls()
        start = time.perf_counter()
        ingest = DocumentIngestOperator(task_id="ingest").execute({"run_id": run})
        ingest_s = time.perf_counter() - start
        start = time.perf_counter()
        embed = EmbeddingRefreshOperator(task_id="embed").execute({"run_id": run})
        return {"ingest": ingest, "ingest_s": round(ingest_s, 2), "embed": embed,
                "embed_s": round(time.perf_counter() - start, 2), "model_calls": embedding_calls() - before}

    s3 = S3Hook(aws_conn_id="aws_default")
    s3.create_bucket(BUCKET)
    hook.run(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
    documents = generate_documents()
    documents.update(product_pages(CORPUS_DOCUMENTS - len(documents)))
    for key, data in documents.items():
        s3.load_bytes(data, key, bucket_name=BUCKET, replace=True)

    first = refresh("bench-first")
    chunk_stats = rows("SELECT COUNT(*), AVG(TOKEN_COUNT), MAX(TOKEN_COUNT) FROM {db}.RAG.CHUNKS")[0]

    before = snapshot()
    unchanged = refresh("bench-unchanged")
    written = sum(1 for name in SNAPSHOT if snapshot()[name] != before[name])

    edited_keys = sorted(k for k in documents if k.startswith("documents/products/"))[:: int(1 / EDITED_SHARE)]
    before_hashes = hashes()
    for key in edited_keys:
        s3.load_bytes(_edit(documents[key], 1), key, bucket_name=BUCKET, replace=True)
    edited = refresh("bench-edited")
    changed_chunks = len(hashes() - before_hashes)

    questions = [json.loads(line) for line in QUESTIONS_PATH.read_text().splitlines() if line.strip()]
    hits, search_s = 0, []
    with KnowledgeRetriever() as retriever:
        for q in questions:
            expected = f"s3://{BUCKET}/{document_key(SOURCE_DIR / q['document'])}"
            start = time.perf_counter()
            found = retriever.search(q["question"], k=3)
            search_s.append(time.perf_counter() - start)
            hits += any(chunk.source_uri == expected for chunk in found)
    search_s.sort()
    return {
        "documents": len(documents), "chunks": chunk_stats[0], "avg_tokens_per_chunk": round(float(chunk_stats[1]), 1),
        "max_tokens_per_chunk": chunk_stats[2],
        "first_ingest_s": first["ingest_s"], "first_embed_s": first["embed_s"], "first_model_calls": first["model_calls"],
        "unchanged_documents_read": unchanged["ingest"]["read"], "unchanged_model_calls": unchanged["model_calls"],
        "unchanged_tables_written": written, "unchanged_ingest_s": unchanged["ingest_s"],
        "unchanged_embed_s": unchanged["embed_s"],
        "edited_documents": len(edited_keys), "edited_changed_chunks": changed_chunks,
        "edited_model_calls": edited["model_calls"], "edited_calls_equal_changed_chunks": edited["model_calls"] == changed_chunks,
        "edited_pruned": edited["embed"]["pruned"],
        "recall_at_3": round(hits / len(questions), 3), "questions": len(questions),
        "search_median_ms": round(search_s[len(search_s) // 2] * 1000, 1),
    }


def run() -> dict[str, object]:
    from bench.private_stack import run_child

    if not AMAZON_CSV.is_file():
        return {"skipped": f"{AMAZON_CSV} not found"}
    return run_child("bench.knowledge_refresh", {"GENAI_LANDING_BUCKET": BUCKET, "GENAI_SNOWFLAKE_DATABASE": DATABASE})

if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(_child(sys.argv[1]), default=str))
