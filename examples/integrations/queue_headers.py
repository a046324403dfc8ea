"""A run across a queue: the producer puts the run in the message headers, the consumer
continues it. Any broker with message headers works the same (here a `queue.Queue` and a
consumer thread, with messages serialised to JSON as a broker would)."""

import json
import queue
import threading

from botanu import emit_outcome, get_current_run_context, run_botanu, track_llm_call
from botanu.integrations.messaging import continue_run, run_headers
from botanu.testing import capture_spans

capture = capture_spans()  # this example prints what was recorded; apps export OTLP
broker: queue.Queue = queue.Queue()


def publish(payload: dict) -> None:
    broker.put(json.dumps({"headers": run_headers(), "payload": payload}))


def consume() -> None:
    while (raw := broker.get()) is not None:
        message = json.loads(raw)
        # a message published outside any run opens a run of its own (`workflow=`)
        with continue_run(
            message["headers"], destination="emails", workflow="send-digest", event_id="digest-1"
        ) as run:
            with track_llm_call(provider="openai", model="gpt-4o-mini") as tracker:
                tracker.set_tokens(input_tokens=300, output_tokens=90)  # write the email
            emit_outcome("success", value_type="emails_sent", value_amount=1)
            print(f"consumer: {message['payload']['to']:<12} run {run.run_id} event {run.event_id}")


consumer = threading.Thread(target=consume)
consumer.start()

with run_botanu("welcome-customer", event_id="signup-7", customer_id="acme") as run:
    print(f"producer: run {run.run_id} event {run.event_id}")
    publish({"to": "new@acme"})
assert get_current_run_context() is None
publish({"to": "all@acme"})  # outside any run
broker.put(None)
consumer.join()

email = capture.named("chat gpt-4o-mini")[0]
print("consumer span in the producer's run:", email.attributes["botanu.run_id"] == run.run_id)
print("runs recorded:", sorted(s.name for s in capture.run_spans()))
