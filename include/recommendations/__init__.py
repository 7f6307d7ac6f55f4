"""Per-customer product recommendations: run parameters and offline evaluation, free of Airflow.

The recommendations themselves are computed in Snowflake by include/sql/customer_recommendations/.
"""

from include.recommendations.config import (
    REASON_CODES,
    TOP_N,
    RecommendationConfig,
    as_of_from_run,
    compute_params,
    cutoff_for,
    parse_as_of,
    publish_params,
    qualified_name,
)
from include.recommendations.evaluation import HitRates

__all__ = [
    "REASON_CODES", "TOP_N", "HitRates", "RecommendationConfig", "as_of_from_run", "compute_params", "cutoff_for",
    "parse_as_of", "publish_params", "qualified_name",
]
