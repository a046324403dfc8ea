"""Pricing: one span into one cost line, from a cost reported on the span, the user's rate
card, the genai-prices catalog (LLM) or botanu's shipped rate card (everything else).
Money is Decimal; usage that cannot be priced is marked unpriced, never $0.
"""

from __future__ import annotations

from botanu.engine.pricing._apply import apply_sql
from botanu.engine.pricing._llm import catalog_version, genai_provider_id, price_context
from botanu.engine.pricing._pricer import Pricer
from botanu.engine.pricing._rate_card import (
    TOKEN_PRICE_FIELDS,
    RateCard,
    RateCardEntry,
    RateCardError,
    Unit,
    load_rate_card,
    parse_rate_card,
    shipped_rate_card,
)

__all__ = [
    "TOKEN_PRICE_FIELDS",
    "Pricer",
    "RateCard",
    "RateCardEntry",
    "RateCardError",
    "Unit",
    "apply_sql",
    "catalog_version",
    "genai_provider_id",
    "load_rate_card",
    "parse_rate_card",
    "price_context",
    "shipped_rate_card",
]
