"""include.knowledge.chunking: token bounds, boundaries, overlap, multi-byte safety, determinism, config.

Every test uses the real tiktoken encodings (offline, from .local/assets/tiktoken) and checks token
counts against tiktoken itself. Real text: the company documents under local/seed/documents and the
review text of the Amazon Sales Dataset (read by path, never copied).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from include.knowledge.chunking import Chunk, Chunker, ChunkerConfig, chunk_id
from local.datasets import amazon_sales_csv

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED_DOCUMENTS = REPO_ROOT / "local" / "seed" / "documents"
REAL_FILE = amazon_sales_csv()

CONFIGS = [
    ChunkerConfig(),
    ChunkerConfig(max_tokens=64, overlap_tokens=8),
    ChunkerConfig(max_tokens=16, overlap_tokens=7),
    ChunkerConfig(encoding="o200k_base", max_tokens=100, overlap_tokens=20),
]


@pytest.fixture(scope="module", autouse=True)
def offline_encodings() -> Iterator[None]:
    """tiktoken reads its encodings from the verified local copies (no download at test time)."""
    from local.assets import DEFAULT_ASSETS_DIR, TIKTOKEN_ENCODINGS, ensure

    folder = DEFAULT_ASSETS_DIR / "tiktoken"
    ensure(TIKTOKEN_ENCODINGS, folder)
    saved = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    yield
    if saved is None:
        os.environ.pop("TIKTOKEN_CACHE_DIR", None)
    else:
        os.environ["TIKTOKEN_CACHE_DIR"] = saved


def encoding(name: str = "cl100k_base") -> Any:
    import tiktoken

    return tiktoken.get_encoding(name)


def seed_documents() -> dict[str, str]:
    return {str(p.relative_to(SEED_DOCUMENTS)): p.read_text(encoding="utf-8")
            for p in sorted(SEED_DOCUMENTS.rglob("*")) if p.is_file() and p.suffix != ".jsonl"}


def review_documents(limit: int | None = None) -> dict[str, str]:
    """One document per product of the real dataset: its name, "about" text and review text."""
    docs: dict[str, str] = {}
    with REAL_FILE.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            text = f"{row['product_name']}\n\n{row['about_product']}\n\n{row['review_content']}"
            docs.setdefault(row["product_id"], text)
            if limit and len(docs) >= limit:
                break
    return docs


def spans(text: str, chunks: list[Chunk]) -> list[tuple[int, int]]:
    """Where each chunk's text lies in the (stripped) document, in order: each found after the previous
    chunk's start and no later than its end (chunks overlap or touch)."""
    located: list[tuple[int, int]] = []
    for chunk in chunks:
        lo = located[-1][0] + 1 if located else 0
        start = text.find(chunk.text, lo)
        assert start >= 0, f"chunk {chunk.ordinal} is not in the text after chunk {chunk.ordinal - 1}"
        located.append((start, start + len(chunk.text)))
    return located


def check_chunks(text: str, chunks: list[Chunk], config: ChunkerConfig) -> None:
    """The properties every chunking must have."""
    enc = encoding(config.encoding)
    text = text.strip()
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert c.text and c.text == c.text.strip()
        # token_count is exact for the text as stored (tiktoken again), and within the bound
        assert c.token_count == len(enc.encode_ordinary(c.text)) <= config.max_tokens, c.ordinal
        assert c.content_hash == hashlib.sha256(c.text.encode("utf-8")).hexdigest()
        assert "\ufffd" not in c.text or "\ufffd" in text
    located = spans(text, chunks)
    # nothing lost: the chunks start at the text's start, end at its end, and between two chunks
    # (if they do not overlap) there is only whitespace
    assert located[0][0] == 0 and located[-1][1] == len(text)
    for (_, prev_end), (start, _) in zip(located, located[1:]):
        assert not text[prev_end:start].strip()


