"""Unit tests: sentiment mapping, token quota, embedding projection and semantics."""

from __future__ import annotations

import numpy as np
import pytest

from local.bedrock.config import StandInConfig
from local.bedrock.embeddings import Embedder, projection
from local.bedrock.sentiment import detect_sentiment, label_and_scores
from local.bedrock.tokens import TokenQuota, count_tokens


@pytest.mark.parametrize(
    ("vader", "label"),
    [
        ((0.6, 0.0, 0.4, 0.8), "POSITIVE"),
        ((0.0, 0.5, 0.5, -0.7), "NEGATIVE"),
        ((0.0, 0.0, 1.0, 0.0), "NEUTRAL"),
        ((0.03, 0.0, 0.97, 0.04), "NEUTRAL"),  # below VADER's 0.05 threshold
        ((0.3, 0.25, 0.45, 0.2), "MIXED"),  # both sides strong
        ((0.3, 0.1, 0.6, 0.6), "POSITIVE"),  # weak negative share is not MIXED
        ((0.155, 0.5, 0.345, -0.72), "NEGATIVE"),  # the negative side dominates
    ],
)
def test_sentiment_mapping(vader: tuple[float, float, float, float], label: str) -> None:
    got, scores = label_and_scores(*vader)
    assert got == label
    assert set(scores) == {"Positive", "Negative", "Neutral", "Mixed"}
    assert sum(scores.values()) == pytest.approx(1.0, abs=1e-5)
    assert max(scores, key=scores.get) == label.capitalize()  # the label has the top score


def test_sentiment_on_real_text() -> None:
    assert detect_sentiment("I absolutely love these headphones, great sound!")[0] == "POSITIVE"
    assert detect_sentiment("Terrible. It broke after one day and support was useless.")[0] == "NEGATIVE"
    assert detect_sentiment("The box contains a cable.")[0] == "NEUTRAL"
    assert detect_sentiment("Love the design, hate the battery.")[0] == "MIXED"


def test_token_count_is_ceil_chars_over_four() -> None:
    assert [count_tokens(""), count_tokens("abc"), count_tokens("abcd"), count_tokens("abcde")] == [0, 1, 1, 2]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_quota_reserves_then_settles_and_slides() -> None:
    clock = FakeClock()
    quota = TokenQuota(1000, clock=clock)
    first = quota.reserve(900)  # input + maxTokens
    assert first is not None
    assert quota.reserve(200) is None  # 900 + 200 > 1000
    quota.settle(first, 300)  # the call only used 300 tokens
    assert quota.reserve(600) is not None  # 300 + 600 fits
    assert quota.reserve(200) is None
    clock.now += 59.9
    assert quota.reserve(200) is None  # still inside the 60 s window
    clock.now += 0.2
    assert quota.reserve(1000) is not None  # the window moved on
    assert quota.reserve(1) is None


def test_quota_zero_is_unlimited() -> None:
    quota = TokenQuota(0)
    assert all(quota.reserve(10**9) is not None for _ in range(5))


def test_config_rejects_rates_outside_0_1() -> None:
    with pytest.raises(ValueError):
        StandInConfig(error_rate=1.5).validate()


def test_config_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_BEDROCK_TPM", "5000")
    monkeypatch.setenv("LOCAL_BEDROCK_THROTTLE_RATE", "0.25")
    monkeypatch.setenv("LOCAL_BEDROCK_BATCH_MIN_RECORDS", "3")
    config = StandInConfig.from_env(s3_endpoint="http://127.0.0.1:1")
    assert (config.tpm, config.throttle_rate, config.batch_min_records) == (5000, 0.25, 3)
    assert config.s3_endpoint == "http://127.0.0.1:1"


@pytest.mark.parametrize("dims", [512, 1024])
def test_projection_preserves_cosine_exactly(dims: int) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(384), rng.standard_normal(384)
    m = projection(dims)
    assert m.shape == (dims, 384)
    assert np.allclose(m.T @ m, np.eye(384), atol=1e-10)
    assert float(m @ a @ (m @ b)) == pytest.approx(float(a @ b), rel=1e-9)
    assert np.array_equal(m, projection(dims))  # fixed across calls (seeded)


def test_projection_to_256_is_an_orthogonal_projection() -> None:
    m = projection(256)
    assert m.shape == (256, 384)
    assert np.allclose(m @ m.T, np.eye(256), atol=1e-10)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(StandInConfig().tokenizer_path)


def cosine(a: list[float], b: list[float]) -> float:
    va, vb = np.array(a), np.array(b)
    return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))


@pytest.mark.parametrize("dims", [256, 512, 1024])
def test_embeddings_are_semantic(embedder: Embedder, dims: int) -> None:
    policy = embedder.embed("the return policy allows 30 days", dims)
    question = embedder.embed("how long do I have to return an item", dims)
    stores = embedder.embed("our stores in Berlin", dims)
    assert len(policy) == dims
    assert np.linalg.norm(policy) == pytest.approx(1.0, abs=1e-6)
    assert cosine(policy, question) > cosine(policy, stores) + 0.1


def test_embedding_cosine_matches_native_model(embedder: Embedder) -> None:
    texts = ["free shipping over 50 euros", "delivery costs nothing for large orders"]
    native = [embedder.embed_native(t) for t in texts]
    native_cos = float(native[0] @ native[1])
    assert cosine(*[embedder.embed(t, 1024) for t in texts]) == pytest.approx(native_cos, abs=1e-6)
    assert cosine(*[embedder.embed(t, 512) for t in texts]) == pytest.approx(native_cos, abs=1e-6)
    assert cosine(*[embedder.embed(t, 256) for t in texts]) == pytest.approx(native_cos, abs=0.15)


def test_embedding_is_deterministic_and_unnormalised_on_request(embedder: Embedder) -> None:
    assert embedder.embed("hello", 256) == embedder.embed("hello", 256)
    raw = embedder.embed("hello", 1024, normalize=False)
    assert np.linalg.norm(raw) != pytest.approx(1.0, abs=1e-3)
