"""Campaign settings and run parameters, batching math under Airflow's map limit, mode choice, prices."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from include.campaign.batching import batch_number, choose_mode, plan_batches
from include.campaign.config import (
    Audience,
    CampaignConfig,
    check_run_id,
    resolve_campaign_id,
    resolve_mode,
)
from include.campaign.pricing import PriceTable, base_model_id, parse_prices


@pytest.mark.parametrize(("customers", "batch_size", "max_batches", "size", "batches"), [
    (0, 50, 1024, 50, 0),
    (1, 50, 1024, 50, 1),
    (50, 50, 1024, 50, 1),
    (51, 50, 1024, 50, 2),
    (2_000, 50, 1024, 50, 40),
    (51_200, 50, 1024, 50, 1024),  # exactly at the limit
    (51_201, 50, 1024, 51, 1004),  # one more: the batches grow instead of the map
    (1_000_000, 50, 1024, 977, 1024),
    (2_000, 1, 1024, 2, 1000),  # one per customer is not possible above the limit
])
def test_batches_grow_to_stay_within_the_map_limit(customers: int, batch_size: int, max_batches: int, size: int,
                                                   batches: int) -> None:
    plan = plan_batches(customers, batch_size, max_batches)
    assert (plan.batch_size, plan.batches) == (size, batches)
    assert plan.batches <= max_batches and sum(plan.sizes()) == customers and len(plan.sizes()) == plan.batches
    if customers:
        assert batch_number(customers, plan.batch_size) == plan.batches and batch_number(1, plan.batch_size) == 1


def test_mode_choice() -> None:
    assert choose_mode("auto", 999, 1000) == "on_demand"
    assert choose_mode("auto", 1000, 1000) == "batch"
    assert choose_mode("auto", 150, 100) == "batch"
    assert choose_mode("on_demand", 10**6, 1000) == "on_demand"
    assert choose_mode("batch", 5, 1000) == "batch"
    with pytest.raises(ValueError):
        CampaignConfig(batch_mode_threshold=99)  # below Bedrock's minimum records per batch job
    assert resolve_mode(None) == resolve_mode("None") == "auto" and resolve_mode("ON_DEMAND") == "on_demand"
    with pytest.raises(ValueError, match="mode must be one of"):
        resolve_mode("fast")


def test_campaign_id_defaults_to_the_utc_date_of_the_run() -> None:
    evening = datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))  # 2026-03-02 in UTC
    assert resolve_campaign_id(None, evening, None) == "email-2026-03-02"
    assert resolve_campaign_id("None", None, datetime(2026, 3, 1, 9, tzinfo=timezone.utc)) == "email-2026-03-01"
    assert resolve_campaign_id(" spring-2026 ", evening, None) == "spring-2026"
    for bad in ("it's", "-x", "a b", "x" * 101):
        with pytest.raises(ValueError, match="campaign_id must be"):
            resolve_campaign_id(bad, evening, None)
    with pytest.raises(ValueError, match="neither a logical date nor run_after"):
        resolve_campaign_id("", None, None)
    assert check_run_id("scheduled__2026-03-01T00:00:00+00:00")
    with pytest.raises(ValueError):
        check_run_id("manual__x'; DROP")


def test_audience_filters_are_validated_codes() -> None:
    audience = Audience.from_params(["de", "pt_BR", "DE"], "fr, de", "25")
    assert audience == Audience(("de", "pt-br"), ("FR", "DE"), 25)
    assert Audience.from_params(None, "None", None) == Audience((), (), None)
    assert Audience.from_params('["ja"]', [], 0) == Audience(("ja",), (), None)
    for languages, countries, limit, message in (
        (["de'--"], [], None, "BCP-47"), (["german"], [], None, "BCP-47"), ([], ["DEU"], None, "alpha-2"),
        ([], [1], None, "list of strings"), ([], [], -1, "max_customers"), ([], [], "ten", "max_customers"),
    ):
        with pytest.raises(ValueError, match=message):
            Audience.from_params(languages, countries, limit)


def test_settings_from_the_environment() -> None:
    config = CampaignConfig.from_env({"GENAI_CAMPAIGN_CONCURRENCY": "16", "GENAI_CAMPAIGN_REQUIRE_CONTEXT": "false",
                                      "GENAI_CAMPAIGN_TEMPERATURE": "0.2", "GENAI_COMPANY_ALIASES": "Tarnwick|TOH"})
    assert (config.concurrency, config.require_context, config.temperature) == (16, False, 0.2)
    assert config.company_names == ("Tarnwick Outdoor & Home", "Tarnwick", "TOH")
    assert CampaignConfig.from_env({}) == CampaignConfig()
    for env, message in (({"GENAI_CAMPAIGN_MAX_TOKENS": "lots"}, "GENAI_CAMPAIGN_MAX_TOKENS must be a whole number, got 'lots'"),
                         ({"GENAI_CAMPAIGN_MAX_TOKENS": "10"}, "GENAI_CAMPAIGN_MAX_TOKENS must be a whole number in 64"),
                         ({"GENAI_CAMPAIGN_REQUIRE_CONTEXT": "maybe"}, "must be true or false"),
                         ({"GENAI_CAMPAIGN_MODEL_ID": "claude'"}, "not a Bedrock model id"),
                         ({"GENAI_CAMPAIGN_BACKOFF_BASE_SECONDS": "30"}, "BACKOFF")):
        with pytest.raises(ValueError, match=message):
            CampaignConfig.from_env(env)


def test_prices_per_model_with_overrides() -> None:
    table = PriceTable.from_env({})
    assert base_model_id("us.anthropic.claude-3-5-haiku-20241022-v1:0") == "anthropic.claude-3-5-haiku-20241022-v1:0"
    assert base_model_id("arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-3-5-haiku-20241022-v1:0") \
        == "anthropic.claude-3-5-haiku-20241022-v1:0"
    # 1M input tokens at $0.80 and 100k output at $4 per million
    assert table.cost("us.anthropic.claude-3-5-haiku-20241022-v1:0", 1_000_000, 100_000) == Decimal("1.200000")
    assert table.cost("anthropic.claude-3-5-haiku-20241022-v1:0", 1_000_000, 100_000, batch=True) == Decimal("0.600000")
    assert table.cost("mistral.unknown-v1:0", 10, 10) is None
    custom = PriceTable.from_env({"GENAI_LLM_PRICES": '{"mistral.unknown-v1:0": {"input": 0.001, "output": 0.002}}'})
    assert custom.cost("mistral.unknown-v1:0", 1000, 1000) == Decimal("0.003000")
    for raw in ("[]", "{", '{"m": {"input": -1, "output": 0}}', '{"m": {"input": 1}}'):
        with pytest.raises(ValueError, match="GENAI_LLM_PRICES"):
            parse_prices(raw)
