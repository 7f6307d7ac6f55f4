"""Chunking a ~20 MB corpus: our Chunker vs one tiktoken encode of the same text vs LangChain.

The corpus is real text, built in memory: the Amazon Sales Dataset CSV (read in place, never
copied; see local/datasets.py) as one document per product category (each product's name, "about
product" text and review text, as in the CSV) plus the company documents of local/seed/documents,
repeated in "editions" until the corpus reaches TARGET_BYTES. Each edition shuffles the products
inside each category document and numbers its documents, so no two documents are the same string.

In one run, interleaved (a noisy neighbour on a shared machine slows every contender alike), the
median of REPEATS timings (LANGCHAIN_REPEATS for LangChain) over the same documents of:
(a) tiktoken ``encode_ordinary`` of every document: the floor for any token-exact chunker;
(b) our Chunker (cl100k_base, max 512, overlap 64) over every document;
(c) LangChain ``RecursiveCharacterTextSplitter.from_tiktoken_encoder(encoding_name="cl100k_base",
    chunk_size=512, chunk_overlap=64).split_text`` over every document: always the full corpus.
The same three on the whole corpus as one string (one 20 MB document) are reported too.
Targets: (b)/(a) <= 1.5 and (c)/(b) >= 3.

Wall time and this process's CPU time are both reported: everything timed is single-threaded, so
CPU time is the work done whatever else runs on the machine, though a busy neighbour on the same
core still slows it (on a shared 2-core machine runs vary by up to a third), so the ratios of the
fastest runs are reported as well. Afterwards, outside the timings, every chunk of both splitters
is encoded again: the largest chunk in tokens (ours must be <= 512) and how many of our token
counts differ from tiktoken's (must be 0).
"""

from __future__ import annotations

import csv
import gc
import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local.datasets import amazon_sales_csv

REPO_ROOT = Path(__file__).resolve().parent.parent
AMAZON_CSV = amazon_sales_csv()
SEED_DOCUMENTS = REPO_ROOT / "local" / "seed" / "documents"
TARGET_BYTES = 20_000_000
REPEATS = 5
LANGCHAIN_REPEATS = 3
ENCODING, MAX_TOKENS, OVERLAP_TOKENS = "cl100k_base", 512, 64


def _catalog() -> dict[str, list[str]]:
    """Category -> one text per product: name, about text and reviews (the CSV's own words)."""
    products: dict[str, list[str]] = {}
    seen: set[str] = set()
    with AMAZON_CSV.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["product_id"] in seen:
                continue
            seen.add(row["product_id"])
            text = f"## {row['product_name']}\n\n{row['about_product']}\n\n{row['review_content']}"
            products.setdefault(row["category"], []).append(text)
    return products


def _seed_documents() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(SEED_DOCUMENTS.rglob("*")) if p.is_file()
            and p.suffix != ".jsonl"]


