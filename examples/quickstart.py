"""Quick start: one business transaction as a run, with an LLM call and an outcome."""

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

import botanu
from botanu import botanu_workflow, emit_outcome, track_llm_call


class PrintSpans(SpanExporter):
    """Prints one line per finished span (your app would export OTLP instead)."""

    def export(self, spans):
        for span in spans:
            run_id = span.attributes.get("botanu.run_id")
            outcome = span.attributes.get("botanu.outcome.status", "")
            print(f"{span.name:<26} run {run_id} {outcome}")
        return SpanExportResult.SUCCESS


provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(PrintSpans()))
trace.set_tracer_provider(provider)
botanu.enable(service_name="support-desk")  # adds its enricher to the provider above


@botanu_workflow("resolve-ticket", event_id=lambda ticket_id: ticket_id, customer_id="acme")
def resolve_ticket(ticket_id: str) -> str:
    with track_llm_call(provider="openai", model="gpt-4o-mini") as tracker:
        answer = "Your order ships tomorrow."  # the model call would go here
        tracker.set_tokens(input_tokens=812, output_tokens=64, cache_read_tokens=512)
    emit_outcome("success", value_type="tickets_resolved", value_amount=1)
    return answer


print(resolve_ticket("ticket-1042"))
botanu.disable()
