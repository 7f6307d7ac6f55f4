"""Document text extraction: the seed documents, each rejection reason, decoding, and the cleaned text."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fpdf import FPDF
from fpdf.enums import EncryptionMethod

from include.knowledge import extract as x
from include.knowledge.extract import DEFAULT_MAX_BYTES, DocumentRejected, ExtractedDocument, extract
from local.seed.documents import QUESTIONS_PATH, SOURCE_DIR, document_key, generate_documents

REPO = Path(__file__).resolve().parents[2]
PDF_KEY = "documents/reports/sustainability-report-2025.pdf"


@pytest.fixture(scope="module")
def seed() -> dict[str, bytes]:
    return generate_documents()


@pytest.fixture(scope="module")
def extracted(seed: dict[str, bytes]) -> dict[str, ExtractedDocument]:
    return {key: extract(key, data) for key, data in seed.items()}


def rejected(key: str, data: bytes, **kwargs: int) -> str:
    with pytest.raises(DocumentRejected) as info:
        extract(key, data, **kwargs)
    return info.value.reason


def make_pdf(lines: list[tuple[float, float, str, float]] | None = None, *, title: str | None = None,
             paragraph: str | None = None, encryption: dict[str, object] | None = None) -> bytes:
    """A one-page PDF: ``lines`` placed at (x mm, y mm, text, font size), or one wrapped ``paragraph``."""
    pdf = FPDF(format="A4")
    pdf.set_compression(False)
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=timezone.utc))
    if title:
        pdf.set_title(title)
    if encryption:
        pdf.set_encryption(**encryption)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for left, top, text, size in lines or []:
        pdf.set_font("Helvetica", size=size)
        pdf.text(left, top, text)
    if paragraph:
        pdf.multi_cell(0, 5.5, paragraph)
    if not lines and not paragraph:
        pdf.rect(20, 20, 120, 160, style="F")  # a "scan": marks on the page, no text
    return bytes(pdf.output())


# ---------------------------------------------------------------------------------------------
# The seed documents


def test_every_seed_document_extracts_with_its_title(extracted: dict[str, ExtractedDocument]) -> None:
    titles = {key: doc.title for key, doc in extracted.items()}
    assert titles == {
        "documents/about/brand-story.md": "The Tarnwick story: gear for the hill, goods for the hearth",
        "documents/about/company-history.txt": "TARNWICK OUTDOOR & HOME - COMPANY HISTORY",
        "documents/care/cast-iron-care.html": "Cast-iron care | Tarnwick Journal",
        "documents/care/down-jacket-care.md": "Caring for your down jacket",
        "documents/care/leather-boot-care.txt": "LEATHER BOOT CARE GUIDE",
        "documents/care/wool-care.md": "Wool care: jumpers, blankets and merino base layers",
        "documents/customer-service/loyalty-programme.html": "Tarnwick Basecamp - our membership programme",
        "documents/customer-service/shipping-and-delivery.md": "Shipping and delivery",
        "documents/customer-service/size-guide.txt": "TARNWICK SIZE GUIDE",
        "documents/policies/returns-policy.html": "Returns policy | Tarnwick Outdoor & Home",
        "documents/policies/warranty-policy.md": "Tarnwick warranty policy",
        PDF_KEY: "Tarnwick Sustainability Report 2025",
        "documents/stores/store-locations.html": "Find a store | Tarnwick Outdoor & Home",
    }
    types = {key.rsplit(".", 1)[1]: doc.content_type for key, doc in extracted.items()}
    assert types == {"md": "text/markdown", "txt": "text/plain", "html": "text/html", "pdf": "application/pdf"}


def test_seed_text_is_clean(extracted: dict[str, ExtractedDocument]) -> None:
    for key, doc in extracted.items():
        text = doc.text
        assert len(text) > 800, key
        assert text == text.strip(), key
        assert "\n\n\n" not in text, key
        assert all(line == line.strip() and line for para in text.split("\n\n") for line in para.split("\n")), key
        assert "  " not in text and "\t" not in text and "\r" not in text, key
        assert unicodedata.is_normalized("NFC", text), key
        assert "<" not in text and "&amp;" not in text and "&nbsp;" not in text, key


def test_seed_questions_find_their_answer_in_the_extracted_text(extracted: dict[str, ExtractedDocument]) -> None:
    questions = [json.loads(line) for line in QUESTIONS_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(questions) >= 30
    missing = []
    for question in questions:
        key = document_key(SOURCE_DIR / question["document"])
        if question["answer_contains"] not in extracted[key].text:
            missing.append((key, question["answer_contains"]))
    assert missing == []


def test_html_boilerplate_is_dropped_and_the_article_kept(extracted: dict[str, ExtractedDocument]) -> None:
    boilerplate = {
        "documents/care/cast-iron-care.html": [
            "Shop cookware", "My account", "journal-hero", "schema.org", "querySelectorAll", "Stories and guides",
            "2026 Tarnwick Outdoor",
        ],
        "documents/policies/returns-policy.html": [
            "gtag", "font-family", "Search tents", "Basecamp Help", "We use cookies", "Accept all",
            "All rights reserved",
            "Cookie settings", "newsletter",
        ],
        "documents/stores/store-locations.html": ["initMap", "border-collapse", "Cart (0)", "Questions about a store"],
        "documents/customer-service/loyalty-programme.html": ["localStorage", "border-radius", "Sign in", "Full terms"],
    }
    for key, phrases in boilerplate.items():
        text = extracted[key].text
        for phrase in phrases:
            assert phrase not in text, (key, phrase)

    cast_iron = extracted["documents/care/cast-iron-care.html"].text
    assert cast_iron.startswith("Caring for cast iron\n\nA cast-iron pan gets better every time you cook with it.")
    assert "\n\nRe-seasoning\n\nIf food starts to stick" in cast_iron
    assert "- Place the pan upside down in the oven at 230 °C for one hour, with a baking tray on the shelf below.\n" \
           "- Let it cool in the oven." in cast_iron
    returns = extracted["documents/policies/returns-policy.html"].text
    assert "- Candles that have been lit.\n- Knives and pans" in returns
    assert "open My orders, or use the returns form" in returns  # inline elements stay inline
    stores = extracted["documents/stores/store-locations.html"].text
    assert "Edinburgh Old Town | TW-GB-02 | 27 Victoria Street, Edinburgh EH1 2HE | Mon-Sat 9:30-18:00, " \
           "Sun 11:00-17:00\n" in stores
    assert "free click & collect" in stores


def test_markdown_reads_as_plain_text(extracted: dict[str, ExtractedDocument]) -> None:
    story = extracted["documents/about/brand-story.md"].text
    assert story.startswith(
        "The Tarnwick story: gear for the hill, goods for the hearth\n\nTarnwick Outdoor & Home began")
    assert "\n\nWhere the name comes from\n\n" in story
    assert "called a tarn, and an old word for a dwelling place is wick. A home beside the water" in story
    assert "\n\nMade to be mended. We design every product" in story
    assert "#" not in story and "*" not in story
    warranty = extracted["documents/policies/warranty-policy.md"].text
    assert "Product group | Warranty\nDown jackets and down vests | 5 years\n" in warranty
    assert "---" not in warranty
    assert "\n2. Have your receipt or order number ready. Basecamp members do not need a receipt: we find the " \
           "purchase in your account.\n3. " in warranty
    wool = extracted["documents/care/wool-care.md"].text
    assert "- Hand wash in lukewarm water with a wool detergent that contains lanolin, or use your machine's " \
           "wool programme" in wool


def test_plain_text_wrapped_lines_are_joined_and_short_lines_kept(extracted: dict[str, ExtractedDocument]) -> None:
    history = extracted["documents/about/company-history.txt"].text
    assert "\n1994 The first shop opens at Anichstraße 12 in Innsbruck: 60 square metres, two employees and a sewing " \
           "machine in the back room for repairs.\n1997 Launch" in history
    assert "across the EU.\n2012 The first in-house repair workshop" in history
    sizes = extracted["documents/customer-service/size-guide.txt"].text
    assert "\n\nHOW TO MEASURE\nChest: around the fullest part of the chest, under the arms.\nWaist:" in sizes
    assert "garment measurements. Measure over a thin layer" in sizes
    assert "(foot length 24.0 cm)\nEU 40 = UK 6.5" in sizes
    boots = extracted["documents/care/leather-boot-care.txt"].text
    assert "every four to six outings" in boots


def test_seed_pdf_text_comes_out_in_paragraphs(extracted: dict[str, ExtractedDocument]) -> None:
    text = extracted[PDF_KEY].text
    assert text.startswith("Tarnwick Sustainability Report 2025\n\nSummary\n\nThis report covers the financial year")
    assert "Outdoor & Home GmbH and all of its stores" in text  # a wrapped line joined back
    assert "\n* 78 percent of the materials in our own-brand products were recycled or renewable. Our target is 90 " \
           "percent by 2028.\n* Our repair workshops" in text
    assert "\n\nSecond Ascent\n\nThrough Second Ascent, our take-back" in text
    assert text.endswith("publish a lifecycle assessment of the Hochkar down jacket.")


def test_extraction_is_deterministic(seed: dict[str, bytes], extracted: dict[str, ExtractedDocument]) -> None:
    again = generate_documents()
    assert again[PDF_KEY] == seed[PDF_KEY]
    assert {key: extract(key, data) for key, data in again.items()} == extracted


# ---------------------------------------------------------------------------------------------
# Rejections


def test_unsupported_type_by_suffix_case_insensitive() -> None:
    assert rejected("documents/a/report.docx", b"PK\x03\x04...") == "unsupported type .docx"
    assert rejected("documents/a/report.DOCX", b"PK") == "unsupported type .docx"
    assert rejected("documents/a/README", b"read me") == x.NO_SUFFIX == "unsupported type (no file extension)"
    assert rejected("documents/a/", b"") == x.NO_SUFFIX
    assert rejected("documents/.md", b"# hidden") == x.NO_SUFFIX
    assert x.unsupported_type_reason(".DOCX") == "unsupported type .docx"
    assert extract("documents/NOTES.TXT", b"Notes").content_type == "text/plain"
    assert extract("documents/guide.Markdown", b"# Guide\n\nText").content_type == "text/markdown"
    assert extract("documents/page.HTM", b"<p>Page</p>").content_type == "text/html"
    assert x.SUPPORTED_SUFFIXES == (".txt", ".md", ".markdown", ".html", ".htm", ".pdf") == tuple(x.CONTENT_TYPES)


def test_size_is_checked_before_anything_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed an oversized document")

    for name in ("_decode", "_declared_charset", "_extract_pdf", "_extract_html", "_extract_markdown",
                 "_extract_plain"):
        monkeypatch.setattr(x, name, must_not_run)
    huge = bytes(DEFAULT_MAX_BYTES + 1)
    reason = f"document is {DEFAULT_MAX_BYTES + 1} bytes, over the limit of {DEFAULT_MAX_BYTES} bytes"
    assert rejected("documents/dump.bin", huge) == reason
    assert rejected("documents/dump.pdf", huge) == reason
    assert rejected("documents/dump.html", huge) == reason
    assert rejected("documents/small.txt", b"x" * 11, max_bytes=10) == x.too_large_reason(11, 10)
    assert x.too_large_reason(11, 10) == "document is 11 bytes, over the limit of 10 bytes"


def test_size_limit_is_inclusive_and_configurable() -> None:
    assert extract("documents/a.txt", b"x" * 10, max_bytes=10).text == "x" * 10
    assert rejected("documents/a.txt", b"x" * 10, max_bytes=9) == "document is 10 bytes, over the limit of 9 bytes"


def test_precheck_gives_the_same_answer_without_the_bytes() -> None:
    assert x.precheck("documents/a.txt", 10, max_bytes=9) == x.too_large_reason(10, 9)
    assert x.precheck("documents/a.xlsx", 10) == "unsupported type .xlsx"
    assert x.precheck("documents/a.md", 0) == x.EMPTY
    assert x.precheck("documents/a.pdf", 10) is None


@pytest.mark.parametrize("suffix", x.SUPPORTED_SUFFIXES)
def test_zero_bytes_is_empty(suffix: str) -> None:
    assert rejected(f"documents/empty{suffix}", b"") == x.EMPTY == "empty document (0 bytes)"


@pytest.mark.parametrize("key, data", [
    ("documents/blank.txt", b" \n\t\r\n  \n"),
    ("documents/blank.md", b"---\ntitle: Draft\n---\n<!-- nothing yet -->\n\n![logo](logo.png)\n"),
    ("documents/chrome.html", b"<html><head><title>Home</title><script>track()</script><style>p{}</style></head>"
                              b"<body><nav><a href='/'>Home</a></nav><div role='navigation'>Menu</div>"
                              b"<footer>(c) 2026</footer><!-- comment --></body></html>"),
])
def test_no_text_left_after_extraction_is_empty(key: str, data: bytes) -> None:
    assert rejected(key, data) == x.NO_TEXT == "empty document (no text left after extraction)"


def test_invalid_utf8_is_undecodable() -> None:
    assert rejected("documents/latin.txt", "Café au lait".encode("latin-1")) == x.UNDECODABLE
    assert rejected("documents/latin.md", "# Café".encode("cp1252")) == x.UNDECODABLE
    declared_utf8 = b'<meta charset="utf-8"><p>Caf\xe9</p>'
    assert rejected("documents/page.html", declared_utf8) == x.UNDECODABLE
    assert rejected("documents/bad16.txt", b"\xff\xfeA\x00\x00\xd8") == x.UNDECODABLE  # lone surrogate


def test_nul_bytes_and_control_characters_are_binary() -> None:
    assert rejected("documents/image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR") == x.BINARY
    assert rejected("documents/data.md", b"text" + b"\x00" + b"more text") == x.BINARY
    noisy = bytes(range(1, 32)) * 20 + b"some words " * 20
    assert b"\x00" not in noisy
    assert rejected("documents/noisy.html", noisy) == x.BINARY
    # A few stray control characters in real text are not binary; they are dropped from the text.
    doc = extract("documents/log.txt", b"Build step finished, status: \x1b[1mOK\x1b[0m, all good.\n" * 5)
    assert "\x1b" not in doc.text and "OK" in doc.text


def test_pdf_rejections() -> None:
    real = generate_documents()[PDF_KEY]
    assert rejected("documents/fake.pdf", b"Just some text, not a PDF at all.") == x.PDF_NOT_PDF
    assert rejected("documents/fake.pdf", b"<html><body>Not found</body></html>") == x.PDF_NOT_PDF
    assert rejected("documents/cut.pdf", real[: len(real) // 2]) == x.PDF_BROKEN
    assert rejected("documents/junk.pdf", b"%PDF-1.7\n" + b"\x93junk " * 200) == x.PDF_BROKEN
    locked = make_pdf(paragraph="Secret plans.", encryption={"owner_password": "o", "user_password": "u"})
    assert rejected("documents/locked.pdf", locked) == x.PDF_ENCRYPTED
    locked_aes = make_pdf(paragraph="Secret plans.", encryption={
        "owner_password": "o", "user_password": "u", "encryption_method": EncryptionMethod.AES_256})
    assert rejected("documents/locked.pdf", locked_aes) == x.PDF_ENCRYPTED
    assert rejected("documents/scan.pdf", make_pdf()) == x.PDF_NO_TEXT
    reasons = {x.PDF_NOT_PDF, x.PDF_BROKEN, x.PDF_ENCRYPTED, x.PDF_NO_TEXT}
    assert len(reasons) == 4


def test_pdf_encrypted_with_an_empty_user_password_is_read() -> None:
    data = make_pdf(paragraph="Open to everyone.", encryption={"owner_password": "only-for-editing"})
    assert extract("documents/open.pdf", data).text == "Open to everyone."


def test_reasons_are_distinct_one_line_and_never_quote_the_document() -> None:
    constants = [x.NO_SUFFIX, x.EMPTY, x.NO_TEXT, x.UNDECODABLE, x.BINARY, x.PDF_NOT_PDF, x.PDF_ENCRYPTED,
                 x.PDF_BROKEN, x.PDF_NO_TEXT, x.unsupported_type_reason(".docx"), x.too_large_reason(2, 1)]
    assert len(set(constants)) == len(constants)
    assert all("\n" not in reason and reason == reason.strip() for reason in constants)
    secret = "Customer Jane Doe, jane@example.com"
    for key, data in [("documents/s.txt", secret.encode("utf-16-le")),
                      ("documents/s.txt", secret.encode("latin-1") + b"\xff"),
                      ("documents/s.pdf", secret.encode()), ("documents/s.bin", secret.encode())]:
        with pytest.raises(DocumentRejected) as info:
            extract(key, data)
        assert "Jane" not in info.value.reason and "Jane" not in str(info.value)
        assert isinstance(info.value, ValueError)
    assert x.unsupported_type_reason(".a\nb" + "c" * 50) == "unsupported type .a b" + "c" * 16


# ---------------------------------------------------------------------------------------------
# Decoding


def test_utf8_bom_is_dropped() -> None:
    doc = extract("documents/bom.txt", b"\xef\xbb\xbfFirst line\nSecond line")
    assert doc.title == "First line"
    assert doc.text == "First line\nSecond line"
    assert extract("documents/bom.md", b"\xef\xbb\xbf# Heading\n\nBody").title == "Heading"


def test_utf16_and_utf32_with_bom_are_accepted() -> None:
    text = "Größe: Überall\r\nzweite Zeile"
    for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        data = text.encode(encoding)
        if encoding == "utf-16-le":
            data = b"\xff\xfe" + data
        if encoding == "utf-16-be":
            data = b"\xfe\xff" + data
        assert extract("documents/wide.txt", data).text == "Größe: Überall\nzweite Zeile", encoding
    assert rejected("documents/wide.txt", text.encode("utf-16-le")) == x.BINARY  # no BOM: NUL bytes


def test_declared_html_charset_is_honoured() -> None:
    page = '<html><head><meta charset="iso-8859-1"><title>Café crème</title></head><body><p>Prix: 5 EUR. Ça va.</p>'
    doc = extract("documents/fr.html", page.encode("latin-1"))
    assert doc.title == "Café crème"
    assert doc.text == "Prix: 5 EUR. Ça va."
    http_equiv = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
                  '</head><body><p>“Smart quotes” – and a dash</p></body></html>').encode("cp1252")
    assert extract("documents/q.htm", http_equiv).text == "“Smart quotes” – and a dash"


def test_unknown_or_non_text_charset_falls_back_to_utf8_and_a_bom_wins() -> None:
    for charset in ("x-no-such-charset", "base64", "utf-16"):
        data = f'<meta charset="{charset}"><p>Grüße</p>'.encode()
        assert extract("documents/u.html", data).text == "Grüße", charset
    bom_wins = b"\xef\xbb\xbf" + '<meta charset="latin-1"><p>Grüße</p>'.encode()
    assert extract("documents/u.html", bom_wins).text == "Grüße"


def test_newlines_are_normalised() -> None:
    crlf = b"Title line\r\n\r\nFirst paragraph   \r\nsame paragraph\r\n\r\n\r\n\r\nSecond\r\n"
    assert extract("documents/crlf.txt", crlf).text == "Title line\n\nFirst paragraph\nsame paragraph\n\nSecond"
    assert extract("documents/mac.txt", b"One\r\rTwo\rThree").text == "One\n\nTwo\nThree"
    assert extract("documents/crlf.md", b"# T\r\n\r\nA\r\nB\r\n").text == "T\n\nA B"


def test_unicode_is_nfc() -> None:
    decomposed = "Cafe\u0301 and Zu\u0308rich"
    doc = extract("documents/nfc.txt", decomposed.encode())
    assert doc.text == "Café and Zürich" and doc.title == "Café and Zürich"
    assert extract("documents/nfc.html", b"<p>Cafe&#x301;</p>").text == "Café"


# ---------------------------------------------------------------------------------------------
# Extraction details per type


def test_html_structure() -> None:
    page = b"""<!doctype html><html><head><title> A   page
    title </title><meta name="x" content="head text never shows"></head><body>
    <header><a href="/">Logo</a> Site banner</header>
    <div role="banner">Another banner</div>
    <article>
      <header><h1>Article heading</h1><p>By the desk</p></header>
      <p>First&nbsp;para with <b>bold</b>,<i>italic</i> and   lots
         of   space &amp; entities &lt;ok&gt; &eacute;.</p>
      <p>Line one<br>Line two<br/>Line three</p>
      <!-- a comment -->
      <span aria-hidden="true">icon text</span><span hidden>hidden text</span>
      <ul><li>One</li><li>Two<ul><li>Nested</li></ul></li><li>Three</ul>
      <pre>code line 1