def build_corpus(target_bytes: int = TARGET_BYTES) -> list[str]:
    catalog, seed = _catalog(), _seed_documents()
    docs: list[str] = []
    size = 0
    edition = 0
    while size < target_bytes:
        rng = random.Random(edition)
        for category, products in sorted(catalog.items()):
            order = list(products)
            rng.shuffle(order)
            docs.append(f"# {category.split('|')[-1]} (edition {edition})\n\n" + "\n\n".join(order))
        docs.extend(f"{doc}\n\nEdition {edition}." for doc in seed)
        size = sum(len(d.encode("utf-8")) for d in docs)
        edition += 1
    return docs


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, result). Everything timed here is single-threaded, so
    CPU time is the work done, whatever else runs on the machine; wall time is what a user waits. As
    timeit does, the garbage collector is off while timing (the same for every contender)."""
    gc.collect()
    gc.disable()
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        return time.perf_counter() - wall, time.process_time() - cpu, result
    finally:
        gc.enable()


def run() -> dict[str, object]:
    import tiktoken
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from include.knowledge.chunking import Chunker, ChunkerConfig
    from local.assets import DEFAULT_ASSETS_DIR, TIKTOKEN_ENCODINGS, ensure

    ensure(TIKTOKEN_ENCODINGS, DEFAULT_ASSETS_DIR / "tiktoken")  # offline encodings, as the stack uses
    os.environ["TIKTOKEN_CACHE_DIR"] = str(DEFAULT_ASSETS_DIR / "tiktoken")
    docs = build_corpus()
    one_string = "\n\n".join(docs)
    corpus_mb = len(one_string.encode("utf-8")) / 1e6

    encoding = tiktoken.get_encoding(ENCODING)
    chunker = Chunker(ChunkerConfig(ENCODING, MAX_TOKENS, OVERLAP_TOKENS))
    splitter = RecursiveCharacterTextSplitter.from_tiktoken_encoder(
        encoding_name=ENCODING, chunk_size=MAX_TOKENS, chunk_overlap=OVERLAP_TOKENS
    )
    chunker.chunk(docs[0])  # warm: encoding and lookup tables are built once per process
    splitter.split_text(docs[0])

    # interleaved, so that a noisy neighbour on a shared machine slows every contender alike
    contenders: dict[str, Callable[[], Any]] = {
        "encode": lambda: [encoding.encode_ordinary(d) for d in docs],
        "ours": lambda: [chunker.chunk(d) for d in docs],
        "langchain": lambda: [splitter.split_text(d) for d in docs],
        "encode_one_string": lambda: encoding.encode_ordinary(one_string),
        "ours_one_string": lambda: chunker.chunk(one_string),
        "langchain_one_string": lambda: splitter.split_text(one_string),
    }
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    results: dict[str, Any] = {}
    for rep in range(max(REPEATS, LANGCHAIN_REPEATS)):
        for name, fn in contenders.items():
            if rep < (LANGCHAIN_REPEATS if name.startswith("langchain") else REPEATS):
                seconds, cpu_seconds, result = _timed(fn)
                # keep what the report needs, not millions of token ids
                if name == "encode":
                    result = sum(map(len, result))
                elif name == "encode_one_string":
                    result = None
                results[name] = result
                wall[name].append(seconds)
                cpu[name].append(cpu_seconds)
    med = {name: statistics.median(times) for name, times in wall.items()}
    med_cpu = {name: statistics.median(times) for name, times in cpu.items()}
    tokens, ours, theirs, ours1 = results["encode"], results["ours"], results["langchain"], results["ours_one_string"]

    # outside the timings: every chunk encoded again
    our_chunks = [c for doc in ours for c in doc]
    inexact = sum(len(encoding.encode_ordinary(c.text)) != c.token_count for c in our_chunks)
    their_chunks = [c for doc in theirs for c in doc]
    their_max = max(len(encoding.encode_ordinary(c)) for c in their_chunks)
    return {
        "corpus_mb": round(corpus_mb, 1), "documents": len(docs), "tokens": tokens,
        "encode_s": round(med["encode"], 2), "ours_s": round(med["ours"], 2), "langchain_s": round(med["langchain"], 2),
        "ours_over_encode": round(med["ours"] / med["encode"], 2), "target_ours_over_encode_at_most": 1.5,
        "langchain_over_ours": round(med["langchain"] / med["ours"], 2), "target_langchain_over_ours_at_least": 3,
        "cpu": {"encode_s": round(med_cpu["encode"], 2), "ours_s": round(med_cpu["ours"], 2),
                "langchain_s": round(med_cpu["langchain"], 2),
                "ours_over_encode": round(med_cpu["ours"] / med_cpu["encode"], 2),
                "langchain_over_ours": round(med_cpu["langchain"] / med_cpu["ours"], 2)},
        "one_string": {
            "encode_s": round(med["encode_one_string"], 2), "ours_s": round(med["ours_one_string"], 2),
            "langchain_s": round(med["langchain_one_string"], 2),
            "ours_over_encode": round(med["ours_one_string"] / med["encode_one_string"], 2),
            "langchain_over_ours": round(med["langchain_one_string"] / med["ours_one_string"], 2),
            "cpu_ours_over_encode": round(med_cpu["ours_one_string"] / med_cpu["encode_one_string"], 2),
            "cpu_langchain_over_ours": round(med_cpu["langchain_one_string"] / med_cpu["ours_one_string"], 2),
            "chunks": {"ours": len(ours1), "langchain": len(results["langchain_one_string"])},
        },
        # the fastest run of each: what the work costs when nothing else on the machine gets in the way
        "best_of_runs": {
            "ours_over_encode": round(min(cpu["ours"]) / min(cpu["encode"]), 2),
            "langchain_over_ours": round(min(cpu["langchain"]) / min(cpu["ours"]), 2),
            "one_string_ours_over_encode": round(min(cpu["ours_one_string"]) / min(cpu["encode_one_string"]), 2),
            "one_string_langchain_over_ours": round(
                min(cpu["langchain_one_string"]) / min(cpu["ours_one_string"]), 2),
        },
        "runs": {name: len(times) for name, times in wall.items()},
        "wall_runs_s": {name: [round(t, 2) for t in times] for name, times in wall.items()},
        "chunks": {"ours": len(our_chunks), "langchain": len(their_chunks)},
        "max_chunk_tokens": {"ours": max(c.token_count for c in our_chunks), "langchain": their_max},
        "ours_inexact_token_counts": inexact,
    }
