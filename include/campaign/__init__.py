"""Personalized email campaign: domain logic (plain Python, no Airflow).

``languages``: the languages emails are written in and language identification (lingua).
``validation``: parsing of the model's structured output and validation of every email before
it is stored, with one-line reasons and the feedback for the model's one retry.
"""

from include.campaign.languages import SUPPORTED_LANGUAGES, email_language
from include.campaign.validation import (
    EmailContext,
    EmailDraft,
    MalformedOutput,
    ProductFact,
    ValidationLimits,
    ValidationResult,
    feedback,
    parse_draft,
    validate_email,
)

__all__ = [
    "SUPPORTED_LANGUAGES", "EmailContext", "EmailDraft", "MalformedOutput", "ProductFact",
    "ValidationLimits", "ValidationResult", "email_language", "feedback", "parse_draft",
    "validate_email",
]