code   line 2</pre>
      <table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>
      <blockquote>Quoted</blockquote>
      <svg><title>svg title</title><text>svg text</text></svg>
      <template><p>template</p></template><noscript>enable js</noscript>
      <iframe src="x">frame</iframe><aside>Related links</aside>
      <footer>Article footer note</footer>
    </article>
    <footer>Site footer</footer>
    </body></html>"""
    doc = extract("documents/page.html", page)
    assert doc.title == "A page title"
    assert doc.text == (
        "Article heading\n\nBy the desk\n\n"
        "First para with bold,italic and lots of space & entities <ok> é.\n\n"
        "Line one\nLine two\nLine three\n\n"
        "- One\n- Two\n- Nested\n- Three\n\n"
        "code line 1\ncode line 2\n\n"
        "A | B\n1 | 2\n\n"
        "Quoted\n\n"
        "Article footer note"
    )


def test_html_title_falls_back_to_h1_then_file_name() -> None:
    assert extract("documents/x.html", b"<h2>Sub</h2><h1>Main heading</h1><p>Body</p>").title == "Main heading"
    assert extract("documents/plain-page.html", b"<p>Just a body</p>").title == "plain-page"


def test_html_outside_main_is_dropped_when_main_has_text() -> None:
    page = b"<body><div class=cookie>We use cookies</div><main><p>Real content</p></main><p>Promo</p></body>"
    assert extract("documents/m.html", page).text == "Real content"
    page_role = b"<body><div>Skip to content</div><div role=main><p>Content</p></div></body>"
    assert extract("documents/m.html", page_role).text == "Content"
    empty_main = b"<body><main></main><p>Only text outside</p></body>"
    assert extract("documents/m.html", empty_main).text == "Only text outside"


def test_html_without_closing_head_or_with_unclosed_tags() -> None:
    page = b"<html><head><title>T</title><style>p{}</style><body><p>One<p>Two<li>Item</body>"
    assert extract("documents/u.html", page).text == "One\n\nTwo\n- Item"


def test_markdown_syntax_is_removed() -> None:
    md = b"""---
