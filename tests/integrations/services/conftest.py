"""Real servers on 127.0.0.1 (uvicorn for ASGI, werkzeug for WSGI) in threads of the test
process, so every span lands in the session's in-memory exporter; instrumented HTTP
clients that inject `traceparent` and `baggage`. Each server stops when its block ends.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from werkzeug.serving import make_server

WAIT_SECONDS = 20.0


@contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """`app` under a real uvicorn server; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, "uvicorn to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(WAIT_SECONDS)
        sock.close()


@contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """`app` under a real threaded werkzeug server; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(WAIT_SECONDS)


def wait_until(condition: Callable[[], Any], what: str) -> Any:
    """Poll until `condition()` is truthy: servers end their spans on their own threads
    after the response has left. Fails after a generous deadline; never times anything."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def instrumented_clients() -> Iterator[None]:
    """httpx and requests inject the current trace and baggage into outgoing requests."""
    provider = trace.get_tracer_provider()
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    RequestsInstrumentor().instrument(tracer_provider=provider)
    try:
        yield
    finally:
        RequestsInstrumentor().uninstrument()
        HTTPXClientInstrumentor().uninstrument()