def overlaps(text: str, chunks: list[Chunk], config: ChunkerConfig) -> list[int]:
    """Per pair of neighbours: how many of the document's own tokens lie inside both."""
    import tiktoken

    enc: tiktoken.Encoding = encoding(config.encoding)
    text = text.strip()
    _, starts = enc.decode_with_offsets(enc.encode_ordinary(text))
    located = spans(text, chunks)
    counts = []
    for (_, prev_end), (start, end) in zip(located, located[1:]):
        counts.append(sum(1 for s in starts if start <= s < prev_end))
    return counts


# --- configuration ------------------------------------------------------------------------------


def test_defaults_and_the_description_stored_with_each_chunk() -> None:
    config = ChunkerConfig()
    assert (config.encoding, config.max_tokens, config.overlap_tokens) == ("cl100k_base", 512, 64)
    assert config.describe() == "tiktoken:cl100k_base/max=512/overlap=64/v1"
    assert ChunkerConfig("o200k_base", 256, 0).describe() == "tiktoken:o200k_base/max=256/overlap=0/v1"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_tokens": 15}, "max_tokens must be an integer >= 16, got 15"),
    ({"max_tokens": "512"}, "max_tokens must be an integer >= 16, got '512'"),
    ({"max_tokens": 512.0}, "max_tokens must be an integer"),
    ({"overlap_tokens": -1}, r"overlap_tokens must be an integer in \[0, max_tokens // 2 = 256\), got -1"),
    ({"overlap_tokens": 256}, r"overlap_tokens must be an integer in \[0, max_tokens // 2 = 256\), got 256"),
    ({"max_tokens": 16, "overlap_tokens": 8}, r"\[0, max_tokens // 2 = 8\), got 8"),
    ({"overlap_tokens": True}, "overlap_tokens must be an integer"),
    ({"encoding": "CL100K_BASE"}, "encoding must be a tiktoken encoding name like cl100k_base, got 'CL100K_BASE'"),
    ({"encoding": ""}, "encoding must be a tiktoken encoding name"),
    ({"encoding": "../etc/passwd"}, "encoding must be a tiktoken encoding name"),
])
def test_invalid_configuration_is_refused_in_one_line(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        ChunkerConfig(**kwargs)
    assert "\n" not in str(raised.value)


def test_largest_overlap_and_smallest_window_are_accepted() -> None:
    assert ChunkerConfig(max_tokens=16, overlap_tokens=7).overlap_tokens == 7
    assert ChunkerConfig(max_tokens=512, overlap_tokens=255).overlap_tokens == 255


def test_an_encoding_tiktoken_does_not_know_is_refused_when_the_chunker_is_made() -> None:
    config = ChunkerConfig(encoding="no_such_base")  # a well-formed name
    with pytest.raises(ValueError, match="chunk encoding 'no_such_base' is not a tiktoken encoding"):
        Chunker(config)


def test_from_env_reads_the_three_settings_and_defaults_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"GENAI_CHUNK_ENCODING": "o200k_base", "GENAI_CHUNK_MAX_TOKENS": "256", "GENAI_CHUNK_OVERLAP_TOKENS": "32"}
    assert ChunkerConfig.from_env(env) == ChunkerConfig("o200k_base", 256, 32)
    assert ChunkerConfig.from_env({}) == ChunkerConfig()
    assert ChunkerConfig.from_env({"GENAI_CHUNK_MAX_TOKENS": " 1024 ", "GENAI_CHUNK_ENCODING": ""}) == ChunkerConfig(
        max_tokens=1024)
    for name in env:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GENAI_CHUNK_OVERLAP_TOKENS", "0")
    assert ChunkerConfig.from_env() == ChunkerConfig(overlap_tokens=0)


@pytest.mark.parametrize(("env", "message"), [
    ({"GENAI_CHUNK_MAX_TOKENS": "lots"}, "GENAI_CHUNK_MAX_TOKENS must be an integer, got 'lots'"),
    ({"GENAI_CHUNK_OVERLAP_TOKENS": "6.4"}, "GENAI_CHUNK_OVERLAP_TOKENS must be an integer, got '6.4'"),
    ({"GENAI_CHUNK_MAX_TOKENS": "64", "GENAI_CHUNK_OVERLAP_TOKENS": "64"}, "overlap_tokens must be an integer in"),
    ({"GENAI_CHUNK_ENCODING": "cl100k base"}, "encoding must be a tiktoken encoding name"),
])
def test_from_env_refuses_bad_values_in_one_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        ChunkerConfig.from_env(env)
    assert "\n" not in str(raised.value)


