"""Two services, one run: a FastAPI service opens a run per request and calls a Flask
service, which continues the same run (W3C `traceparent` + `baggage` over HTTP).

Both servers run here on 127.0.0.1 in threads; in production each is its own process with
`botanu.enable(service_name=...)` and an instrumented HTTP client.
"""

import logging
import socket
import threading
import time

import httpx
import uvicorn
from fastapi import FastAPI
from flask import Flask, jsonify
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from werkzeug.serving import make_server

from botanu import BotanuMiddleware, BotanuWSGIMiddleware, get_current_run_context, track_llm_call
from botanu.testing import capture_spans

capture = capture_spans()  # this example prints what was recorded; apps export OTLP
HTTPXClientInstrumentor().instrument()  # outgoing requests carry the run

# --- the Flask service: continues the caller's run ----------------------------------------
inventory = Flask("inventory")
inventory.wsgi_app = BotanuWSGIMiddleware(inventory.wsgi_app)


@inventory.get("/stock/<sku>")
def stock(sku):
    with track_llm_call(provider="openai", model="gpt-4o-mini") as tracker:
        tracker.set_tokens(input_tokens=120, output_tokens=8)  # a model call would go here
    return jsonify(run_id=get_current_run_context().run_id)


# --- the FastAPI service: one run per request, named after the route -----------------------
orders = FastAPI()
orders.add_middleware(BotanuMiddleware)


@orders.get("/orders/{order_id}")
async def get_order(order_id: str):
    async with httpx.AsyncClient() as client:
        stock = (await client.get(f"{INVENTORY_URL}/stock/sku-1")).json()
    return {"run_id": get_current_run_context().run_id, "inventory_saw": stock["run_id"]}


logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log in the output
inventory_server = make_server("127.0.0.1", 0, inventory, threaded=True)
INVENTORY_URL = f"http://127.0.0.1:{inventory_server.server_port}"
threading.Thread(target=inventory_server.serve_forever, daemon=True).start()

sock = socket.socket()
sock.bind(("127.0.0.1", 0))
orders_server = uvicorn.Server(uvicorn.Config(orders, log_level="warning", lifespan="off"))
orders_thread = threading.Thread(target=orders_server.run, kwargs={"sockets": [sock]})
orders_thread.start()
while not orders_server.started:
    time.sleep(0.01)

reply = httpx.get(
    f"http://127.0.0.1:{sock.getsockname()[1]}/orders/42",
    headers={"x-request-id": "order-42", "x-customer-id": "acme"},
).json()
print("orders run:     ", reply["run_id"])
print("inventory saw:  ", reply["inventory_saw"])
print("same run:       ", reply["run_id"] == reply["inventory_saw"])

orders_server.should_exit = True
orders_thread.join()
deadline = time.monotonic() + 10  # the inventory ends its span just after it answered
while not capture.named("GET /stock/<sku>") and time.monotonic() < deadline:
    time.sleep(0.01)
inventory_server.shutdown()
for span in sorted(capture.in_run(reply["run_id"]), key=lambda s: s.start_time):
    print(f"  {span.name:<36} event={span.attributes['botanu.event_id']}")