title: Front matter title
tags: [a, b]
---
<!-- draft note
spanning lines -->
Intro with a [link](https://example.com/x "Title") and ![diagram](img/d.png) an image,
**bold**, *italic*, _under_, `code`, ~~old~~ and a [reference][ref] link. snake_case_name stays.
Auto <https://example.com> link and <span>inline html</span>. Escaped \\*star\\*.

Setext heading
--------------

* Star item
  continued on the next line
+ Plus item
1. Numbered

> A quote
> over two lines

```python
def f():
    return "# not a heading"
```

***

[ref]: https://example.com/ref
Last   paragraph   with    spaces.
"""
    doc = extract("documents/guide.md", md)
    assert doc.title == "Front matter title"
    assert doc.text == (
        "Intro with a link and an image, bold, italic, under, code, old and a reference link. snake_case_name stays. "
        "Auto https://example.com link and inline html. Escaped *star*.\n\n"
        "Setext heading\n\n"
        "- Star item continued on the next line\n- Plus item\n1. Numbered\n\n"
        "A quote over two lines\n\n"
        "def f():\nreturn \"# not a heading\"\n\n"
        "Last paragraph with spaces."
    )


def test_markdown_tables_without_outer_pipes_and_a_leading_rule() -> None:
    md = b"---\nIntro after a rule.\n\nSize | Chest\n:--- | ---:\nS | 88-94\nM | 94-100\n\nAfter.\n---\n"
    assert extract("documents/t.md", md).text == "Intro after a rule.\n\nSize | Chest\nS | 88-94\nM | 94-100\n\nAfter."


def test_markdown_title_is_the_first_level_one_heading_else_file_name() -> None:
    assert extract("documents/a.md", b"## Second\n\n# First *one*\n\ntext").title == "First one"
    assert extract("documents/b.md", b"Title\n=====\n\ntext").title == "Title"
    assert extract("documents/care-notes.md", b"## Only level two\n\ntext").title == "care-notes"


def test_plain_text_cleanup() -> None:
    data = b"  Heading  \n\n\n\nA line with trailing spaces   \t\n\tindented\tline\n\n\n"
    doc = extract("documents/t.txt", data)
    assert doc.title == "Heading"
    assert doc.text == "Heading\n\nA line with trailing spaces\nindented line"
    form_feed = extract("documents/t.txt", b"Page one\fPage two")
    assert form_feed.text == "Page one\n\nPage two"


def test_plain_text_hard_wrapping_is_undone_but_lists_kept() -> None:
    wrapped = (
        "The quick brown fox jumps over the lazy dog and keeps running far\n"
        "away. A well-\n"
        "known fact.\n"
        "\n"
        "Items:\n"
        "- first item that is long enough to reach the right margin of text\n"
        "- second\n"
    ).encode()
    doc = extract("documents/w.txt", wrapped)
    assert doc.text == (
        "The quick brown fox jumps over the lazy dog and keeps running far away. A well-\nknown fact.\n\n"
        "Items:\n- first item that is long enough to reach the right margin of text\n- second"
    )
    short_lines = b"Name\nStreet 1\nTown\n"
    assert extract("documents/address.txt", short_lines).text == "Name\nStreet 1\nTown"


def test_pdf_layout_paragraphs_headings_and_hyphenation() -> None:
    # A heading, a paragraph wrapped over three lines with a hyphenated word, a gap, a short last line.
    body = [
        (20, 20, "A Heading", 16),
        (20, 30, "The first line of a paragraph that is set in a narrow column and con-", 11),
        (20, 35.5, "tinues on the next line, which is followed by one more line of the", 11),
        (20, 41, "same paragraph.", 11),
        (20, 50, "A second paragraph after a larger gap, long enough to look like the others", 11),
        (20, 55.5, "and wrapped once.", 11),
        (20, 61, "* a bullet", 11),
    ]
    doc = extract("documents/layout.pdf", make_pdf(body))
    assert doc.title == "A Heading"  # no metadata title: the first line
    assert doc.text == (
        "A Heading\n\n"
        "The first line of a paragraph that is set in a narrow column and continues on the next line, which is "
        "followed by one more line of the same paragraph.\n\n"
        "A second paragraph after a larger gap, long enough to look like the others and wrapped once.\n"
        "* a bullet"
    )
    assert extract("documents/layout.pdf", make_pdf(body, title="Meta  title")).title == "Meta title"


def test_pdf_pages_are_paragraphs() -> None:
    pdf = FPDF()
    pdf.set_compression(False)
    for number in (1, 2):
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        pdf.text(20, 20, f"Page {number} text.")
    doc = extract("documents/pages.pdf", bytes(pdf.output()))
    assert doc.text == "Page 1 text.\n\nPage 2 text."


def test_titles_are_one_line_and_at_most_300_characters() -> None:
    long_heading = "# " + "word " * 100
    doc = extract("documents/long.md", long_heading.encode())
    assert len(doc.title) <= 300 and "\n" not in doc.title and doc.title == doc.title.strip()
    assert doc.title.startswith("word word")
    stem = "n" * 400
    assert extract(f"documents/{stem}.md", b"no heading").title == "n" * 300


def test_module_imports_neither_airflow_nor_pypdf() -> None:
    code = ("import sys; import include.knowledge.extract as e; "
            "assert 'pypdf' not in sys.modules and 'airflow' not in sys.modules; "
            "e.extract('a.txt', b'hi'); assert 'pypdf' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