def test_importing_the_module_imports_neither_tiktoken_nor_numpy() -> None:
    code = ("import sys, include.knowledge.chunking as m; m.ChunkerConfig.from_env({}).describe(); "
            "print(sorted(n for n in ('tiktoken', 'numpy', 'airflow') if n in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- basic behaviour ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\n\t  \r\n", "\u00a0\u3000"])
def test_empty_or_whitespace_text_has_no_chunks(text: str) -> None:
    assert Chunker().chunk(text) == []


def test_a_short_text_is_one_chunk_without_its_surrounding_whitespace() -> None:
    [chunk] = Chunker().chunk("\n\n  Returns are free within 30 days.  \n")
    assert chunk == Chunk(0, "Returns are free within 30 days.", 8,
                          hashlib.sha256(b"Returns are free within 30 days.").hexdigest())
    assert chunk.token_count == len(encoding().encode_ordinary(chunk.text))


def test_special_token_text_is_plain_text() -> None:
    text = " ".join(f"Our parser once printed <|endoftext|> into product page {i}." for i in range(40))
    chunks = Chunker(ChunkerConfig(max_tokens=64, overlap_tokens=8)).chunk(text)
    assert len(chunks) > 1 and any("<|endoftext|>" in c.text for c in chunks)
    check_chunks(text, chunks, ChunkerConfig(max_tokens=64, overlap_tokens=8))


def test_lone_surrogates_are_replaced_as_tiktoken_does() -> None:
    [chunk] = Chunker().chunk("broken \ud800 text")
    assert chunk.text == "broken \ufffd text"
    assert chunk.token_count == len(encoding().encode_ordinary("broken \ufffd text"))


# --- real text: bounds, exact counts, nothing lost --------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.describe())
def test_company_documents_are_chunked_within_bounds_with_exact_counts_and_nothing_lost(config: ChunkerConfig) -> None:
    chunker = Chunker(config)
    total = 0
    for name, text in seed_documents().items():
        chunks = chunker.chunk(text)
        check_chunks(text, chunks, config)
        total += len(chunks)
    assert total >= len(seed_documents())


@pytest.mark.skipif(not REAL_FILE.exists(), reason=f"the real dataset is not at {REAL_FILE} (set AMAZON_SALES_CSV)")
@pytest.mark.parametrize("config", CONFIGS[:3], ids=lambda c: c.describe())
def test_review_text_is_chunked_within_bounds_with_exact_counts_and_nothing_lost(config: ChunkerConfig) -> None:
    """Long single-line reviews with emoji, rupee signs and curly quotes; with a small window, cuts fall
    inside words and after stripped spaces, where a slice's tokens and its text's tokens differ."""
    docs = review_documents(limit=None if config.max_tokens > 16 else 150)
    chunker = Chunker(config)
    split = 0
    for text in docs.values():
        chunks = chunker.chunk(text)
        check_chunks(text, chunks, config)
        split += len(chunks) > 1
    assert split > 20


