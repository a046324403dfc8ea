"""The pricer: its price sources (`_sources`) and the one applier of their rates
(`_bulk`), so one span is priced as a batch of one, exactly as it is among others.
"""

from __future__ import annotations

from botanu.engine.pricing._bulk import bulk_pricer
from botanu.engine.pricing._sources import PriceSources
from botanu.engine.records import CostLine, SpanRecord

__all__ = ["Pricer"]


class Pricer(PriceSources):
    """Prices spans into cost lines.

    Built from the bundled genai-prices catalog, botanu's shipped rate card (or `rate_card`)
    and an optional user rate card (a path or a loaded `RateCard`). `price(record)` picks
    the first source that can price the span:

    1. a cost reported on the span (`source="reported"`, taken as given; a negative or
       non-finite one is ignored, and so is a 0 on a span that carries usage (a positive
       token count or quantity, or any storage or messaging call): tools report 0 when
       they have no price list, so the catalog prices it and the line's detail keeps the
       reported 0);
    2. a span whose status is error and that carries no usage, where the next sources
       would give a line: exactly $0, `source="not_billed"` (providers do not bill a
       request that failed before reporting usage, e.g. an HTTP 5xx);
    3. the user rate card: its own prices (converted into USD at the card's exchange rate
       in force on the span's day; none in force: unpriced), or a `multiplier` on the
       next source's price (a ratio: never converted);
    4. genai-prices for LLM spans, the shipped rate card for the rest;
    5. otherwise an unpriced line: amount None (never 0) and a `detail` saying why.

    A span with no usage to price gets no cost line: `price` returns None for a span
    that is neither an LLM call with token counts nor billable work (internal spans, a
    tool call, a SQL query on your own server). An LLM call that reports no token counts
    (say, a stream read without usage) is unpriced, not skipped: it did cost money.

    Prices are those in force at the span's start (UTC); `effective_date` on the line is
    the day the applied price took effect (None when the catalog leaves it undated).
    Amounts are exact Decimals. An unpriced line's `catalog_version` names the catalog
    that could not price it, so a later catalog can be tried on reprice.
    """

    def price(self, record: SpanRecord) -> CostLine | None:
        """The cost line of one span, or None when the span has no usage to price (or
        its usage is priced on the client library's own span inside it): the span is a
        batch of one, priced by the same quotes and applier as any batch. A value beyond
        what the store keeps (a count past 64 bits, a cost past 20 digits) is a
        ValueError; ingest sets such spans aside before pricing."""
        from pyarrow import ArrowInvalid

        try:
            return bulk_pricer(self).price_records([record])[0]
        except (OverflowError, ArrowInvalid) as exc:
            raise ValueError(f"a value of the span is beyond what botanu stores: {exc}") from exc
