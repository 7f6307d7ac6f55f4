"""Offline evaluation of the recommendations: leave each customer's last purchase out, hit-rate@5.

The SQL (include/sql/customer_recommendations/evaluate.sql, around the production compute.sql)
returns counts only; this turns them into rates.
"""

from __future__ import annotations

from dataclasses import dataclass

from include.recommendations.config import TOP_N


@dataclass(frozen=True)
class HitRates:
    """``evaluated`` customers had a purchase before their last one; a hit: a held-out product is in their top 5."""

    evaluated: int
    hits: int
    popular_hits: int
    held_out_products: int = 0  # distinct (customer, product) pairs held out, for context

    @property
    def hit_rate(self) -> float:
        return self.hits / self.evaluated if self.evaluated else 0.0

    @property
    def popular_hit_rate(self) -> float:
        return self.popular_hits / self.evaluated if self.evaluated else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "evaluated_customers": self.evaluated,
            f"hit_rate_at_{TOP_N}": round(self.hit_rate, 4),
            f"popularity_hit_rate_at_{TOP_N}": round(self.popular_hit_rate, 4),
            "hits": self.hits,
            "popularity_hits": self.popular_hits,
            "held_out_pairs": self.held_out_products,
            "lift_over_popularity": round(self.hit_rate / self.popular_hit_rate, 2) if self.popular_hits else None,
        }
