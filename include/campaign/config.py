"""Settings of the email campaign (environment, with defaults), and the run parameters it validates.

Everything here is plain Python (no Airflow), so the operators, the tests and the benchmark build the
same configuration. Values that reach SQL text (campaign id, run id, language and country codes) are
validated against strict patterns here: they are codes, never record values, and cannot carry quotes.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timezone
from typing import Any

MODES = ("auto", "on_demand", "batch")
# Bedrock rejects batch inference jobs with fewer records than this (100 at the time of writing)
BEDROCK_BATCH_MIN_RECORDS = 100
# Airflow's default [core] max_map_length: a mapped task cannot expand to more items than this
AIRFLOW_MAX_MAP_LENGTH = 1024

_CAMPAIGN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_RUN_ID = re.compile(r"^[A-Za-z0-9_.:+~-]{1,250}$")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_MODEL_ID = re.compile(r"^[A-Za-z0-9._:/-]{1,2048}$")


@dataclass(frozen=True)
class CampaignConfig:
    """Knobs of the generation, from GENAI_CAMPAIGN_* environment variables (see ``ENV``).

    ``batch_size``: customers per mapped task, at least; grown so that the map stays within
    ``max_batches`` items. ``concurrency``: model calls in flight inside one task (the ``bedrock``
    pool bounds the tasks). ``max_attempts`` / ``backoff_*``: full-jitter retries of one call on
    throttling and 5xx. ``stop_after_failures``: consecutive customers whose call failed for good
    after which a task stops calling (an outage) and fails, keeping what it wrote. ``context_k``:
    company chunks per customer; ``input_token_budget``: tiktoken estimate of the whole request
    (system, user message, tool schema) that retrieved chunks are dropped to fit, lowest score first.
    """

    model_id: str = "anthropic.claude-3-5-haiku-20241022-v1:0"
    max_tokens: int = 1024
    temperature: float = 0.4
    concurrency: int = 8
    max_attempts: int = 10
    backoff_base_seconds: float = 0.5
    backoff_cap_seconds: float = 4.0
    throttle_patience_seconds: float = 600.0
    stop_after_failures: int = 10
    batch_size: int = 100
    max_batches: int = AIRFLOW_MAX_MAP_LENGTH
    batch_mode_threshold: int = 1000
    context_k: int = 3
    input_token_budget: int = 2000
    about_chars: int = 300
    flush_rows: int = 25
    require_context: bool = True
    company_name: str = "Tarnwick Outdoor & Home"
    company_aliases: str = "Tarnwick"  # other names of the company an email may use, "|"-separated
    token_encoding: str = "cl100k_base"
    embedding_concurrency: int = 8

    ENV = {
        "model_id": "GENAI_CAMPAIGN_MODEL_ID",
        "max_tokens": "GENAI_CAMPAIGN_MAX_TOKENS",
        "temperature": "GENAI_CAMPAIGN_TEMPERATURE",
        "concurrency": "GENAI_CAMPAIGN_CONCURRENCY",
        "max_attempts": "GENAI_CAMPAIGN_MAX_ATTEMPTS",
        "backoff_base_seconds": "GENAI_CAMPAIGN_BACKOFF_BASE_SECONDS",
        "backoff_cap_seconds": "GENAI_CAMPAIGN_BACKOFF_CAP_SECONDS",
        "throttle_patience_seconds": "GENAI_CAMPAIGN_THROTTLE_PATIENCE_SECONDS",
        "stop_after_failures": "GENAI_CAMPAIGN_STOP_AFTER_FAILURES",
        "batch_size": "GENAI_CAMPAIGN_BATCH_SIZE",
        "max_batches": "GENAI_CAMPAIGN_MAX_BATCHES",
        "batch_mode_threshold": "GENAI_CAMPAIGN_BATCH_MODE_THRESHOLD",
        "context_k": "GENAI_CAMPAIGN_CONTEXT_K",
        "input_token_budget": "GENAI_CAMPAIGN_INPUT_TOKEN_BUDGET",
        "about_chars": "GENAI_CAMPAIGN_ABOUT_CHARS",
        "flush_rows": "GENAI_CAMPAIGN_FLUSH_ROWS",
        "require_context": "GENAI_CAMPAIGN_REQUIRE_CONTEXT",
        "company_name": "GENAI_COMPANY_NAME",
        "company_aliases": "GENAI_COMPANY_ALIASES",
        "token_encoding": "GENAI_CAMPAIGN_TOKEN_ENCODING",
        "embedding_concurrency": "GENAI_CAMPAIGN_EMBEDDING_CONCURRENCY",
    }

    def __post_init__(self) -> None:
        if not _MODEL_ID.match(self.model_id):
            raise ValueError(f"GENAI_CAMPAIGN_MODEL_ID is not a Bedrock model id: {self.model_id!r}")
        _whole(self, "max_tokens", 64, 8192)
        _whole(self, "concurrency", 1, 256)
        _whole(self, "max_attempts", 1, 100)
        _whole(self, "stop_after_failures", 1, 100_000)
        _whole(self, "batch_size", 1, 100_000)
        _whole(self, "max_batches", 1, 100_000)
        _whole(self, "batch_mode_threshold", BEDROCK_BATCH_MIN_RECORDS, 10_000_000)
        _whole(self, "context_k", 0, 20)
        _whole(self, "input_token_budget", 200, 200_000)
        _whole(self, "about_chars", 0, 5000)
        _whole(self, "flush_rows", 1, 10_000)
        _whole(self, "embedding_concurrency", 1, 64)
        if not (isinstance(self.temperature, (int, float)) and 0 <= self.temperature <= 1):
            raise ValueError(f"GENAI_CAMPAIGN_TEMPERATURE must be within 0..1, got {self.temperature!r}")
        if not (0 <= self.backoff_base_seconds <= self.backoff_cap_seconds and math.isfinite(self.backoff_cap_seconds)):
            raise ValueError("GENAI_CAMPAIGN_BACKOFF_BASE_SECONDS must be >= 0 and <= GENAI_CAMPAIGN_BACKOFF_CAP_SECONDS")
        if not (isinstance(self.throttle_patience_seconds, (int, float)) and 0 <= self.throttle_patience_seconds <= 86_400):
            raise ValueError("GENAI_CAMPAIGN_THROTTLE_PATIENCE_SECONDS must be within 0..86400")
        if not self.company_name.strip():
            raise ValueError("GENAI_COMPANY_NAME must not be empty")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> CampaignConfig:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(cls)}
        for name, variable in cls.ENV.items():
            raw = (env.get(variable) or "").strip()
            if not raw:
                continue
            kind = types[name]
            try:
                if kind == "int":
                    values[name] = int(raw)
                elif kind == "float":
                    values[name] = float(raw)
                elif kind == "bool":
                    if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                        raise ValueError(raw)
                    values[name] = raw.lower() in ("true", "1", "yes")
                else:
                    values[name] = raw
            except ValueError:
                what = {"int": "a whole number", "float": "a number", "bool": "true or false"}.get(kind, "text")
                raise ValueError(f"{variable} must be {what}, got {raw!r}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def company_names(self) -> tuple[str, ...]:
        aliases = [a.strip() for a in self.company_aliases.split("|") if a.strip()]
        return tuple(dict.fromkeys([self.company_name.strip(), *aliases]))

    def with_overrides(self, **overrides: Any) -> CampaignConfig:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def _whole(config: CampaignConfig, name: str, low: int, high: int) -> None:
    value = getattr(config, name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{CampaignConfig.ENV[name]} must be a whole number in {low}..{high}, got {value!r}")


# ------------------------------------------------------------------------------------------------ run parameters


def default_campaign_id(day: date) -> str:
    """The campaign id of a run without one: ``email-YYYY-MM-DD`` of its logical date (UTC)."""
    return f"email-{day.isoformat()}"


def resolve_campaign_id(param: object, logical_date: datetime | None, run_after: datetime | None) -> str:
    """The ``campaign_id`` param, else ``email-<UTC date>`` of the logical date, else of run_after.

    So every run of one day (a retry, a re-run, a backfill of that day) writes to the same campaign,
    and MARKETING.EMAILS keeps one email per customer for it.
    """
    text = "" if param is None else str(param).strip()
    if text and text != "None":
        if not _CAMPAIGN_ID.match(text):
            raise ValueError(
                "campaign_id must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit, "
                f"got {text!r}"
            )
        return text
    moment = logical_date or run_after
    if moment is None:
        raise ValueError("campaign_id is not set and the run has neither a logical date nor run_after")
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return default_campaign_id(moment.date())


def check_run_id(run_id: str) -> str:
    if not _RUN_ID.match(run_id):
        raise ValueError("run_id has characters that cannot go into a SQL string literal")
    return run_id


@dataclass(frozen=True)
class Audience:
    """Who a run writes to: consenting customers with recommendations, optionally filtered.

    ``languages``: BCP-47 tags, lower-cased; "pt" matches pt, pt-BR and pt-PT, "pt-br" only pt-BR.
    ``countries``: ISO 3166-1 alpha-2, upper-cased. Empty means no filter. ``max_customers``: the
    first N eligible customers by CUSTOMER_ID (stable, so a re-run does not widen the audience).
    """

    languages: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    max_customers: int | None = None

    @classmethod
    def from_params(cls, languages: object = None, countries: object = None, max_customers: object = None) -> Audience:
        langs = tuple(dict.fromkeys(t.replace("_", "-").lower() for t in _strings(languages, "languages")))
        for tag in langs:
            if not _LANGUAGE_TAG.match(tag):
                raise ValueError(f"languages: {tag!r} is not a BCP-47 language tag like 'de' or 'pt-BR'")
        ctrs = tuple(dict.fromkeys(c.upper() for c in _strings(countries, "countries")))
        for country in ctrs:
            if not _COUNTRY.match(country):
                raise ValueError(f"countries: {country!r} is not an ISO 3166-1 alpha-2 code like 'DE'")
        return cls(langs, ctrs, _optional_count(max_customers))

    def as_dict(self) -> dict[str, Any]:
        return {"languages": list(self.languages), "countries": list(self.countries),
                "max_customers": self.max_customers}


def _strings(value: object, name: str) -> list[str]:
    """A list param: a list of strings, a comma-separated string, or empty / None / "None"."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text in ("", "None", "[]"):
            return []
        if text.startswith("["):
            import json

            try:
                value = json.loads(text)
            except ValueError:
                raise ValueError(f"{name} must be a list of codes, got {text!r}") from None
        else:
            value = text.split(",")
    if not isinstance(value, Iterable) or isinstance(value, (bytes, Mapping)):
        raise ValueError(f"{name} must be a list of codes, got {value!r}")
    items = []
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"{name} must be a list of strings, got {item!r}")
        if item.strip():
            items.append(item.strip())
    return items


def _optional_count(value: object) -> int | None:
    if value is None or (isinstance(value, str) and value.strip() in ("", "None", "0")):
        return None
    if isinstance(value, bool):
        raise ValueError(f"max_customers must be a whole number >= 1 or empty, got {value!r}")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"max_customers must be a whole number >= 1 or empty, got {value!r}") from None
    if number < 0:
        raise ValueError(f"max_customers must be a whole number >= 1 or empty, got {value!r}")
    return number or None


def resolve_mode(value: object) -> str:
    mode = "auto" if value is None or str(value).strip() in ("", "None") else str(value).strip().lower()
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {value!r}")
    return mode


def optional_positive_int(value: object, name: str) -> int | None:
    if value is None or (isinstance(value, str) and value.strip() in ("", "None")):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number >= 1 or empty, got {value!r}") from None
    if number < 1 or isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number >= 1 or empty, got {value!r}")
    return number
