"""`botanu outcome`: record an event's outcome after its runs (a ticket reopened, a
reviewer's verdict). It is the span `botanu.resolve_outcome` sends, made by the real SDK:
stored in the store file, or sent to the `botanu serve` that holds it."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import click

from botanu import semconv
from botanu.cli._stores import served
from botanu.engine.store import StoreError, open_store
from botanu.exceptions import BotanuWarning

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

__all__ = ["outcome"]

_CLI_SOURCE = "cli"  # the source of a late outcome recorded by hand


@click.command()
@click.argument("event_id")
@click.argument("status", type=click.Choice(semconv.OUTCOME_STATUSES))
@click.option("--value-type", help="What the outcome delivered, e.g. tickets_resolved.")
@click.option("--value-amount", type=float, help="How much of it.")
@click.option("--reason", help="Why, e.g. 'ticket reopened'.")
@click.option("--source", default=_CLI_SOURCE, show_default=True, help="Who decided, e.g. zendesk.")
@click.option("--at", "at_text", help="When it was decided (ISO 8601; default: now).")
@click.pass_obj
def outcome(
    store_url: str | None,
    event_id: str,
    status: str,
    *,
    value_type: str | None,
    value_amount: float | None,
    reason: str | None,
    source: str,
    at_text: str | None,
) -> None:
    """Record EVENT_ID's outcome now: it wins over its runs' own in events and reports
    (the latest one recorded wins); each run keeps its own in `runs`."""
    from botanu.sdk.span_helpers import resolve_outcome

    at = _when(at_text)
    payload = _span_of(
        lambda provider: resolve_outcome(
            event_id,
            status,
            value_type=value_type,
            value_amount=value_amount,
            reason=reason,
            source=source,
            at=at,
            tracer_provider=provider,
        )
    )
    try:
        where = _deliver(store_url, payload)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{event_id}: {status} (source {source}), {where}")


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time", param_hint="--at") from None


def _span_of(send: Callable[[TracerProvider], None]) -> bytes:
    """What `send` records on a provider of its own, as OTLP protobuf; a warning the SDK
    gives (an argument it cannot use) is an error here, and nothing is sent."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider(resource=Resource({"service.name": "botanu-cli"}))
    captured = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(captured))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BotanuWarning)
        send(provider)
    problems = [str(w.message) for w in caught if issubclass(w.category, BotanuWarning)]
    if problems:
        raise click.UsageError(problems[0])
    spans = captured.get_finished_spans()
    if not spans:  # an error inside botanu, logged and swallowed as on a request path
        raise click.ClickException("the outcome was not recorded (see the log above)")
    return bytes(encode_spans(spans).SerializeToString())


def _deliver(store_url: str | None, payload: bytes) -> str:
    """Store the span, or send it to the server that holds the store; where it went."""
    try:
        store = open_store(store_url)
    except StoreError:
        remote = served(store_url)
        if remote is None:
            raise
        remote.send_spans(payload)
        return f"sent to botanu serve at {remote.url}"
    from botanu.engine.ingest import decode_protobuf
    from botanu.engine.service import ingest_payloads

    with store:
        ingest_payloads(store, [decode_protobuf(payload)])
    return "stored"
