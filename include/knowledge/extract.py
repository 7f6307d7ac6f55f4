"""Text extraction for company documents: txt, md, html and pdf bytes in, clean text and a title out.

``extract(key, data)`` either returns an :class:`ExtractedDocument` or raises
:class:`DocumentRejected` whose ``reason`` is one of the stable, one-line strings below. A reason
names the kind of problem and never quotes the document, so it can be logged and stored in
``OPS.QUARANTINE``.

Checks run cheapest first and before any parsing: size, then type (by the key's suffix), then
emptiness. Text types are then checked for binary content and decoded (UTF-8, a UTF-8 BOM is
dropped, UTF-16/32 with a BOM is accepted, html honours a declared ``<meta charset>``); pdf goes to
pypdf, imported only on that path.

The text is meant for chunking and embedding: paragraphs are separated by exactly one blank line,
lines inside a paragraph by one newline (list items, table rows), whitespace runs are collapsed,
there are no trailing spaces, and everything is NFC-normalised. Hard-wrapped prose (plain text
wrapped at a fixed width, PDF lines) is joined back into one line per paragraph, so a sentence is
never cut by a line break. The output is a pure function of the input bytes.
"""

from __future__ import annotations

import codecs
import html
import io
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePosixPath

CONTENT_TYPES = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
}
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_TITLE_CHARS = 300

# Reasons: stable strings (the quarantine REASON column); they describe the document, never quote it.
# ``unsupported_type_reason`` and ``too_large_reason`` build the two that carry a suffix or a size.
NO_SUFFIX = "unsupported type (no file extension)"
EMPTY = "empty document (0 bytes)"
NO_TEXT = "empty document (no text left after extraction)"
UNDECODABLE = "undecodable text (not valid UTF-8 or the declared charset)"
BINARY = "binary content in a text document (NUL bytes or control characters)"
PDF_NOT_PDF = "unreadable pdf (not a PDF file)"
PDF_ENCRYPTED = "unreadable pdf (encrypted with a password)"
PDF_BROKEN = "unreadable pdf (parse error)"
PDF_NO_TEXT = "pdf has no extractable text (scanned or image-only)"

# A text document is binary when more than this share of its characters are control characters
# other than \t \n \r \f (uniformly random bytes have ~11%, and NULs; prose, even a terminal log with
# colour escape codes, far less).
MAX_CONTROL_SHARE = 0.10


def unsupported_type_reason(suffix: str) -> str:
    """``unsupported type .docx``; the suffix as given, lower-cased, cut to 20 characters."""
    suffix = suffix.lower()
    if not suffix:
        return NO_SUFFIX
    return f"unsupported type {_one_line(suffix)[:20]}"


def too_large_reason(size: int, max_bytes: int) -> str:
    return f"document is {size} bytes, over the limit of {max_bytes} bytes"


@dataclass(frozen=True)
class ExtractedDocument:
    title: str  # one line, stripped, at most MAX_TITLE_CHARS characters
    text: str  # paragraphs separated by "\n\n", lines by "\n", no trailing spaces, NFC
    content_type: str  # "text/plain" | "text/markdown" | "text/html" | "application/pdf"


class DocumentRejected(ValueError):
    """The document cannot be used; ``reason`` is one line and never contains document content."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def suffix_of(key: str) -> str:
    """The lower-cased suffix of the key's last path component ("" for none, e.g. ``README``)."""
    return PurePosixPath(key).suffix.lower()


