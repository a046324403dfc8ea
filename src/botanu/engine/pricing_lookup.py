"""Explaining a price: what one million tokens of each kind cost for a model on a day,
priced through the same `Pricer` as real spans, so user rate cards show too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botanu.engine.records import SpanRecord
from botanu.engine.service import default_pricer

__all__ = ["explain_llm_price"]

MILLION = 1_000_000
_USAGES: tuple[tuple[str, dict[str, int]], ...] = (
    ("input", {"input_tokens": MILLION, "output_tokens": 0}),
    ("cached input", {"input_tokens": MILLION, "cache_read_tokens": MILLION, "output_tokens": 0}),
    ("cache write", {"input_tokens": MILLION, "cache_write_tokens": MILLION, "output_tokens": 0}),
    ("output", {"input_tokens": 0, "output_tokens": MILLION}),
)


def explain_llm_price(
    provider: str, model: str, when: datetime, service_tier: str | None = None
) -> list[dict[str, Any]]:
    pricer = default_pricer()
    rows = []
    for usage, tokens in _USAGES:
        record = SpanRecord(
            trace_id="0" * 32,
            span_id="0" * 16,
            name="price lookup",
            start_ns=int(when.timestamp() * 1e9),
            end_ns=int(when.timestamp() * 1e9),
            category="llm",
            provider=provider,
            request_model=model,
            service_tier=service_tier,
            **tokens,  # type: ignore[arg-type]
        )
        line = pricer.price(record)
        rows.append(
            {
                "usage": usage,
                "per_million_tokens": line.amount if line else None,
                "source": line.source if line else "unpriced",
                "matched_model": line.matched_model if line else None,
                "effective_date": line.effective_date if line else None,
                "detail": line.detail if line else None,
            }
        )
    return rows
