"""Company documents: ``documents/**``, copied from the texts kept in ``local/seed/documents``.

Sources ending in ``.pdf.txt`` are rendered to PDF (key without ``.txt``) at generation
time with fpdf2, a core font and no stream compression, so the text stays extractable
(and findable in the raw bytes). ``questions.jsonl`` is the retrieval evaluation set and
is never uploaded: it is about the documents, not one of them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from fpdf import FPDF

SOURCE_DIR = Path(__file__).parent / "documents"
QUESTIONS_PATH = SOURCE_DIR / "questions.jsonl"
PDF_SOURCE_SUFFIX = ".pdf.txt"
# A fixed date, not "now": the PDF must be byte-identical on every run.
_PDF_DATE = datetime(2026, 3, 31, tzinfo=timezone.utc)


def source_files() -> list[Path]:
    return sorted(
        path for path in SOURCE_DIR.rglob("*")
        if path.is_file() and path != QUESTIONS_PATH and not path.name.startswith(("_", "."))
    )


def document_key(source: Path) -> str:
    relative = source.relative_to(SOURCE_DIR).as_posix()
    if relative.endswith(PDF_SOURCE_SUFFIX):
        relative = relative[: -len(".txt")]
    return f"documents/{relative}"


def render_pdf(text: str) -> bytes:
    """Lay out a plain-text source: first line is the title, "## " lines are headings,
    "- " lines are bullets, blank lines separate paragraphs."""
    lines = text.strip().splitlines()
    pdf = FPDF(format="A4")
    pdf.set_compression(False)
    pdf.set_creation_date(_PDF_DATE)
    pdf.set_title(lines[0])
    pdf.set_author("Tarnwick Outdoor & Home")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, lines[0], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for line in lines[1:]:
        if not line.strip():
            pdf.ln(3)
        elif line.startswith("## "):
            pdf.set_font("Helvetica", "B", 13)
            pdf.multi_cell(0, 7, line[3:], new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.set_font("Helvetica", size=11)
            bullet = line.startswith("- ")
            pdf.set_x(pdf.l_margin + (5 if bullet else 0))
            pdf.multi_cell(0, 5.5, ("* " + line[2:]) if bullet else line,
                           new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def generate_documents() -> dict[str, bytes]:
    files = {}
    for source in source_files():
        key = document_key(source)
        data = source.read_bytes()
        files[key] = render_pdf(data.decode("utf-8")) if key.endswith(".pdf") else data
    return files
