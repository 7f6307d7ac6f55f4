"""Estimated cost of model calls, from a price table in USD per 1,000 tokens.

The defaults are Amazon Bedrock's published on-demand list prices for the US regions as the
author knew them (2025); they change and differ by region and by cross-region inference
profile, so CHECK THEM against https://aws.amazon.com/bedrock/pricing/ before trusting a cost
figure, and override them with GENAI_LLM_PRICES, a JSON object::

    GENAI_LLM_PRICES='{"anthropic.claude-3-5-haiku-20241022-v1:0": {"input": 0.0008, "output": 0.004}}'

Keys are model ids without a geo prefix (``us.``, ``eu.``, ...) or ARN; an entry of the
override replaces the default one for that model. Batch inference is billed at
BATCH_DISCOUNT of the on-demand price. An unknown model costs None (reported as unknown,
never as 0).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

ENV_PRICES = "GENAI_LLM_PRICES"
BATCH_DISCOUNT = Decimal("0.5")


@dataclass(frozen=True)
class Price:
    input_per_1k: Decimal
    output_per_1k: Decimal


def _p(i: str, o: str) -> Price:
    return Price(Decimal(i), Decimal(o))


DEFAULT_PRICES: dict[str, Price] = {
    "anthropic.claude-3-haiku-20240307-v1:0": _p("0.00025", "0.00125"),
    "anthropic.claude-3-5-haiku-20241022-v1:0": _p("0.0008", "0.004"),
    "anthropic.claude-haiku-4-5-20251001-v1:0": _p("0.001", "0.005"),
    "anthropic.claude-3-5-sonnet-20240620-v1:0": _p("0.003", "0.015"),
    "anthropic.claude-3-5-sonnet-20241022-v2:0": _p("0.003", "0.015"),
    "anthropic.claude-3-7-sonnet-20250219-v1:0": _p("0.003", "0.015"),
    "anthropic.claude-sonnet-4-20250514-v1:0": _p("0.003", "0.015"),
    "anthropic.claude-sonnet-4-5-20250929-v1:0": _p("0.003", "0.015"),
    "amazon.titan-embed-text-v2:0": _p("0.00002", "0"),
}

_PREFIX = re.compile(r"^(?:arn:aws[\w-]*:bedrock:[\w-]*:\d*:(?:foundation-model|inference-profile)/)?"
                     r"(?:(?:us|eu|apac|global|jp|au|ca|us-gov)\.)?")


def base_model_id(model_id: str) -> str:
    """``us.anthropic.claude-...`` or an ARN -> ``anthropic.claude-...``."""
    return _PREFIX.sub("", model_id, count=1)


class PriceTable:
    def __init__(self, prices: Mapping[str, Price]) -> None:
        self.prices = dict(prices)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PriceTable:
        env = os.environ if env is None else env
        prices = dict(DEFAULT_PRICES)
        raw = (env.get(ENV_PRICES) or "").strip()
        if raw:
            prices.update(parse_prices(raw))
        return cls(prices)

    def price(self, model_id: str) -> Price | None:
        return self.prices.get(base_model_id(model_id))

    def cost(self, model_id: str, input_tokens: int, output_tokens: int, *, batch: bool = False) -> Decimal | None:
        """USD for the tokens, rounded to 6 decimals; None if the model has no price."""
        price = self.price(model_id)
        if price is None:
            return None
        usd = (price.input_per_1k * input_tokens + price.output_per_1k * output_tokens) / 1000
        if batch:
            usd *= BATCH_DISCOUNT
        return usd.quantize(Decimal("0.000001"))


def parse_prices(raw: str) -> dict[str, Price]:
    try:
        data = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise ValueError(f"{ENV_PRICES} must be a JSON object of model id -> {{input, output}} USD per 1k tokens") from None
    if not isinstance(data, dict):
        raise ValueError(f"{ENV_PRICES} must be a JSON object")
    prices = {}
    for model, entry in data.items():
        if not isinstance(entry, dict) or set(entry) != {"input", "output"}:
            raise ValueError(f"{ENV_PRICES}: {model!r} needs exactly 'input' and 'output' (USD per 1k tokens)")
        values = []
        for key in ("input", "output"):
            value = entry[key]
            if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or value < 0:
                raise ValueError(f"{ENV_PRICES}: {model!r} {key} must be a number >= 0")
            values.append(Decimal(value))
        prices[base_model_id(str(model))] = Price(*values)
    return prices
