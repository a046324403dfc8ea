"""The demo's business: a support desk and an order pipeline, instrumented the way the
seeds show it — real `openai` client calls, a warehouse query, object-storage writes,
queue messages, retries, partial and failed outcomes, several customers and tenants.
Deterministic: the same seed gives the same spans.
"""

from __future__ import annotations

import random
from typing import Any

import tenacity

from botanu import (
    botanu_workflow,
    emit_outcome,
    track_db_operation,
    track_llm_call,
    track_messaging_operation,
    track_storage_operation,
)
from botanu.integrations.tenacity import botanu_retry

__all__ = ["run_workload"]

CUSTOMERS = (("acme", "eu"), ("globex", "us"), ("initech", "us"), ("umbrella", "eu"))


def ask(client: Any, model: str, prompt: str, provider: str = "openai") -> Any:
    """One model call through the real client, its usage recorded on the span."""
    with track_llm_call(provider=provider, model=model) as tracker:
        response = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": prompt}]
        )
        usage = response.usage
        tracker.set_tokens(
            input_tokens=usage.prompt_tokens,
            output_tokens=usage.completion_tokens,
            cache_read_tokens=usage.prompt_tokens_details.cached_tokens,
            reasoning_tokens=usage.completion_tokens_details.reasoning_tokens,
        )
        tracker.set_request_id(provider_request_id=response.id)
        tracker.set_response_model(response.model)
        return response


@botanu_workflow(
    "resolve-ticket",
    event_id=lambda ticket: ticket["id"],
    customer_id=lambda ticket: ticket["customer"],
    tenant_id=lambda ticket: ticket["tenant"],
)
def resolve_ticket(ticket: dict[str, Any], client: Any) -> str:
    with track_db_operation(system="postgresql", operation="SELECT") as db:
        db.set_result(rows_returned=12)  # the customer's history
    ask(client, "gpt-4o-mini", f"Summarise ticket {ticket['id']}: {ticket['text']}")
    if ticket["hard"]:
        ask(client, "o4-mini", f"Work out a fix for: {ticket['text']}")
    if ticket["escalate"]:
        emit_outcome(
            "partial", value_type="tickets_resolved", value_amount=0.5, reason="escalated_to_human"
        )
        return "escalated"
    emit_outcome("success", value_type="tickets_resolved", value_amount=1)
    return "resolved"


@botanu_workflow(
    "fulfill-order",
    event_id=lambda order: order["id"],
    customer_id=lambda order: order["customer"],
    tenant_id=lambda order: order["tenant"],
)
def fulfill_order(order: dict[str, Any], client: Any) -> str:
    with track_db_operation(system="bigquery", operation="SELECT") as warehouse:
        warehouse.set_bytes_scanned(order["scan_bytes"])  # stock and pricing lookup
        warehouse.set_result(rows_returned=40)
    if order["self_hosted"]:  # a tenant's own model: no public price, shown as unpriced
        ask(client, "acme-llama-70b", f"Check address {order['id']}", provider="vllm")
    else:
        ask(client, "gpt-4o", f"Check the shipping address of order {order['id']}")
    if order["out_of_stock"]:
        emit_outcome("failed", reason="out_of_stock", error_type="StockError")
        return "failed"
    with track_storage_operation(system="s3", operation="PUT", bucket="invoices") as s3:
        s3.set_result(bytes_written=48_000)
    with track_messaging_operation(system="sqs", operation="publish", destination="shipping") as q:
        q.set_result(message_count=3)
    emit_outcome("success", value_type="orders_fulfilled", value_amount=1)
    return "fulfilled"


@botanu_retry(
    stop=tenacity.stop_after_attempt(3),
    retry=tenacity.retry_if_exception_type(Exception),
    before_sleep=lambda state: state.args[2].update(retries=state.args[2]["retries"] + 1),
)
def resolve_with_retries(ticket: dict[str, Any], client: Any, counts: dict[str, int]) -> str:
    """Each attempt opens its own run of the ticket's event: attempt 2 is the retry of
    attempt 1, and what the failed one cost counts as wasted."""
    return resolve_ticket(ticket, client)


def run_workload(client: Any, server: Any, seed: int = 7) -> dict[str, int]:
    """Run both workflows; some first attempts hit a provider error and are retried."""
    rng = random.Random(seed)
    counts = {"tickets": 0, "orders": 0, "retries": 0}
    for n in range(24):
        customer, tenant = CUSTOMERS[n % len(CUSTOMERS)]
        ticket = {
            "id": f"T-{1000 + n}",
            "customer": customer,
            "tenant": tenant,
            "text": "My invoice shows the wrong amount " * (1 + n % 3),
            "hard": rng.random() < 0.3,
            "escalate": rng.random() < 0.15,
        }
        if rng.random() < 0.2:
            server.fail_next()  # the first attempt fails at the provider
        resolve_with_retries(ticket, client, counts)
        counts["tickets"] += 1
    for n in range(16):
        customer, tenant = CUSTOMERS[n % len(CUSTOMERS)]
        order = {
            "id": f"O-{5000 + n}",
            "customer": customer,
            "tenant": tenant,
            "scan_bytes": rng.randrange(1, 40) * 2**30,
            "self_hosted": customer == "umbrella" and n % 2 == 1,
            "out_of_stock": rng.random() < 0.15,
        }
        fulfill_order(order, client)
        counts["orders"] += 1
    return counts
