"""Fixtures for pricing tests: one Pricer on the bundled catalog (loading it takes a
moment), a span factory with a fixed clock, and a writer for user rate-card files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from botanu.engine.pricing import Pricer, parse_rate_card
from botanu.engine.pricing._bulk import BulkPricer
from botanu.engine.records import CostLine, SpanRecord
from botanu.semconv import LLM_USAGE_ON_CHILD

# the day the research notes were checked against the catalog
DEFAULT_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def make_span(*, at: datetime = DEFAULT_TIME, **fields: Any) -> SpanRecord:
    start_ns = int(at.timestamp()) * 1_000_000_000 + at.microsecond * 1_000
    return SpanRecord(
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id="b7ad6b7169203331",
        name="span",
        start_ns=start_ns,
        end_ns=start_ns + 1_000_000,
        **fields,
    )


@pytest.fixture(scope="session")
def pricer() -> Pricer:
    return Pricer()


@pytest.fixture
def span() -> Callable[..., SpanRecord]:
    return make_span


@pytest.fixture
def rate_card_file(tmp_path: Path) -> Callable[[str], Path]:
    """Write YAML (dedented) to a file and return its path."""

    def write(text: str, name: str = "rates.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return write


# --- shared by the rule tests (reported 0, not billed) ---------------------------------

USER_CARD = """
version: 1
prices:
  - name: self-hosted llama
    category: llm
    provider: vllm
    model: llama-3.1-8b-instruct
    input_mtok: "0.05"
    output_mtok: "0.10"
    effective_from: 2025-01-01
    source: GPU hours
"""


@pytest.fixture(scope="module")
def user_pricer() -> Pricer:
    return Pricer(parse_rate_card(USER_CARD.lstrip("\n"), "acme.yaml", version="acme.yaml"))


def gpt4o(span: Callable[..., SpanRecord], **fields: Any) -> SpanRecord:
    return span(category="llm", provider="openai", request_model="gpt-4o", **fields)


def alone(pricer: Pricer, record: SpanRecord) -> CostLine | None:
    """The line of one span: from its price source span by span (`line_of`: genai-prices'
    own `calc_price`, the rate card's quantity * price / per) where no rule of reported or
    failed calls applies, else the span priced as a batch of one."""
    plain = (
        record.reported_cost is None
        and record.status_code != "error"
        and LLM_USAGE_ON_CHILD not in record.attributes
    )
    return pricer.line_of(record) if plain else pricer.price(record)


def same_in_bulk(pricer: Pricer, records: list[SpanRecord]) -> None:
    """A batch of the spans gives each the line it gets priced alone (`Pricer.price`,
    a batch of one), amounts exact."""
    for i, record in enumerate(records):
        record.span_id = f"{i + 1:016x}"
    got = BulkPricer(pricer).price_records(records)
    for record, line in zip(records, got, strict=True):
        assert line == alone(pricer, record), record
