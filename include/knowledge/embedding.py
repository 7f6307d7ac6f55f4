"""Embedding configuration and the Titan Text Embeddings v2 wire format.

An *embedding set* is every chunk embedded with one (model id, dimensions). Each set has its own
table, ``RAG.EMB_<MODEL>_<DIMS>``, because a Snowflake VECTOR column has one fixed dimension; rows
are keyed on the chunk's content hash, so identical text is embedded once and an edit re-embeds only
the chunks whose text changed. ``RAG.EMBEDDING_SETS`` says which set is *active* (the one retrieval
reads); a set for a new model or dimension is built beside it and activated when complete.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TITAN_EMBED_V2 = "amazon.titan-embed-text-v2:0"
TITAN_V2_DIMENSIONS = (256, 512, 1024)
TITAN_V2_MAX_CHARS = 50_000
_NON_IDENTIFIER = re.compile(r"[^A-Z0-9]+")
# model ids and ARNs: spliced into a view's definition as a string literal, so no quotes or backslashes
_MODEL_ID = re.compile(r"^[A-Za-z0-9._:/-]{1,200}$")


@dataclass(frozen=True)
class EmbeddingConfig:
    model_id: str = TITAN_EMBED_V2
    dimensions: int = 1024
    concurrency: int = 4  # model calls in flight per task
    max_attempts: int = 8  # per text, throttling and 5xx included
    flush_rows: int = 256  # embeddings written per staged batch: progress a retry keeps

    def __post_init__(self) -> None:
        if not _MODEL_ID.match(self.model_id) or "titan-embed-text-v2" not in self.model_id:
            raise ValueError(
                f"GENAI_EMBEDDING_MODEL_ID must be a Titan Text Embeddings v2 model (its request format is the one "
                f"supported), got {self.model_id!r}"
            )
        if self.dimensions not in TITAN_V2_DIMENSIONS:
            raise ValueError(f"GENAI_EMBEDDING_DIMENSIONS must be one of {TITAN_V2_DIMENSIONS}, got {self.dimensions}")
        if not 1 <= self.concurrency <= 64:
            raise ValueError(f"GENAI_EMBEDDING_CONCURRENCY must be between 1 and 64, got {self.concurrency}")
        if self.max_attempts < 1 or self.flush_rows < 1:
            raise ValueError("max_attempts and flush_rows must be at least 1")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EmbeddingConfig:
        env = os.environ if env is None else env
        defaults = cls()

        def number(name: str, default: int) -> int:
            raw = (env.get(name) or "").strip()
            if not raw:
                return default
            if not raw.isdigit():
                raise ValueError(f"{name} must be a whole number, got {raw!r}")
            return int(raw)

        return cls(
            model_id=(env.get("GENAI_EMBEDDING_MODEL_ID") or "").strip() or defaults.model_id,
            dimensions=number("GENAI_EMBEDDING_DIMENSIONS", defaults.dimensions),
            concurrency=number("GENAI_EMBEDDING_CONCURRENCY", defaults.concurrency),
            max_attempts=number("GENAI_EMBEDDING_MAX_ATTEMPTS", defaults.max_attempts),
        )

    @property
    def set_name(self) -> str:
        """e.g. AMAZON_TITAN_EMBED_TEXT_V2_0_1024: an identifier naming (model, dimensions)."""
        model = _NON_IDENTIFIER.sub("_", self.model_id.upper()).strip("_")
        return f"{model}_{self.dimensions}"

    @property
    def table_name(self) -> str:
        return f"EMB_{self.set_name}"[:255]

    def request_body(self, text: str) -> str:
        if not text or len(text) > TITAN_V2_MAX_CHARS:
            raise ValueError(f"a Titan v2 input must hold 1 to {TITAN_V2_MAX_CHARS} characters, got {len(text)}")
        return json.dumps({"inputText": text, "dimensions": self.dimensions, "normalize": True})

    def parse_response(self, payload: Mapping[str, Any]) -> tuple[list[float], int]:
        """(vector, input tokens) from an InvokeModel response body; a malformed one is a one-line ValueError."""
        vector = payload.get("embedding")
        if not isinstance(vector, list) or len(vector) != self.dimensions:
            got = len(vector) if isinstance(vector, list) else type(vector).__name__
            raise ValueError(f"{self.model_id} returned an embedding of {got}, expected {self.dimensions} numbers")
        return [float(x) for x in vector], int(payload.get("inputTextTokenCount") or 0)


def vector_json(vector: list[float]) -> str:
    """Compact JSON for a staged vector: float32 precision is all a VECTOR(FLOAT, n) keeps."""
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"
