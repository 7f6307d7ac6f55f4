"""Embedding configuration, set naming and the Titan v2 wire format (include/knowledge/embedding.py)."""

from __future__ import annotations

import json

import pytest

from include.knowledge.embedding import EmbeddingConfig, vector_json
from include.settings import is_identifier


def test_defaults_and_env() -> None:
    assert EmbeddingConfig.from_env({}) == EmbeddingConfig()
    config = EmbeddingConfig.from_env({"GENAI_EMBEDDING_DIMENSIONS": "256", "GENAI_EMBEDDING_CONCURRENCY": "8"})
    assert (config.dimensions, config.concurrency) == (256, 8)


@pytest.mark.parametrize("env, message", [
    ({"GENAI_EMBEDDING_DIMENSIONS": "300"}, "GENAI_EMBEDDING_DIMENSIONS must be one of"),
    ({"GENAI_EMBEDDING_DIMENSIONS": "big"}, "must be a whole number"),
    ({"GENAI_EMBEDDING_MODEL_ID": "cohere.embed-english-v3"}, "Titan Text Embeddings v2"),
    ({"GENAI_EMBEDDING_MODEL_ID": "amazon.titan-embed-text-v2:0'; DROP"}, "Titan Text Embeddings v2"),
    ({"GENAI_EMBEDDING_CONCURRENCY": "0"}, "between 1 and 64"),
])
def test_bad_settings_fail_in_one_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        EmbeddingConfig.from_env(env)
    assert "\n" not in str(info.value)


def test_each_model_and_dimension_has_its_own_table() -> None:
    a, b = EmbeddingConfig(dimensions=1024), EmbeddingConfig(dimensions=512)
    arn = EmbeddingConfig(model_id="arn:aws:bedrock:eu-west-1::foundation-model/amazon.titan-embed-text-v2:0")
    assert a.table_name == "EMB_AMAZON_TITAN_EMBED_TEXT_V2_0_1024"
    assert len({a.table_name, b.table_name, arn.table_name}) == 3
    assert all(is_identifier(c.table_name) and is_identifier(c.set_name) for c in (a, b, arn))


def test_request_and_response() -> None:
    config = EmbeddingConfig(dimensions=256)
    assert json.loads(config.request_body("hello")) == {"inputText": "hello", "dimensions": 256, "normalize": True}
    with pytest.raises(ValueError):
        config.request_body("")
    vector, tokens = config.parse_response({"embedding": [0.5] * 256, "inputTextTokenCount": 3})
    assert len(vector) == 256 and tokens == 3
    with pytest.raises(ValueError, match="returned an embedding of 3, expected 256"):
        config.parse_response({"embedding": [1, 2, 3]})
    assert json.loads(vector_json([0.1234567891, -1.0, 0.0])) == pytest.approx([0.1234568, -1.0, 0.0])
