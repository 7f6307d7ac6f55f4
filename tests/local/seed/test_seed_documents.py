"""documents/**: formats, boilerplate, extractable PDF, and the retrieval question set."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from local.seed.documents import QUESTIONS_PATH, SOURCE_DIR
from local.seed.generate import SeedOutput
from local.seed.retailer import STORES, WARRANTY_YEARS


def pdf_text(data: bytes) -> str:
    """The text shown by an uncompressed fpdf2 PDF: every literal string drawn with Tj."""
    assert data.startswith(b"%PDF-")
    raw = data.decode("latin-1")
    strings = re.findall(r"\(((?:[^()\\]|\\.)*)\) Tj", raw)
    return " ".join(re.sub(r"\\(.)", r"\1", s) for s in strings)


def plain(key: str, data: bytes) -> str:
    text = pdf_text(data) if key.endswith(".pdf") else data.decode("utf-8")
    return " ".join(text.split())


@pytest.fixture(scope="module")
def documents(seed_output: SeedOutput) -> dict[str, str]:
    return {key.removeprefix("documents/"): plain(key, data)
            for key, data in seed_output.files.items() if key.startswith("documents/")}


@pytest.fixture(scope="module")
def questions() -> list[dict[str, str]]:
    return [json.loads(line) for line in QUESTIONS_PATH.read_text("utf-8").splitlines()]


def test_ten_to_fourteen_documents_in_every_format(documents: dict[str, str]) -> None:
    assert 10 <= len(documents) <= 14
    formats = Counter(name.rsplit(".", 1)[1] for name in documents)
    assert set(formats) == {"md", "txt", "html", "pdf"}
    assert "questions.jsonl" not in " ".join(documents)


def test_html_wraps_content_in_boilerplate(seed_output: SeedOutput) -> None:
    pages = {k: v.decode() for k, v in seed_output.files.items() if k.endswith(".html")}
    assert len(pages) >= 3
    for key, html in pages.items():
        for tag in ("<nav", "<script", "<style", "<footer", "<main"):
            assert tag in html, (key, tag)


def test_pdf_text_is_extractable(seed_output: SeedOutput) -> None:
    pdfs = [k for k in seed_output.files if k.endswith(".pdf")]
    assert pdfs == ["documents/reports/sustainability-report-2025.pdf"]
    text = " ".join(pdf_text(seed_output.files[pdfs[0]]).split())
    source = (SOURCE_DIR / "reports" / "sustainability-report-2025.pdf.txt").read_text("utf-8")
    assert source.isascii() or source.encode("latin-1")  # the core font is latin-1 only
    # Every sentence of the source, reflowed, is in the PDF.
    for line in source.splitlines():
        line = line.removeprefix("## ").removeprefix("- ").strip()
        if line:
            for sentence in re.split(r"(?<=\.) ", line):
                assert sentence[:40] in text, sentence


def test_questions_are_answerable_from_exactly_one_document(
    documents: dict[str, str], questions: list[dict[str, str]],
) -> None:
    assert len(questions) >= 40
    assert len({q["question"] for q in questions}) == len(questions)
    assert set(Counter(q["document"] for q in questions)) == set(documents)  # all covered
    for q in questions:
        assert set(q) == {"question", "document", "answer_contains"}
        holders = [name for name, text in documents.items() if q["answer_contains"] in text]
        assert holders == [q["document"]], q
        # Phrased like a customer, not lifted from the document.
        assert q["question"].rstrip("?") not in documents[q["document"]], q


def test_store_list_matches_the_store_ids_events_use(documents: dict[str, str]) -> None:
    listed = set(re.findall(r"TW-[A-Z]{2}-\d{2}", documents["stores/store-locations.html"]))
    assert listed == {store.store_id for store in STORES}
    for store in STORES:
        assert store.city in documents["stores/store-locations.html"], store


def test_catalog_warranty_claims_match_the_warranty_policy(documents: dict[str, str]) -> None:
    policy = documents["policies/warranty-policy.md"]
    for years in set(WARRANTY_YEARS.values()) | {"2-year"}:
        stated = "lifetime warranty" if years == "lifetime" else years.replace("-year", " years")
        assert stated in policy, years
