"""Token-bounded chunking of document text with tiktoken.

A document is tokenized once (tiktoken without special tokens: "<|endoftext|>" in a document is
plain text). Per encoding, tables from token id to byte length and to codes for the token's first
and last bytes give every token boundary its byte offset (one cumulative sum) and a priority (a few
table lookups), so a document costs the same small number of numpy calls whatever its length.
Line structure and the rare multi-byte cases come from C-speed scans of the bytes. Priorities:

    0  inside a UTF-8 character: never a cut
    1  inside a grapheme (before a combining mark, variation selector, skin-tone modifier or keycap,
       around a zero-width joiner): a cut only if a window holds nothing else
    2  any other boundary
    3  next to whitespace (a word boundary); also inside a heading and between it and its text
    4  after a sentence end (. ! ? … followed by whitespace and no lowercase letter; 。！？), or at
       a line break before a list item, numbered item or table row (a line break in wrapped prose
       is only a word boundary)
    5  in a paragraph break (a blank line), or at a line break before a markdown heading
    6  in a paragraph break before a markdown heading (a section break)

Greedy, from a start boundary s: if the rest fits in ``max_tokens`` it is the last chunk; otherwise
the chunk ends at the last boundary of the highest priority in [s + max_tokens // 2, s + max_tokens].
The next chunk starts inside the last ``overlap_tokens`` tokens of this one, after the start of this
one's text: at the earliest sentence (or paragraph) start there, else the earliest word boundary. A
chunk's text is the slice of the UTF-8 bytes between its boundaries (exact: cuts are character
boundaries) without surrounding whitespace; a slice of whitespace only gives no chunk.

``token_count`` is exactly ``len(encoding.encode_ordinary(chunk.text))`` and at most ``max_tokens``,
without encoding every chunk again. Stripping whitespace and cutting inside a pre-token can change
the tokens at a chunk's edges (" breathable" is one cl100k token, "breathable" three), but not past
a "sync point": a space right after a printable ASCII character. Every tiktoken pre-tokenizer pattern
(gpt2 to o200k) starts a piece there whatever came before, as no piece continues a non-space with a
space. So a chunk's tokens from its first sync point on are the document's own: only the bytes before
it are encoded again, and those after its last one unless a piece is known to end where the chunk
ends. A chunk that then exceeds ``max_tokens`` is cut shorter. (On the company documents and review
text, stripping alone adds tokens to about 1 chunk in 6.)

Importing this module is cheap: tiktoken and numpy are imported when a Chunker is made.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# bump when the same text and configuration would give different chunks
CHUNKER_VERSION = "v1"

_ENCODING_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_MIN_MAX_TOKENS = 16


@dataclass(frozen=True)
class ChunkerConfig:
    encoding: str = "cl100k_base"
    max_tokens: int = 512
    overlap_tokens: int = 64

    def __post_init__(self) -> None:
        if not isinstance(self.encoding, str) or not _ENCODING_NAME.match(self.encoding):
            raise ValueError(f"chunk encoding must be a tiktoken encoding name like cl100k_base, got {self.encoding!r}")
        if type(self.max_tokens) is not int or self.max_tokens < _MIN_MAX_TOKENS:
            raise ValueError(f"chunk max_tokens must be an integer >= {_MIN_MAX_TOKENS}, got {self.max_tokens!r}")
        if type(self.overlap_tokens) is not int or not 0 <= self.overlap_tokens < self.max_tokens // 2:
            raise ValueError(
                f"chunk overlap_tokens must be an integer in [0, max_tokens // 2 = {self.max_tokens // 2}), "
                f"got {self.overlap_tokens!r}"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ChunkerConfig:
        """GENAI_CHUNK_ENCODING, GENAI_CHUNK_MAX_TOKENS, GENAI_CHUNK_OVERLAP_TOKENS; unset or empty: default."""
        env = os.environ if env is None else env
        defaults = cls()
        return cls(
            encoding=(env.get("GENAI_CHUNK_ENCODING") or "").strip() or defaults.encoding,
            max_tokens=_int_from_env(env, "GENAI_CHUNK_MAX_TOKENS", defaults.max_tokens),
            overlap_tokens=_int_from_env(env, "GENAI_CHUNK_OVERLAP_TOKENS", defaults.overlap_tokens),
        )

    def describe(self) -> str:
        """Stable description stored with every chunk, e.g. tiktoken:cl100k_base/max=512/overlap=64/v1."""
        return f"tiktoken:{self.encoding}/max={self.max_tokens}/overlap={self.overlap_tokens}/{CHUNKER_VERSION}"


def _int_from_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


@dataclass(frozen=True)
class Chunk:
    ordinal: int  # 0-based position in the document
    text: str
    token_count: int  # len(encode_ordinary(text)), <= max_tokens
    content_hash: str  # sha256 hex of text.encode("utf-8")


def chunk_id(doc_id: str, chunk: Chunk) -> str:
    """Deterministic id of a chunk of a document: the same document, position and text give the same id."""
    key = f"{doc_id}\x1f{chunk.ordinal}\x1f{chunk.content_hash}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


# ---------------------------------------------------------------------------------------------------
# Internals

_cache_lock = threading.Lock()
_encodings: dict[str, Any] = {}

_NO_CUT, _IN_GRAPHEME, _ANY, _WORD, _SENTENCE, _PARAGRAPH, _SECTION = range(7)
# levels as bytes, for bytes.find/rfind over one priority byte per boundary; best first
_LEVELS_DOWN = [bytes([level]) for level in (_SECTION, _PARAGRAPH, _SENTENCE, _WORD, _ANY, _IN_GRAPHEME)]
_STARTS = (  # where the next chunk may start, best first; the earliest of a group wins
    (bytes([_SENTENCE]), bytes([_PARAGRAPH]), bytes([_SECTION])), (bytes([_WORD]),), (bytes([_ANY]),),
    (bytes([_IN_GRAPHEME]),),
)

# Line structure the token codes cannot see: a blank line that holds spaces, tabs or CRs ("\n\n" is
# inside one token), a line that starts a list item, numbered item or table row, each from the
# newline to the line's text; and a markdown heading with the whitespace after it.
_HEADING = rb"#{1,6}[ \t][^\n]*+[ \t\r\n]*"
_LINES = re.compile(  # one scan, from each newline
    rb"\n(?:(?P<blank>[ \t\r]+\n[ \t\r\n]*)|(?P<heading>" + _HEADING + rb")"
    rb"|(?P<item>[ \t\r]*+(?=[-*+|>]|\xe2\x80[\xa2\x93\x94]|\d{1,4}(?:[.)\t]|  ))))"
)
_HEADING_LINE = re.compile(_HEADING)
# multi-byte cases, looked for only inside tokens that hold one of their first bytes
_MULTI_BYTE_PREFIXES = (  # a token holds a case if it holds one whole, or ends with the start of one
    b"\xe2", b"\xe2\x80", b"\xe2\x83", b"\xe3", b"\xe3\x80", b"\xef", b"\xef\xbc", b"\xef\xb8", b"\xf0",
    b"\xf0\x9f", b"\xf0\x9f\x8f",
)
_MULTI_BYTE = re.compile(
    rb"\xe2(?:\x80[\x8d\x9d\x99\xa6]|\x83\xa3)|\xe3\x80[\x82\x8d\x8f]|\xef(?:\xbc[\x81\x9f]|\xb8[\x80-\x8f])"
    rb"|\xf0\x9f\x8f[\xbb-\xbf]"
)
_ZWJ = b"\xe2\x80\x8d"
_GRAPHEME_TAILS = (_ZWJ, b"\xe2\x83\xa3", b"\xef\xb8", b"\xf0\x9f")  # ZWJ, keycap, variation selector, skin tone
_CJK_SENTENCE_ENDS = (b"\xe3\x80\x82", b"\xef\xbc\x81", b"\xef\xbc\x9f")  # 。！？
_ELLIPSIS = b"\xe2\x80\xa6"
_ENDS_BEFORE_QUOTE = (b".", b"!", b"?", _ELLIPSIS, *_CJK_SENTENCE_ENDS)
_SPACES = b" \t\n\r\x0b\x0c"
_ASCII_SPACE = frozenset(_SPACES)
_ALNUM = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

# What a token's first and last bytes say about the boundaries before and after it; the priority of
# the boundary between two tokens is the priority table at (last code of one | first code of the next).
(_F_NO_CUT, _F_IN_GRAPHEME, _F_SPACE_LOWER, _F_SPACE, _F_NEWLINE, _F_BLANK_LINE, _F_HASH, _F_LOWER,
 _F_OTHER) = range(9)
_L_SENTENCE, _L_QUOTED_SENTENCE, _L_NEWLINE_SENTENCE, _L_NEWLINE, _L_BLANK_LINE, _L_SPACE, _L_OTHER = (
    code << 4 for code in range(7)
)


def _first_code(token: bytes) -> int:
    b0, b1 = token[0], token[1] if len(token) > 1 else None
    if (b0 & 0xC0) == 0x80:
        return _F_NO_CUT  # inside a character
    if b0 == 0xCC or (b0 == 0xCD and (b1 is None or b1 <= 0xAF)):
        return _F_IN_GRAPHEME  # before a combining mark U+0300..U+036F
    if token[: len(token) - len(token.lstrip(_SPACES))].count(b"\n") >= 2:
        return _F_BLANK_LINE  # starts with whitespace that holds a blank line
    if b0 == 0x20:
        return _F_SPACE_LOWER if b1 is not None and 0x61 <= b1 <= 0x7A else _F_SPACE
    if b0 in b"\n\r":
        return _F_NEWLINE
    if b0 in b"\t\x0b\x0c":
        return _F_SPACE
    if b0 == 0x23:
        return _F_HASH
    return _F_LOWER if 0x61 <= b0 <= 0x7A else _F_OTHER


def _last_code(token: bytes) -> int:
    if token[len(token.rstrip(_SPACES)) :].count(b"\n") >= 2:
        return _L_BLANK_LINE  # ends with whitespace that holds a blank line
    p1, p2 = token[-1], token[-2] if len(token) > 1 else None
    if p1 in b".!?":
        return _L_SENTENCE
    if p1 in b"\"')]" and p2 is not None and p2 in b".!?":
        return _L_QUOTED_SENTENCE
    if p1 in b"\n\r":
        return _L_NEWLINE_SENTENCE if p2 is not None and p2 in b".!?" else _L_NEWLINE
    return _L_SPACE if p1 in b" \t\x0b\x0c" else _L_OTHER


def _priority_table() -> list[int]:
    table = [_ANY] * 128
    newline = (_L_NEWLINE_SENTENCE, _L_NEWLINE)
    for last in (_L_SENTENCE, _L_QUOTED_SENTENCE, _L_NEWLINE_SENTENCE, _L_NEWLINE, _L_BLANK_LINE, _L_SPACE, _L_OTHER):
        for first in range(9):
            if first in (_F_NO_CUT, _F_IN_GRAPHEME):
                level = _NO_CUT if first == _F_NO_CUT else _IN_GRAPHEME
            elif last == _L_BLANK_LINE:
                level = _SECTION if first == _F_HASH else _PARAGRAPH  # after a blank line (before a heading)
            elif first == _F_BLANK_LINE or (last in newline and first == _F_NEWLINE):
                level = _PARAGRAPH  # before or inside a blank line
            elif last in newline and first == _F_HASH:
                level = _PARAGRAPH  # a heading starts
            elif last in (_L_SENTENCE, _L_QUOTED_SENTENCE) and first in (_F_SPACE, _F_NEWLINE):
                level = _SENTENCE  # "end." + " Next" (not " next"), "end.)" + "\n"
            elif last == _L_NEWLINE_SENTENCE and first in (_F_OTHER, _F_HASH):
                level = _SENTENCE  # "end.\n" + "Next"
            elif last in (*newline, _L_SPACE) or first in (_F_SPACE_LOWER, _F_SPACE):
                level = _WORD
            else:
                level = _ANY
            table[last | first] = level
    return table


@dataclass(frozen=True)
class _Encoding:
    encoding: Any
    # token id -> 16 bits: its length in bytes (bits 0-7), _F_* code (8-11), _L_* code (12-14), whether
    # it holds (the start of) a multi-byte case (15): one lookup per token, from a table small enough
    # to stay in the CPU cache
    packed: Any
    priority: Any  # (_L_* code | _F_* code) -> priority


def _load_encoding(name: str) -> _Encoding:
    """The encoding and its tables, built once per process."""
    with _cache_lock:
        if name not in _encodings:
            import numpy as np
            import tiktoken

            if name not in tiktoken.list_encoding_names():
                raise ValueError(f"chunk encoding {name!r} is not a tiktoken encoding")
            encoding = tiktoken.get_encoding(name)
            ranks = getattr(encoding, "_mergeable_ranks", None)
            if isinstance(ranks, dict):
                pairs = [(rank, token) for token, rank in ranks.items()]
            else:  # public, slower path
                pairs = []
                for token_id in range(encoding.n_vocab):
                    try:
                        pairs.append((token_id, encoding.decode_single_token_bytes(token_id)))
                    except KeyError:
                        pass
            ids = [token_id for token_id, _ in pairs]
            if max(len(token) for _, token in pairs) > 255:
                raise ValueError(f"chunk encoding {name!r} has tokens longer than 255 bytes")
            packed = np.zeros(encoding.n_vocab, dtype=np.uint16)
            packed[ids] = [
                len(token) | _first_code(token) << 8 | _last_code(token) << 8
                | (_MULTI_BYTE.search(token) is not None or token.endswith(_MULTI_BYTE_PREFIXES)) << 15
                for _, token in pairs
            ]
            _encodings[name] = _Encoding(encoding, packed, np.array(_priority_table(), dtype=np.uint8))
        return _encodings[name]


def _next_is_not_lower(data: bytes, position: int) -> bool:
    """Whitespace follows ``position``, then no lowercase ASCII letter."""
    if data[position : position + 1] not in (b" ", b"\n", b"\t", b"\r"):
        return False
    following = data[position : position + 16].lstrip()[:1]
    return not b"a" <= following <= b"z"


_Spans = tuple[list[int], list[int], list[int]]  # byte starts, byte ends, levels


def _priorities(data: bytes, packed: Any, offsets: Any, at: memoryview, tables: _Encoding) -> bytearray:
    """Priority (see the module docstring) of every token boundary ``at[k]`` in ``data``, one byte each."""
    import numpy as np

    n = len(packed)
    prio = np.empty(n + 1, dtype=np.uint8)
    prio[0] = prio[n] = _ANY
    codes = packed >> 8  # bits 0-3 the first code, 4-6 the last code, 7 multi-byte
    between = codes[:-1] & 0x70
    between |= codes[1:] & 0x0F
    np.take(tables.priority, between, out=prio[1:n])

    # byte spans [start, end] whose boundaries are raised to a level, or lowered to one (caps)
    raised: _Spans = ([], [], [])
    capped: _Spans = ([], [], [])
    raise_start, raise_end, raise_level = raised
    cap_start, cap_end, cap_level = capped
    heading = _HEADING_LINE.match(data)  # no good cut inside a heading or between it and its text
    if heading:
        cap_start.append(1)
        cap_end.append(heading.end())
        cap_level.append(_WORD)
    for match in _LINES.finditer(data):
        start, end = match.span()
        if match.lastgroup == "blank":  # a blank line that holds spaces, tabs or CRs
            heading = _HEADING_LINE.match(data, end)
            raise_start.append(start)
            raise_end.append(end)
            raise_level.append(_SECTION if heading else _PARAGRAPH)
            if heading:
                cap_start.append(end + 1)
                cap_end.append(heading.end())
                cap_level.append(_WORD)
        elif match.lastgroup == "heading":
            cap_start.append(start + 2)
            cap_end.append(end)
            cap_level.append(_WORD)
        else:  # a list item, numbered item or table row
            raise_start.append(start)
            raise_end.append(end)
            raise_level.append(_SENTENCE)
    if not data.isascii():
        # tokens holding a first byte of a multi-byte case, and from there the cases themselves
        flagged = np.flatnonzero(codes & 0x80)
        for token_start, token_end in zip(offsets[flagged].tolist(), offsets[flagged + 1].tolist()):
            for match in _MULTI_BYTE.finditer(data, token_start, token_end + 3):
                start, end = match.span()
                if start >= token_end:
                    break
                found = match.group()
                if found.startswith(_GRAPHEME_TAILS):
                    cap_start.append(start)
                    cap_end.append(end if found == _ZWJ else start)  # and after a ZWJ
                    cap_level.append(_IN_GRAPHEME)
                elif (
                    found in _CJK_SENTENCE_ENDS
                    or (found == _ELLIPSIS and _next_is_not_lower(data, end))
                    or (data[max(start - 3, 0) : start].endswith(_ENDS_BEFORE_QUOTE)
                        and (found[-1] in (0x8D, 0x8F) or _next_is_not_lower(data, end)))  # 」』 or ” ’
                ):
                    raise_start.append(end)
                    raise_end.append(end)
                    raise_level.append(_SENTENCE)
    prio = bytearray(prio.tobytes())  # one byte per boundary, for find/rfind
    if len(raised[0]) + len(capped[0]) > _SPANS_IN_NUMPY:
        _apply_spans_numpy(np, prio, offsets, raised, capped)
    else:
        _apply_spans(prio, at, raised, capped)
    return prio


_SPANS_IN_NUMPY = 256  # from this many spans on, numpy's per-call overhead pays off


# bytes.translate tables: raise a priority to a level (not one inside a character or grapheme), cap it
_RAISE = [bytes(v if v <= _IN_GRAPHEME else max(v, level) for v in range(256)) for level in range(7)]
_CAP = [bytes(min(v, level) for v in range(256)) for level in range(7)]


def _apply_spans(prio: bytearray, at: memoryview, raised: _Spans, capped: _Spans) -> None:
    """Raise every boundary in each raised byte span [start, end] to the span's level (but none inside a
    character or grapheme), then lower every boundary in each capped span to at most its level."""
    for spans, tables in ((raised, _RAISE), (capped, _CAP)):
        for start, end, level in zip(*spans):
            lo, hi = bisect_left(at, start), bisect_right(at, end)
            if lo < hi:
                prio[lo:hi] = prio[lo:hi].translate(tables[level])


def _apply_spans_numpy(np: Any, prio: bytearray, offsets: Any, raised: _Spans, capped: _Spans) -> None:
    """The same as _apply_spans, vectorized."""
    view = np.frombuffer(prio, dtype=np.uint8)
    for spans, lift in ((raised, True), (capped, False)):
        if not spans[0]:
            continue
        lo = offsets.searchsorted(spans[0], "left")
        widths = offsets.searchsorted(spans[1], "right") - lo
        widths[widths < 0] = 0
        covered = np.repeat(lo - np.cumsum(widths) + widths, widths) + np.arange(int(widths.sum()))
        level = np.repeat(np.array(spans[2], dtype=np.uint8), widths)
        if lift:
            level = np.where(view[covered] <= _IN_GRAPHEME, view[covered], level)
            np.maximum.at(view, covered, level)  # several spans may cover a boundary: the highest level
        else:
            np.minimum.at(view, covered, level)


class Chunker:
    """Splits a document's text into token-bounded, overlapping chunks; see the module docstring."""

    def __init__(self, config: ChunkerConfig = ChunkerConfig()) -> None:
        self.config = config
        self._tables = _load_encoding(config.encoding)
        self._encoding = self._tables.encoding
        self._encode = self._encoding.encode_ordinary

    def chunk(self, text: str) -> list[Chunk]:
        if text[:1].isspace() or text[-1:].isspace():
            text = text.strip()
        if not text:
            return []
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: replaced the way tiktoken does
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").strip()
            data = text.encode("utf-8")
        # the tokens of encode_ordinary (no special tokens), straight into a numpy array
        tokens = self._encoding.encode_to_numpy(text, allowed_special=set(), disallowed_special=())
        if len(tokens) <= self.config.max_tokens:
            return [Chunk(0, text, len(tokens), hashlib.sha256(data).hexdigest())]
        return _Split(self, data, tokens).chunks()


