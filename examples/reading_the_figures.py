"""Four support tickets, stored priced in .botanu/botanu.duckdb: one answered, one on a
self-hosted model nobody priced, one answered on the second try, one waiting for review."""

from tenacity import stop_after_attempt

import botanu
from botanu import botanu_workflow, emit_outcome, track_llm_call
from botanu.integrations.tenacity import botanu_retry

botanu.enable(service_name="support-desk", exporter="local")
tries = []


def call_model(model="gpt-4o"):
    with track_llm_call(provider="openai", model=model) as tracker:
        tracker.set_tokens(input_tokens=1000, output_tokens=100)


@botanu_workflow("support", event_id=lambda ticket: ticket, customer_id="acme")
def answer(ticket, model="gpt-4o"):
    call_model(model)
    if ticket == "T-3" and len(tries) == 1:
        raise RuntimeError("answer rejected")  # the first try fails; a retry replaces it
    emit_outcome("success", value_type="tickets_resolved", value_amount=1)


@botanu_retry(stop=stop_after_attempt(2))
def answer_with_retry(ticket):
    tries.append(ticket)
    answer(ticket)


@botanu_workflow("support", event_id="T-4", customer_id="acme", auto_outcome_on_success=False)
def draft_for_review():
    call_model()  # a person decides later: no outcome yet


answer("T-1")
answer("T-2", model="acme-private-llm")  # no price anywhere: unpriced, never $0
answer_with_retry("T-3")
draft_for_review()
botanu.disable()