def test_stripping_a_space_that_adds_tokens_still_respects_the_bound() -> None:
    """" breathable" is one cl100k token, "breathable" three: a chunk starting after a stripped space has
    more tokens than its slice of the document, so it must be cut shorter."""
    enc = encoding()
    vocabulary = ["Kubernetes", "waterproof", "Gore", "breathable", "insulation"]
    assert [(len(enc.encode_ordinary(f" {w}")), len(enc.encode_ordinary(w))) for w in vocabulary] == [
        (1, 2), (1, 2), (1, 2), (1, 3), (1, 2)]
    config = ChunkerConfig(max_tokens=16, overlap_tokens=7)
    text = " ".join(vocabulary[(i * i + i // 7) % 5] for i in range(600))
    chunks = Chunker(config).chunk(text)
    check_chunks(text, chunks, config)
    assert max(c.token_count for c in chunks) == 16
    # whose slice of the document had fewer tokens than its text
    assert any(len(enc.encode_ordinary(f" {c.text}")) < c.token_count for c in chunks)


def test_the_document_is_tokenized_once_and_only_chunk_edges_again(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "\n\n".join(seed_documents().values())
    chunker = Chunker(ChunkerConfig(max_tokens=128, overlap_tokens=16))
    whole: list[int] = []
    fragments: list[int] = []
    real_numpy, real_ordinary = chunker._encoding.encode_to_numpy, chunker._encode

    class Counting:
        def encode_to_numpy(self, s: str, **kwargs: Any) -> Any:
            whole.append(len(s))
            return real_numpy(s, **kwargs)

    def ordinary(s: str) -> list[int]:
        fragments.append(len(s))
        return real_ordinary(s)

    monkeypatch.setattr(chunker, "_encoding", Counting())
    monkeypatch.setattr(chunker, "_encode", ordinary)
    chunks = chunker.chunk(text)
    assert len(chunks) > 50
    assert whole == [len(text.strip())]
    # what is encoded again is a word or two at a chunk's edges, not the chunks
    assert len(fragments) <= 2 * len(chunks) and sum(fragments) < 0.05 * len(text)


# --- where chunks end and start -------------------------------------------------------------------


def words(count: int, seed: int = 0) -> str:
    """``count`` words in an order that does not repeat (so each chunk's text is found in one place)."""
    vocabulary = ["wool", "boots", "jacket", "repair", "store", "order", "parcel", "stitch", "leather", "down"]
    return " ".join(vocabulary[(seed + i * i + i // 10) % len(vocabulary)] for i in range(count))


def test_a_paragraph_break_wins_over_later_sentence_ends() -> None:
    config = ChunkerConfig(max_tokens=64, overlap_tokens=0)
    first = f"{words(20).capitalize()}. {words(20, 1).capitalize()}."  # about 42 tokens
    second = " ".join(f"{words(6, i).capitalize()}." for i in range(12))
    chunks = Chunker(config).chunk(f"{first}\n\n{second}")
    assert chunks[0].text == first
    check_chunks(f"{first}\n\n{second}", chunks, config)


def test_a_heading_starts_a_new_chunk_rather_than_ending_the_previous_one() -> None:
    config = ChunkerConfig(max_tokens=64, overlap_tokens=0)
    body = "\n\n".join(f"{words(8, i).capitalize()}." for i in range(4))  # four paragraphs, about 40 tokens
    text = f"{body}\n\n## Care\n\n{words(40).capitalize()}."
    chunks = Chunker(config).chunk(text)
    assert chunks[0].text == body and chunks[1].text.startswith("## Care\n\nWool")
    # and with the heading early in the window, the chunk does not end between the heading and its text
    text = f"{words(20).capitalize()}.\n\n## Care\n\n{words(60, 3).capitalize()}."
    chunks = Chunker(config).chunk(text)
    assert not chunks[0].text.endswith("## Care")


@pytest.mark.parametrize("config", CONFIGS[:2], ids=lambda c: c.describe())
def test_no_chunk_of_the_markdown_documents_ends_with_a_heading(config: ChunkerConfig) -> None:
    for name, text in seed_documents().items():
        if name.endswith(".md"):
            for c in Chunker(config).chunk(text)[:-1]:
                assert not c.text.splitlines()[-1].startswith("#"), (name, c.ordinal)


def test_the_last_sentence_end_in_the_window_wins_over_word_boundaries() -> None:
    config = ChunkerConfig(max_tokens=64, overlap_tokens=0)
    sentences = [f"{words(9, i).capitalize()}." for i in range(20)]  # about 10 tokens each
    text = " ".join(sentences)
    chunks = Chunker(config).chunk(text)
    enc = encoding()
    for c in chunks[:-1]:
        assert c.text.endswith(".")
        # and no further sentence would have fitted
        following = text[text.index(c.text) + len(c.text):].split(". ")[0]
        assert len(enc.encode_ordinary(f"{c.text} {following}.")) > config.max_tokens
    check_chunks(text, chunks, config)


def test_a_sentence_end_needs_an_upper_case_start_and_wrapped_lines_are_only_word_boundaries() -> None:
    """"e.g. wool" is no sentence end, and a line break in wrapped prose is not one either."""
    config = ChunkerConfig(max_tokens=48, overlap_tokens=0)
    sentence = f"Natural fibres, e.g. wool and {words(12)} need care".replace(" store ", " store\n")
    wrapped = f"{sentence}.\nThey {words(14, 3)} {words(14, 5)}.".replace(" store ", " store\n")
    chunks = Chunker(config).chunk(wrapped)
    assert chunks[0].text == f"{sentence}."
    check_chunks(wrapped, chunks, config)


def test_without_punctuation_chunks_end_between_words() -> None:
    config = ChunkerConfig(max_tokens=32, overlap_tokens=4)
    text = words(300)
    chunks = Chunker(config).chunk(text)
    vocabulary = set(text.split())
    for c in chunks:
        assert set(c.text.split()) <= vocabulary
    check_chunks(text, chunks, config)


def test_neighbours_overlap_by_at_most_the_configured_tokens_and_start_on_a_word_or_sentence() -> None:
    config = ChunkerConfig(max_tokens=64, overlap_tokens=16)
    for text in seed_documents().values():
        chunks = Chunker(config).chunk(text)
        counts = overlaps(text, chunks, config)
        assert all(1 <= n <= config.overlap_tokens for n in counts), counts
        stripped = text.strip()
        for start, _ in spans(stripped, chunks)[1:]:
            assert stripped[start - 1].isspace() or stripped[start - 1] in ".!?"


def test_without_overlap_neighbours_only_touch() -> None:
    config = ChunkerConfig(max_tokens=64, overlap_tokens=0)
    for text in seed_documents().values():
        chunks = Chunker(config).chunk(text)
        located = spans(text.strip(), chunks)
        assert all(start >= prev_end for (_, prev_end), (start, _) in zip(located, located[1:]))
        check_chunks(text, chunks, config)


# --- multi-byte text ------------------------------------------------------------------------------

GRAPHEME_TAILS = ("\u200d", "\ufe0f", "\u0301", "\u0308", "\U0001f3fd", "\u20e3")

MULTI_BYTE = {  # each repetition numbered, so every chunk's text is found in one place only
    "emoji": "".join(f"Loved it {i} 👨‍👩‍👧‍👦 family trip! 👍🏽👍🏽 ❤️ Great boots 🥾🇦🇹 1️⃣ 2️⃣ 🏳️‍🌈 " for i in range(30)),
    "chinese": "".join(f"第{i}条：我们的羽绒服采用可追溯的羽绒。每件夹克都可以在因斯布鲁克的工作室修理。退货在三十天内免费！"
                       for i in range(20)),
    "japanese": "".join(f"{i}. 鉄のフライパンは一生使えます。使った後はお湯で洗い、よく乾かしてください。" for i in range(25)),
    "accents": "".join(f"Gru\u0308\u00dfe {i} aus Ko\u0308ln, caf\u00e9 cre\u0300me, A\u030angstro\u0308m, "
                       "na\u00efve r\u00e9sum\u00e9s. " for i in range(40)),
    "mixed": "".join(f"Größe {i} – passt gut ✓ «très bien» “great” ₹1,099 → 세탁 후 건조 ★★★★☆ … " for i in range(30)),
}


@pytest.mark.parametrize("config", [CONFIGS[1], CONFIGS[3]], ids=lambda c: c.describe())
@pytest.mark.parametrize("name", list(MULTI_BYTE))
def test_multi_byte_text_is_never_cut_inside_a_character_or_grapheme(name: str, config: ChunkerConfig) -> None:
    text = MULTI_BYTE[name]
    chunks = Chunker(config).chunk(text)
    assert len(chunks) > 2
    check_chunks(text, chunks, config)  # among others: no U+FFFD, so no cut inside a character
    for c in chunks:
        assert not c.text.startswith(GRAPHEME_TAILS) and not c.text.endswith("\u200d"), c.text[:3]
    if name == "emoji":
        family = "👨‍👩‍👧‍👦"
        for c in chunks:  # a ZWJ family is whole or absent
            assert c.text.count("\u200d") == 3 * c.text.count(family) + c.text.count("🏳️‍🌈")


@pytest.mark.parametrize("name", list(MULTI_BYTE))
def test_with_a_tiny_window_a_grapheme_longer_than_the_window_is_cut_between_code_points(name: str) -> None:
    """The ZWJ family is 18 cl100k tokens: with max_tokens=16 it cannot stay whole, so it is cut after a
    ZWJ, still never inside a character; every other grapheme stays whole."""
    config = ChunkerConfig(max_tokens=16, overlap_tokens=7)
    text = MULTI_BYTE[name]
    assert len(encoding().encode_ordinary("👨‍👩‍👧‍👦")) == 18
    chunks = Chunker(config).chunk(text)
    check_chunks(text, chunks, config)
    for c in chunks:
        if "👨" not in c.text and "👧" not in c.text:
            assert not c.text.startswith(GRAPHEME_TAILS) and not c.text.endswith("\u200d"), c.text[:3]


def test_cjk_text_prefers_its_own_sentence_ends() -> None:
    config = ChunkerConfig(max_tokens=64, overlap_tokens=0)
    text = MULTI_BYTE["chinese"]
    chunks = Chunker(config).chunk(text)
    assert all(c.text.endswith(("。", "！")) for c in chunks)


def test_spans_applied_in_python_or_numpy_give_the_same_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Few line-structure spans are applied in a Python loop, many with numpy: the results agree."""
    import include.knowledge.chunking as chunking

    config = ChunkerConfig(max_tokens=64, overlap_tokens=8)
    texts = [*seed_documents().values(), *MULTI_BYTE.values()]
    monkeypatch.setattr(chunking, "_SPANS_IN_NUMPY", 10**9)
    in_python = [Chunker(config).chunk(text) for text in texts]
    monkeypatch.setattr(chunking, "_SPANS_IN_NUMPY", -1)
    assert [Chunker(config).chunk(text) for text in texts] == in_python


# --- determinism and ids ----------------------------------------------------------------------------


def test_same_text_and_config_give_the_same_chunks_and_ids() -> None:
    config = ChunkerConfig(max_tokens=64, overlap_tokens=8)
    text = "\n\n".join(seed_documents().values())
    first = Chunker(config).chunk(text)
    again = Chunker(ChunkerConfig(max_tokens=64, overlap_tokens=8)).chunk(text)
    assert first == again
    assert [chunk_id("doc-1", c) for c in first] == [chunk_id("doc-1", c) for c in again]
    # a subprocess (fresh caches) agrees too
    code = ("import json, sys; from include.knowledge.chunking import *; "
            "c = Chunker(ChunkerConfig(max_tokens=64, overlap_tokens=8)).chunk(sys.stdin.read()); "
            "print(json.dumps([chunk_id('doc-1', x) for x in c]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, input=text, capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONHASHSEED": "123"})
    assert out.stdout.strip() == str([chunk_id("doc-1", c) for c in first]).replace("'", '"')


def test_chunk_ids_depend_on_document_position_and_text() -> None:
    chunk = Chunk(3, "Returns are free.", 4, hashlib.sha256(b"Returns are free.").hexdigest())
    expected = hashlib.sha256(f"doc-1\x1f3\x1f{chunk.content_hash}".encode()).hexdigest()[:32]
    assert chunk_id("doc-1", chunk) == expected
    assert len(expected) == 32 and int(expected, 16) >= 0
    other_text = Chunk(3, "Returns cost 5 EUR.", 6, hashlib.sha256(b"Returns cost 5 EUR.").hexdigest())
    moved = dataclasses.replace(chunk, ordinal=4)
    ids = {chunk_id("doc-1", chunk), chunk_id("doc-2", chunk), chunk_id("doc-1", moved), chunk_id("doc-1", other_text)}
    assert len(ids) == 4