class _Split:
    """One document being chunked: its bytes, token boundaries and their priorities."""

    def __init__(self, chunker: Chunker, data: bytes, tokens: Any) -> None:
        import numpy as np

        self.encode = chunker._encode
        self.max_tokens = chunker.config.max_tokens
        self.overlap = chunker.config.overlap_tokens
        self.data = data
        self.n = n = len(tokens)
        packed = chunker._tables.packed.take(tokens)
        offsets = np.empty(n + 1, dtype=np.int64)
        offsets[0] = 0
        np.cumsum(packed & 0xFF, out=offsets[1:])
        self.at = at = memoryview(offsets)  # byte offsets of the boundaries as Python ints (and for bisect)
        if at[n] != len(data):
            raise RuntimeError("token byte lengths do not add up to the text's length")  # a broken length table
        self.prio = _priorities(data, packed, offsets, at, chunker._tables)

    def chunks(self) -> list[Chunk]:
        chunks: list[Chunk] = []
        n, max_tokens = self.n, self.max_tokens
        start, text_start, text_end = 0, -1, -1
        while True:
            window_end = min(start + max_tokens, n)
            while True:
                end = n if window_end == n else self._end(start, window_end)
                piece = self._piece(start, end)
                if piece is None or piece[1] <= max_tokens:
                    break
                # the stripped text has more tokens than its slice: cut shorter
                window_end = end - (piece[1] - max_tokens)
                if window_end <= start:
                    raise RuntimeError("cannot fit a chunk within max_tokens")
            if piece is not None and piece[4] > text_end:  # (a chunk inside the previous one adds nothing)
                chunks.append(Chunk(len(chunks), piece[0], piece[1], piece[2]))
                text_start, text_end = piece[3], piece[4]
            if end == n:
                return chunks
            start = self._next_start(start, end, text_start)

    def _end(self, start: int, window_end: int) -> int:
        """The last boundary of the highest priority in the second half of the window; if that half has
        no cut but inside graphemes, in the whole window."""
        rfind = self.prio.rfind
        for lo, levels in ((start + max(self.max_tokens // 2, 1), _LEVELS_DOWN[:-1]), (start + 1, _LEVELS_DOWN)):
            for level in levels:
                end = rfind(level, lo, window_end + 1)
                if end >= 0:
                    return end
        raise RuntimeError("no character boundary within a chunk window")

    def _next_start(self, start: int, end: int, text_start: int) -> int:
        """Inside the last ``overlap`` tokens and after the start of the chunk's text: the earliest
        sentence start, else the earliest word boundary."""
        if self.overlap == 0:
            return end
        at = self.at
        lo = bisect_left(at, text_start + 1, max(end - self.overlap, start + 1), end)
        find = self.prio.find
        for levels in _STARTS:
            best = -1
            for level in levels:
                k = find(level, lo, end)
                if k >= 0 and (best < 0 or k < best):
                    best = k
            # the overlap must hold text, not only whitespace
            if best >= 0 and self.data[at[best] : at[end]].strip():
                return best
        return end

    def _piece(self, start: int, end: int) -> tuple[str, int, str, int, int] | None:
        """(text, exact token count, sha256, first byte, end byte) of the slice between two boundaries
        without surrounding whitespace; None if it is all whitespace."""
        data, at, encode = self.data, self.at, self.encode
        b0, b1 = at[start], at[end]
        raw = data[b0:b1].decode("utf-8")
        text = raw.strip()
        if not text:
            return None
        c0, c1 = b0, b1
        if len(text) != len(raw):
            lead = raw.find(text[0])  # the whitespace before holds no other character
            c0 += len(raw[:lead].encode("utf-8")) if lead else 0
            c1 -= len(raw[lead + len(text) :].encode("utf-8"))
        digest = hashlib.sha256(data[c0:c1]).hexdigest()
        # Head: the tokens from `start` on are the document's own if the text starts there and a piece
        # starts there whatever came before (the document's start, or after a newline). Else they are
        # from the first sync point on, and the bytes before it are encoded again.
        if c0 == b0 and (start == 0 or data[c0 - 1] in b"\n\r"):
            kp, count, tail_from = start, 0, c0 + 1
        else:
            p = data.find(b" ", c0 + 1, c1)
            while p >= 0 and not 0x21 <= data[p - 1] <= 0x7E:
                p = data.find(b" ", p + 1, c1)
            kp = bisect_left(at, p, start, end) if p >= 0 else end
            if at[kp] != p:  # no sync point (or an encoding whose pieces do not start there)
                return text, len(encode(text)), digest, c0, c1
            count, tail_from = len(encode(data[c0:p].decode("utf-8"))), p
        # Tail: nothing to encode again if a piece ends where the text ends whatever follows: at the
        # document's end, before a space after printable ASCII, before whitespace after a letter or digit.
        last, follows = data[c1 - 1], data[c1] if c1 < len(data) else -1
        if follows < 0 or (follows == 0x20 and 0x21 <= last <= 0x7E) or (follows in _ASCII_SPACE and last in _ALNUM):
            kc = end if c1 == b1 else bisect_left(at, c1, kp, end)
            if at[kc] == c1:
                return text, count + kc - kp, digest, c0, c1
            return text, len(encode(text)), digest, c0, c1
        # else from the last sync point on
        q = data.rfind(b" ", tail_from, c1)
        while q >= 0 and not 0x21 <= data[q - 1] <= 0x7E:
            q = data.rfind(b" ", tail_from, q)
        kq = bisect_left(at, q, kp, end) if q >= 0 else end
        if at[kq] != q:
            return text, len(encode(text)), digest, c0, c1
        return text, count + kq - kp + len(encode(data[q:c1].decode("utf-8"))), digest, c0, c1
