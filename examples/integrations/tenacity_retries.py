"""Retries with tenacity, seen by botanu (`botanu_retry` takes tenacity's options).

Above a workflow, each attempt is a run of the same event: new run id, attempt + 1 and
`retry_of_run_id`, so the cost of failed attempts counts against the event. Inside a run,
each attempt of a retried call stamps `botanu.llm.attempt` on its spans.
"""

from tenacity import retry_if_exception_type, stop_after_attempt, wait_none

from botanu import botanu_workflow, run_botanu, track_llm_call
from botanu.integrations.tenacity import botanu_retry
from botanu.testing import capture_spans

capture = capture_spans()  # this example prints what was recorded; apps export OTLP


class RateLimited(Exception):
    pass


warehouse_calls = 0


@botanu_retry(stop=stop_after_attempt(3), wait=wait_none())
@botanu_workflow("fulfill-order", event_id=lambda order_id: order_id, customer_id="acme")
def fulfill(order_id: str) -> str:
    global warehouse_calls
    warehouse_calls += 1
    if warehouse_calls < 3:
        raise ConnectionError("warehouse offline")
    return "shipped"


model_calls = 0


@botanu_retry(stop=stop_after_attempt(4), retry=retry_if_exception_type(RateLimited))
def ask_model(question: str) -> str:
    global model_calls
    model_calls += 1
    with track_llm_call(provider="openai", model="gpt-4o-mini") as tracker:
        if model_calls < 2:
            raise RateLimited
        tracker.set_tokens(input_tokens=50, output_tokens=10)
    return "42"


print(fulfill("order-77"))
for span in capture.run_spans():
    a = span.attributes
    print(
        f"run attempt {a['botanu.attempt']} event {a['botanu.event_id']} "
        f"retry_of {a.get('botanu.retry_of_run_id', '-')[-12:]:>12} "
        f"run {a['botanu.run_id'][-12:]} {a['botanu.outcome.status']}"
    )

capture.clear()
with run_botanu("answer-question", event_id="q-1"):
    print(ask_model("meaning of life?"))
    with track_llm_call(provider="openai", model="gpt-4o-mini"):
        pass  # a later call: no attempt number
for span in capture.named("chat gpt-4o-mini"):
    print("model call, attempt", span.attributes.get("botanu.llm.attempt"))
