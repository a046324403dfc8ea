"""Celery tasks that continue the run which enqueued them.

`instrument(app)` where the app is defined: the run travels in each task message's
headers and the task's spans, outcome and further tasks belong to it. To stay
self-contained this example uses Celery's in-memory broker and starts a worker thread in
this process; with a real broker, run `celery -A yourapp worker` as usual.
"""

from celery import Celery, chain
from celery.contrib.testing.worker import start_worker

from botanu import emit_outcome, get_current_run_context, run_botanu, track_llm_call
from botanu.integrations.celery import instrument
from botanu.testing import capture_spans

capture = capture_spans()  # this example prints what was recorded; apps export OTLP

app = Celery("orders", broker="memory://", backend="cache+memory://")
app.conf.update(
    worker_hijack_root_logger=False,
    broker_transport_options={"polling_interval": 0.01},  # the in-memory broker polls
)
instrument(app)


@app.task
def draft_reply(ticket_id: str) -> str:
    with track_llm_call(provider="anthropic", model="claude-sonnet-4") as tracker:
        tracker.set_tokens(input_tokens=900, output_tokens=150)  # the model call goes here
    return get_current_run_context().run_id


@app.task
def send_reply(run_id_seen: str) -> str:
    emit_outcome("success", value_type="tickets_resolved", value_amount=1)
    run = get_current_run_context()
    return f"{run_id_seen} -> {run.run_id if run else None}"


with start_worker(app, pool="solo", perform_ping_check=False, loglevel="ERROR"):
    with run_botanu("resolve-ticket", event_id="ticket-9", customer_id="acme") as run:
        result = chain(draft_reply.s("ticket-9"), send_reply.s()).delay()
    seen = result.get(timeout=30)

print("enqueued in run:", run.run_id)
print("tasks saw:      ", seen)
print("same run:       ", seen == f"{run.run_id} -> {run.run_id}")
for span in sorted(capture.in_run(run.run_id), key=lambda s: s.start_time):
    print(f"  {span.name:<34} {span.attributes.get('botanu.outcome.status', '')}")