def precheck(key: str, size: int, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str | None:
    """The reason a document of this key and size would be rejected before reading it, else None.

    The same checks, in the same order, as the start of :func:`extract`: a caller that knows the
    size from a listing can skip downloading an oversized or unsupported object.
    """
    if max_bytes < 0:
        raise ValueError("max_bytes must be >= 0")
    if size > max_bytes:
        return too_large_reason(size, max_bytes)
    suffix = suffix_of(key)
    if suffix not in CONTENT_TYPES:
        return unsupported_type_reason(suffix)
    if size == 0:
        return EMPTY
    return None


def extract(key: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ExtractedDocument:
    """Title and clean text of the document stored under ``key``; raises :class:`DocumentRejected`."""
    reason = precheck(key, len(data), max_bytes=max_bytes)
    if reason is not None:
        raise DocumentRejected(reason)
    suffix = suffix_of(key)
    content_type = CONTENT_TYPES[suffix]
    if suffix == ".pdf":
        title, blocks = _extract_pdf(bytes(data))
    else:
        text = _decode(bytes(data), declared=_declared_charset(data) if content_type == "text/html" else None)
        if content_type == "text/html":
            title, blocks = _extract_html(text)
        elif content_type == "text/markdown":
            title, blocks = _extract_markdown(text)
        else:
            title, blocks = _extract_plain(text)
    body = _finish(blocks)
    if not body:
        raise DocumentRejected(PDF_NO_TEXT if suffix == ".pdf" else NO_TEXT)
    if suffix == ".pdf":
        title = title or _first_line(body)  # metadata title, else the first line
    title = _clean_title(title) or _clean_title(PurePosixPath(key).stem) or _clean_title(PurePosixPath(key).name)
    return ExtractedDocument(title=title, text=body, content_type=content_type)


# ---------------------------------------------------------------------------------------------
# Common text clean-up

_SPACE_RUN = re.compile(r"[^\S\n]+")  # whitespace other than newline (includes NBSP and tabs)
# Invisible characters that only break words apart: soft hyphen, zero-width space/joiners, stray BOM.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
# Control characters other than \t \n \r \f, and DEL.
_CONTROL_CODES = [c for c in range(32) if c not in (9, 10, 12, 13)] + [127]
_CONTROL_BYTES = bytes(_CONTROL_CODES)
_CONTROL_CHARS = dict.fromkeys(_CONTROL_CODES, " ")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _clean_line(line: str) -> str:
    return _SPACE_RUN.sub(" ", line.translate(_INVISIBLE)).strip()


def _clean_title(title: str) -> str:
    title = _one_line(unicodedata.normalize("NFC", title.translate(_INVISIBLE).translate(_CONTROL_CHARS)))
    return title[:MAX_TITLE_CHARS].rstrip()


def _first_line(text: str) -> str:
    return next((line for line in text.split("\n") if line.strip()), "")


def _normalise_newlines(text: str) -> str:
    """\\r\\n, \\r, NEL and U+2028 become \\n; form feed and U+2029 become a paragraph break."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\x85", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n").replace("\f", "\n\n")


def _finish(blocks: Iterable[Iterable[str]]) -> str:
    """Join blocks (lists of lines) into the final text: NFC, clean lines, one blank line between blocks."""
    out = []
    for block in blocks:
        lines = []
        for line in block:
            for part in _normalise_newlines(line).split("\n"):
                part = _clean_line(unicodedata.normalize("NFC", part.translate(_CONTROL_CHARS)))
                if part:
                    lines.append(part)
        if lines:
            out.append("\n".join(lines))
    return "\n\n".join(out)


def _paragraphs(lines: Iterable[str]) -> list[list[str]]:
    """Split lines into blocks at blank lines."""
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [block for block in blocks if block]


# ---------------------------------------------------------------------------------------------
# Decoding of text types

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# <meta charset="x"> or <meta http-equiv="Content-Type" content="text/html; charset=x">, in the
# first bytes of the document, as browsers look for it.
_META_CHARSET = re.compile(rb"<meta\b[^>]*?\bcharset\s*=\s*[\"']?\s*([A-Za-z0-9._:\-]+)", re.IGNORECASE)
_CHARSET_PRESCAN_BYTES = 4096


def _declared_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:_CHARSET_PRESCAN_BYTES])
    if not match:
        return None
    name = match.group(1).decode("ascii").lower()
    try:
        info = codecs.lookup(name)
        b"a".decode(info.name)  # LookupError for codecs that are not text encodings (base64, rot13...)
    except LookupError:
        return None
    except UnicodeError:
        pass  # a text encoding in which "a" alone is not valid (UTF-16, UTF-32)
    # A declaration readable as ASCII cannot be in UTF-16/32: browsers take it as UTF-8 (HTML spec).
    if info.name.startswith(("utf-16", "utf-32")):
        return None
    return info.name


def _control_share(count: int, total: int) -> bool:
    return total > 0 and count / total > MAX_CONTROL_SHARE


def _decode(data: bytes, *, declared: str | None) -> str:
    """Bytes of a text type to str: BOM first, then binary checks, then the declared charset or UTF-8."""
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    if encoding is None:
        if b"\x00" in data:
            raise DocumentRejected(BINARY)
        if _control_share(len(data) - len(data.translate(None, _CONTROL_BYTES)), len(data)):
            raise DocumentRejected(BINARY)
        encoding = declared or "utf-8"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise DocumentRejected(UNDECODABLE) from None
    text = text.removeprefix("\ufeff")
    if "\x00" in text or _control_share(len(text) - len(text.translate(dict.fromkeys(_CONTROL_CODES))), len(text)):
        raise DocumentRejected(BINARY)
    return text


# ---------------------------------------------------------------------------------------------
# Plain text

_LIST_MARKER = re.compile(r"(?:[-*+\u2022\u2023\u25e6\u2043]|\d{1,3}[.)])\s")
_ENDS_IN_WORD_HYPHEN = re.compile(r"[^\W\d_]-$")
# Wrapped prose is recognised only in documents with lines at least this long.
_MIN_WRAP_WIDTH = 40
_LOOSE_WRAP = 0.9
_SENTENCE_END = re.compile(r"[.!?:;]['\")\]]*$")


def _extract_plain(text: str) -> tuple[str, list[list[str]]]:
    lines = [line.rstrip() for line in _normalise_newlines(text).expandtabs(8).split("\n")]
    width = max(len(line) for line in lines)
    title = _first_line("\n".join(lines))
    return title, [_unwrap(block, width) for block in _paragraphs(lines)]


def _unwrap(lines: list[str], width: int) -> list[str]:
    """Join hard-wrapped lines of one paragraph back into one line per sentence run.

    In a paragraph with hanging indents (at least two lines at the least indentation and some
    deeper, as in ``1994  The first shop ...`` followed by ``      employees and ...``), the
    deeper lines continue the line above and the others start a new line. Otherwise a line was wrapped
    (rather than ended on purpose) when the first word of the next line would not have fitted on
    it: its length + 1 + that word's length exceeds ``width``, the widest line of the document
    (or 90% of it, for text wrapped by hand, when the line does not end a sentence or a clause).
    Short lines (headings, table rows, addresses) stay as they are, and so does a line starting
    a list item. A word-hyphen at the end of a wrapped line is kept and joined without a space.
    """
    indents = [len(line) - len(line.lstrip()) for line in lines]
    base = min(indents)
    hanging = indents.count(base) >= 2 and any(indent > base for indent in indents)
    out = [lines[0].strip()]
    for previous, line, indent in zip(lines, lines[1:], indents[1:]):
        stripped = line.strip()
        if _LIST_MARKER.match(stripped):
            wrapped = False
        elif hanging:
            wrapped = indent > base
        else:
            needed = len(previous) + 1 + len(stripped.split(None, 1)[0])
            wrapped = width >= _MIN_WRAP_WIDTH and (
                needed > width or needed > _LOOSE_WRAP * width and not _SENTENCE_END.search(previous))
        if not wrapped:
            out.append(stripped)
        elif _ENDS_IN_WORD_HYPHEN.search(out[-1]) and stripped[:1].isalpha():
            out[-1] += stripped
        else:
            out[-1] += " " + stripped
    return out


# ---------------------------------------------------------------------------------------------
# Markdown

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_ATX_HEADING = re.compile(r"^\s{0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_THEMATIC_BREAK = re.compile(r"^\s{0,3}(?:(?:\*\s*){3,}|(?:-\s*){3,}|(?:_\s*){3,})$")
_MD_LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d{1,9}[.)])(\s+|$)(.*)$")
_BLOCKQUOTE = re.compile(r"^\s{0,3}>\s?")
_LINK_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
# Inline patterns never let their content contain their own delimiter: each match attempt then stops
# at the next delimiter, and a paragraph full of unmatched markers stays linear, not quadratic.
_CODE_SPAN = re.compile(r"(`+)([^`]+)\1(?!`)")
_IMAGE = re.compile(r"!\[[^\]]*\](?:\([^)]*\)|\[[^\]]*\])")
_INLINE_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()\s]|\([^)]*\))*(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REFERENCE_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_STRONG = re.compile(r"\*\*(?=[^\s*])([^*]+?)(?<=[^\s*])\*\*|(?<!\w)__(?=[^\s_])([^_]+?)(?<=[^\s_])__(?!\w)")
_EMPHASIS = re.compile(
    r"(?<![\w*])\*(?=[^\s*])([^*]+?)(?<=[^\s*])\*(?![\w*])"
    r"|(?<![\w_])_(?=[^\s_])([^_]+?)(?<=[^\s_])_(?![\w_])"
)
_STRIKE = re.compile(r"~~(?=[^\s~])([^~]+?)(?<=[^\s~])~~")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_ESCAPED_BASE = 0xF0000  # a Private Use plane: escaped ASCII punctuation lives here while inline syntax is removed
_UNESCAPE = {_ESCAPED_BASE + code: chr(code) for code in range(33, 127)}


def _md_inline(text: str) -> str:
    """Markdown inline syntax to plain text: links become their text, images go, emphasis markers go."""
    parts = []
    position = 0
    for match in _CODE_SPAN.finditer(text):
        parts.append(_md_inline_plain(text[position:match.start()]))
        parts.append(match.group(2).strip())
        position = match.end()
    parts.append(_md_inline_plain(text[position:]))
    return "".join(parts)


def _md_inline_plain(text: str) -> str:
    # Escaped punctuation (\\*) is literal: hide it from the patterns below, restore it at the end.
    text = _ESCAPE.sub(lambda m: chr(_ESCAPED_BASE + ord(m.group(1))), text)
    text = _IMAGE.sub("", text)
    text = _INLINE_LINK.sub(r"\1", text)
    text = _REFERENCE_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    text = _STRONG.sub(lambda m: m.group(1) or m.group(2), text)
    text = _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)
    text = _STRONG.sub(lambda m: m.group(1) or m.group(2), text)  # around emphasis: **a *b* c**
    text = _STRIKE.sub(r"\1", text)
    text = text.translate(_UNESCAPE)
    return html.unescape(text)


def _table_row(line: str) -> str | None:
    """``| a | b |`` to ``a | b``; None for a separator row."""
    if _TABLE_SEPARATOR.match(line):
        return None
    cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
    return " | ".join(_md_inline(cell) for cell in cells)


def _strip_front_matter(lines: list[str]) -> tuple[list[str], str]:
    """Drop YAML (---) or TOML (+++) front matter; return the remaining lines and its title, if any."""
    if not lines or lines[0].strip() not in ("---", "+++"):
        return lines, ""
    fence = lines[0].strip()
    first = next((line for line in lines[1:] if line.strip()), "")
    if not re.match(r"^[A-Za-z_][\w-]*\s*" + (":" if fence == "---" else "="), first):
        return lines, ""  # not "key: value" inside: a thematic break
    for end in range(1, len(lines)):
        if lines[end].strip() in (fence, "...") if fence == "---" else lines[end].strip() == fence:
            title = ""
            for line in lines[1:end]:
                match = re.match(r"""^title\s*[:=]\s*["']?(.*?)["']?\s*$""", line)
                if match:
                    title = match.group(1)
                    break
            return lines[end + 1:], title
    return lines, ""  # no closing fence: a thematic break, not front matter


def _strip_html_comments(lines: list[str]) -> list[str]:
    """Remove <!-- ... --> (possibly spanning lines) outside fenced code."""
    out = []
    in_comment = False
    fence = None
    for line in lines:
        if not in_comment:
            match = _FENCE.match(line)
            if fence is not None:
                if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                    fence = None
                out.append(line)
                continue
            if match:
                fence = match.group(1)
                out.append(line)
                continue
        kept = []
        rest = line
        while rest:
            if in_comment:
                end = rest.find("-->")
                if end < 0:
                    rest = ""
                else:
                    rest = rest[end + 3:]
                    in_comment = False
            else:
                start = rest.find("<!--")
                if start < 0:
                    kept.append(rest)
                    rest = ""
                else:
                    kept.append(rest[:start])
                    rest = rest[start + 4:]
                    in_comment = True
        text = "".join(kept)
        # A line that held only a comment disappears; one that was blank stays a paragraph break.
        if text.strip() or not line.strip():
            out.append(text)
    return out


def _extract_markdown(text: str) -> tuple[str, list[list[str]]]:
    lines = _normalise_newlines(text).expandtabs(4).split("\n")
    lines, front_title = _strip_front_matter(lines)
    lines = _strip_html_comments(lines)

    blocks: list[list[str]] = []
    title = ""
    paragraph: list[str] = []  # lines of the current paragraph, joined with spaces when it ends
    block: list[str] = []  # finished lines of the current block (list items, table rows, code)
    kind = ""  # what ``block`` holds: "list", "table", "code", "quote" or ""
    fence = ""

    def end_paragraph() -> None:
        if paragraph:
            block.append(_md_inline(" ".join(part.strip() for part in paragraph)))
            paragraph.clear()

    def end_block() -> None:
        nonlocal kind
        end_paragraph()
        if block:
            blocks.append(block.copy())
            block.clear()
        kind = ""

    def start(new_kind: str) -> None:
        nonlocal kind
        if kind != new_kind:
            end_block()
            kind = new_kind

    for line in lines:
        if fence:
            match = _FENCE.match(line)
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = ""
                end_block()
            else:
                block.append(line)
            continue
        match = _FENCE.match(line)
        if match:
            start("code")
            fence = match.group(1)
            continue
        if not line.strip():
            if kind == "list":
                end_paragraph()  # a loose list continues after a blank line only with another item
            else:
                end_block()
            continue
        if _LINK_DEFINITION.match(line):
            continue
        heading = _ATX_HEADING.match(line)
        if heading:
            end_block()
            heading_text = _md_inline(heading.group(2) or "")
            if heading_text:
                blocks.append([heading_text])
                if not title and len(heading.group(1)) == 1:
                    title = heading_text
            continue
        underline = _SETEXT_UNDERLINE.match(line)
        if underline and paragraph and kind == "":
            # "text\n===" is a heading of level 1, "text\n---" of level 2 (not a thematic break)
            heading_text = _md_inline(" ".join(part.strip() for part in paragraph))
            paragraph.clear()
            end_block()
            blocks.append([heading_text])
            if not title and underline.group(1)[0] == "=":
                title = heading_text
            continue
        if _THEMATIC_BREAK.match(line):
            end_block()
            continue
        quote = _BLOCKQUOTE.match(line)
        if quote:
            line = line[quote.end():]
            if kind not in ("quote", "list") or kind == "list" and not paragraph:
                start("quote")
            if not line.strip():
                end_paragraph()
                continue
        if (kind == "" and len(paragraph) == 1 and "|" in paragraph[0] and "|" in line
                and _TABLE_SEPARATOR.match(line)):
            # a table without outer pipes: "a | b" then "--- | ---"
            header = _table_row(paragraph.pop())
            start("table")
            block.append(header or "")
            continue
        if line.lstrip().startswith("|") or (kind == "table" and "|" in line):
            start("table")
            row = _table_row(line)
            if row is not None:
                block.append(row)
            continue
        item = _MD_LIST_ITEM.match(line)
        if item and (item.group(4).strip() or kind == "list"):
            start("list")
            end_paragraph()
            marker = item.group(2)
            marker = "-" if marker in "-*+" else marker
            paragraph.append(f"{marker} {item.group(4).strip()}")
            continue
        if kind == "list" and not paragraph and not line.startswith((" ", "\t")):
            end_block()  # after a blank line, an unindented line ends the list
        elif kind in ("table", "code"):
            end_block()
        paragraph.append(line)
    end_block()
    return title or front_title, blocks


# ---------------------------------------------------------------------------------------------
# HTML

# Elements whose whole content is dropped (boilerplate, code, invisible or interactive content).
_DROP_TAGS = frozenset({
    "script", "style", "noscript", "template", "svg", "math", "nav", "aside", "form", "iframe", "head",
    "button", "select", "textarea", "canvas", "video", "audio", "object", "embed", "dialog",
})
# header/footer are page banner/footer only outside sectioning content (the ARIA banner/contentinfo
# mapping); an article's own header keeps its heading.
_LANDMARK_TAGS = frozenset({"header", "footer"})
_SECTIONING = frozenset({"article", "section", "main", "aside", "nav"})
_DROP_ROLES = frozenset({"navigation", "banner", "contentinfo", "search"})
_VOID_TAGS = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
})
_PARAGRAPH_TAGS = frozenset({
    "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl",
    "blockquote", "pre", "hr", "figure", "figcaption", "address", "details", "summary", "fieldset", "caption",
    "thead", "tbody", "tfoot", "body", "html", "center", "menu",
})
_LINE_TAGS = frozenset({"br", "tr", "dt", "dd", "legend"})
_CELL_TAGS = frozenset({"td", "th"})


class _HtmlText(HTMLParser):
    """Collects kept text as blocks of lines, the <title> and the first <h1>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[list[str]] = [[]]
        self.main_blocks: list[list[str]] = [[]]  # the same, only what is inside <main>
        self.line: list[str] = []
        self.title: list[str] | None = None
        self.h1: list[str] | None = None
        self.in_title = False
        self.in_h1 = False
        self.open: list[tuple[str, bool]] = []  # open elements: (tag, starts main content)
        self.open_count: Counter[str] = Counter()  # how many of each tag are open
        self.skip_tag: str | None = None  # set while inside a dropped element
        self.skip_depth = 0  # nesting depth of skip_tag inside the dropped element
        self.main_depth = 0
        self.saw_main = False
        self.list_depth = 0
        self.pre_depth = 0

    # -- output

    def _break_line(self) -> None:
        line = " ".join("".join(self.line).split())
        self.line.clear()
        if line:
            self.blocks[-1].append(line)
            if self.main_depth:
                self.main_blocks[-1].append(line)

    def _break_paragraph(self) -> None:
        self._break_line()
        if self.blocks[-1]:
            self.blocks.append([])
        if self.main_blocks[-1]:
            self.main_blocks.append([])

    # -- parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and self.title is None and self.skip_tag in (None, "head"):
            self.title, self.in_title = [], True
            return
        if self.skip_tag is not None:
            if self.skip_tag == "head" and tag == "body":  # </head> left out
                self.skip_tag = None
            else:
                if tag == self.skip_tag:
                    self.skip_depth += 1
                return
        if self._dropped(tag, attrs):
            if tag not in _VOID_TAGS:
                self.skip_tag, self.skip_depth = tag, 1
            return
        starts_main = tag == "main" or ("role", "main") in attrs
        if tag not in _VOID_TAGS:
            self.open.append((tag, starts_main))
            self.open_count[tag] += 1
        if starts_main:
            self._break_paragraph()
            self.main_depth += 1
            self.saw_main = True
        if tag in ("ul", "ol", "menu"):
            self._break_line() if self.list_depth else self._break_paragraph()
            self.list_depth += 1
        elif tag == "li":
            self._break_line()
            self.line.append("- ")
        elif tag in _CELL_TAGS:
            if "".join(self.line).strip():
                self.line.append(" | ")
        elif tag in _LINE_TAGS:
            self._break_line()
        elif tag in _PARAGRAPH_TAGS:
            self._break_paragraph()
        if tag == "pre":
            self.pre_depth += 1
        if tag == "h1" and self.h1 is None:
            self.h1, self.in_h1 = [], True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self.in_title:
            self.in_title = False
            return
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if self.skip_depth == 0:
                    self.skip_tag = None
            return
        if tag == "br":  # </br> is read as <br>
            self._break_line()
            return
        if not self.open_count[tag]:
            return  # a stray end tag
        # Close the element and, implicitly, every element left open inside it (innermost first).
        while True:
            name, starts_main = self.open.pop()
            self.open_count[name] -= 1
            self._end(name, starts_main)
            if name == tag:
                break

    def _end(self, tag: str, starts_main: bool) -> None:
        if tag in ("ul", "ol", "menu"):
            self.list_depth = max(0, self.list_depth - 1)
            self._break_line() if self.list_depth else self._break_paragraph()
        elif tag == "li" or tag in _LINE_TAGS:
            self._break_line()
        elif tag in _PARAGRAPH_TAGS:
            self._break_paragraph()
        if starts_main:
            self._break_paragraph()
            self.main_depth = max(0, self.main_depth - 1)
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        if tag == "h1":
            self.in_h1 = False

    def handle_data(self, data: str) -> None:
        if self.in_title and self.title is not None:
            self.title.append(data)
            return
        if self.skip_tag is not None:
            return
        if self.in_h1 and self.h1 is not None:
            self.h1.append(data)
        if self.pre_depth:
            for index, part in enumerate(data.split("\n")):
                if index:
                    self._break_line()
                self.line.append(part)
        else:
            self.line.append(data)

    # -- helpers

    def _dropped(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag in _DROP_TAGS:
            return True
        if tag in _LANDMARK_TAGS and not any(self.open_count[name] for name in _SECTIONING):
            return True
        values = {name: (value or "").strip().lower() for name, value in attrs}
        if values.get("aria-hidden") == "true" or "hidden" in values:
            return True
        return bool(_DROP_ROLES.intersection(values.get("role", "").split()))

    def result(self) -> tuple[str, str, list[list[str]]]:
        self._break_paragraph()
        title = " ".join("".join(self.title or []).split())
        h1 = " ".join("".join(self.h1 or []).split())
        main = [block for block in self.main_blocks if block]
        # With a <main> element the page's own content is in it: everything outside is chrome
        # (cookie banners, skip links, promotions), unless main holds no text at all.
        blocks = main if self.saw_main and main else [block for block in self.blocks if block]
        return title, h1, blocks


def _extract_html(text: str) -> tuple[str, list[list[str]]]:
    parser = _HtmlText()
    parser.feed(_normalise_newlines(text))
    parser.close()
    title, h1, blocks = parser.result()
    return title or h1, blocks


# ---------------------------------------------------------------------------------------------
# PDF

_PDF_HEADER = b"%PDF-"
_PDF_HEADER_WITHIN = 1024  # readers accept junk before the header, up to about this many bytes


@dataclass
class _PdfLine:
    text: str
    y: float | None  # baseline in device space, None when pypdf gave no position for it
    size: float


def _extract_pdf(data: bytes) -> tuple[str, list[list[str]]]:
    if _PDF_HEADER not in data[:_PDF_HEADER_WITHIN]:
        raise DocumentRejected(PDF_NOT_PDF)
    try:
        from pypdf import PdfReader
    except ImportError as exc:  # a deployment problem, not a bad document
        raise RuntimeError("pypdf is required to extract text from pdf documents") from exc

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception:  # pypdf raises many exception types on malformed input
        raise DocumentRejected(PDF_BROKEN) from None
    if encrypted:
        try:
            decrypted = bool(reader.decrypt(""))
        except Exception:
            decrypted = False
        if not decrypted:
            raise DocumentRejected(PDF_ENCRYPTED)
    try:
        title = _pdf_title(reader)
        blocks = []
        for page in reader.pages:
            blocks.extend(_pdf_page_blocks(_pdf_lines(page)))
    except DocumentRejected:
        raise
    except Exception:
        raise DocumentRejected(PDF_BROKEN) from None
    return title, blocks


def _pdf_title(reader: object) -> str:
    try:
        metadata = reader.metadata  # type: ignore[attr-defined]
        title = metadata.title if metadata is not None else None
    except Exception:  # broken metadata is no reason to reject the text
        return ""
    return " ".join(str(title).split()) if title else ""


def _pdf_lines(page: object) -> list[_PdfLine]:
    """The page's text lines as pypdf orders them, with the baseline and font size of each line."""
    lines = [_PdfLine("", None, 0.0)]

    def visit(text: str, cm: list[float], tm: list[float], font: object, font_size: float) -> None:
        if not text:
            return
        a, b, c, d, e, f = tm
        # Text matrix times current transformation matrix: where the chunk starts on the page.
        y = e * cm[1] + f * cm[3] + cm[5]
        size = abs(font_size) * math.hypot(c * cm[0] + d * cm[2], c * cm[1] + d * cm[3])
        for index, part in enumerate(text.split("\n")):
            if index:
                lines.append(_PdfLine("", None, 0.0))
            line = lines[-1]
            if part.strip() and not line.text.strip():
                # position of the chunk is that of its start: only trust it for the first segment
                line.y, line.size = (y, size) if index == 0 else (None, size)
            line.text += part

    page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    return [line for line in lines if line.text.strip()]


def _pdf_page_blocks(lines: list[_PdfLine]) -> list[list[str]]:
    """Group a page's lines into paragraphs by vertical gaps and font size; join wrapped lines.

    Consecutive lines of the same size are one paragraph when the gap between their baselines is
    at most 1.3 times the usual line pitch (the median gap for that size, capped at 1.6 times the
    font size so one-line paragraphs separated by space still split). Inside a paragraph a line
    is joined to the previous one with a space (dropping a word-hyphen before a lower-case letter)
    unless it starts a list item or the previous line was short (ended on purpose, not wrapped).
    """
    if not lines:
        return []
    gaps: dict[float, list[float]] = {}
    for previous, line in zip(lines, lines[1:]):
        if previous.y is not None and line.y is not None and _same_size(previous.size, line.size):
            gap = previous.y - line.y
            if gap > 0:
                gaps.setdefault(round(line.size, 1), []).append(gap)
    widest: dict[float, int] = {}
    for line in lines:
        key = round(line.size, 1)
        widest[key] = max(widest.get(key, 0), len(line.text.strip()))

    blocks: list[list[str]] = [[lines[0].text.strip()]]
    for previous, line in zip(lines, lines[1:]):
        text = line.text.strip()
        if previous.y is None or line.y is None:
            blocks[-1].append(text)
            continue
        gap = previous.y - line.y
        key = round(line.size, 1)
        samples = sorted(gaps.get(key, []))
        pitch = min(samples[(len(samples) - 1) // 2] if samples else math.inf, 1.6 * line.size)
        if not _same_size(previous.size, line.size) or gap <= 0 or gap > 1.3 * pitch:
            blocks.append([text])
            continue
        last = blocks[-1][-1]
        full = len(previous.text.strip()) >= 0.6 * widest.get(key, 0)
        if _LIST_MARKER.match(text) or not full:
            blocks[-1].append(text)
        elif last.endswith("\u00ad"):
            blocks[-1][-1] = last[:-1] + text
        elif _ENDS_IN_WORD_HYPHEN.search(last) and text[:1].islower():
            blocks[-1][-1] = last[:-1] + text
        else:
            blocks[-1][-1] = last + " " + text
    return blocks


def _same_size(a: float, b: float) -> bool:
    return abs(a - b) <= 0.1 * max(a, b, 1e-9)
