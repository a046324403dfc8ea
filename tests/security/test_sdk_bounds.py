"""The SDK stays bounded against a hostile peer: `disable()` returns soon when the OTLP
endpoint accepts a connection and never answers, and an oversized baggage header is
dropped without being written to the log."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import textwrap

import httpx
import pytest
from flask import Flask
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from werkzeug.test import Client

from botanu import (
    BotanuConfigError,
    BotanuMiddleware,
    BotanuWSGIMiddleware,
    get_current_run_context,
)
from botanu.sdk.config import BotanuConfig

pytestmark = pytest.mark.slow  # Python processes exporting to endpoints that misbehave

# A 60 KB baggage header that names a run: far over the W3C limit of 8192 bytes.
HUGE_BAGGAGE = "botanu.run_id=caller-run,botanu.workflow=w," + ",".join(
    f"k{i}={'v' * 50}" for i in range(1100)
)
LONGEST_LOG = 1000


# A listener on 127.0.0.1 that accepts connections and never answers, and 2000 spans:
# four export batches, each waiting out the exporter's own timeout.
SILENT_ENDPOINT = textwrap.dedent(
    """
    import os, socket, threading
    import botanu

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held = []

    def accept_and_stay_silent():
        while True:
            connection, _ = listener.accept()
            held.append(connection)

    threading.Thread(target=accept_and_stay_silent, daemon=True).start()
    port = listener.getsockname()[1]
    botanu.enable("bounds", exporter="otlp", otlp_endpoint=f"http://127.0.0.1:{port}")
    for _ in range(2000):
        with botanu.run_botanu("work"):
            pass
    """
)


def test_disable_returns_when_the_endpoint_never_answers(run_python):
    done = run_python(
        SILENT_ENDPOINT
        + textwrap.dedent(
            """
            returned = threading.Event()

            def stop():
                botanu.disable()
                returned.set()

            threading.Thread(target=stop, daemon=True).start()
            print("returned" if returned.wait(25) else "blocked", flush=True)
            os._exit(0)
            """
        )
    )
    assert done.stdout.strip() == "returned"


def test_the_process_exits_when_the_endpoint_never_answers(tmp_path):
    """Without disable(): the provider's own shutdown at exit is bounded the same way."""
    script = tmp_path / "exits.py"
    script.write_text(SILENT_ENDPOINT + "print('exiting', flush=True)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "BOTANU_"))}
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=25,  # the old exit waited out every batch's export timeout
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "exiting"


def test_the_shutdown_timeout_is_a_setting():
    assert BotanuConfig.from_env({"BOTANU_SHUTDOWN_TIMEOUT": "1.5"}).shutdown_timeout == 1.5
    assert BotanuConfig(shutdown_timeout=2).resolved().shutdown_timeout == 2
    for bad in (-1, 0, 1e9, float("nan")):
        with pytest.raises(BotanuConfigError, match="shutdown_timeout"):
            BotanuConfig(shutdown_timeout=bad).resolved()
    with pytest.raises(BotanuConfigError, match="must be a number of seconds"):
        BotanuConfig.from_env({"BOTANU_SHUTDOWN_TIMEOUT": "soon"})


async def answer(request):
    run = get_current_run_context()
    return PlainTextResponse(run.run_id if run else "")


def long_records(caplog) -> list[str]:
    return [r.getMessage()[:80] for r in caplog.records if len(r.getMessage()) > LONGEST_LOG]


def test_an_oversized_baggage_header_is_not_logged_asgi(spans, caplog):
    caplog.set_level(logging.DEBUG)
    app = Starlette(routes=[Route("/", answer)])
    app.add_middleware(BotanuMiddleware)

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/", headers={"baggage": HUGE_BAGGAGE})

    response = asyncio.run(go())
    assert response.status_code == 200
    assert response.text != "caller-run"  # the whole header was dropped
    assert long_records(caplog) == []


def test_an_oversized_baggage_header_is_not_logged_wsgi(spans, caplog):
    caplog.set_level(logging.DEBUG)
    app = Flask("bounds")

    @app.get("/")
    def show() -> str:
        run = get_current_run_context()
        return run.run_id if run else ""

    app.wsgi_app = BotanuWSGIMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    response = Client(app).get("/", headers={"baggage": HUGE_BAGGAGE}, buffered=True)
    assert response.status_code == 200
    assert response.text != "caller-run"
    assert long_records(caplog) == []


@pytest.mark.parametrize(
    "entry",
    [
        "x" * 5000,  # over OpenTelemetry's 4096 bytes per entry, no "=": logged as its key
        "x" * 3000,  # no "=": logged whole as malformed
        "bad key=" + "v" * 3000,  # not a W3C token: logged whole as invalid
        "k=" + "v" * 4200,
        "n\u00e9=" + "v" * 2000,
    ],
)
def test_oversized_and_malformed_entries_are_not_logged_whole(spans, caplog, entry):
    caplog.set_level(logging.DEBUG)
    app = Starlette(routes=[Route("/", answer)])
    app.add_middleware(BotanuMiddleware)
    baggage = ",".join(["botanu.run_id=caller-run", "botanu.workflow=w", entry, "tail=1"])

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/", headers={"baggage": baggage.encode()})

    response = asyncio.run(go())
    assert response.status_code == 200
    assert response.text == "caller-run"  # the good entries around it still count
    assert long_records(caplog) == []
