"""A real `botanu serve` process on a free loopback port, and OTLP exports to send it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

T0 = 1_793_534_400_000_000_000  # 2026-11-01


class Server:
    """`python -m botanu.cli serve --port 0` on a store file; stops itself at teardown."""

    def __init__(self, store: Path, *extra: str, preexec_fn=None) -> None:
        self.store = store
        self.extra = extra
        self.preexec_fn = preexec_fn
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, timeout: float = 60.0) -> Server:
        announcement = Path(f"{self.store}.serve.json")
        announcement.unlink(missing_ok=True)
        command = [sys.executable, "-m", "botanu.cli", "--store", str(self.store), "serve"]
        self.process = subprocess.Popen(
            [*command, "--port", "0", *self.extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=self.preexec_fn,  # noqa: PLW1509 (only an os.write: fork-safe)
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode() if self.process.stdout else ""
                raise AssertionError(f"botanu serve exited: {output}")
            try:
                self.url = json.loads(announcement.read_text())["url"]
                return self
            except (OSError, ValueError, KeyError):
                time.sleep(0.05)
        raise AssertionError("botanu serve did not start")

    def status(self) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.url}/api/status", timeout=10) as response:
            return dict(json.load(response))

    def wait_stored(self, timeout: float = 60.0) -> dict[str, int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status()
            if status["stored_spans"] == status["accepted_spans"]:
                return status
            time.sleep(0.1)
        raise AssertionError(f"spans not stored in time: {self.status()}")

    def stop(self) -> str:
        """SIGTERM, wait; returns what it printed."""
        if self.process is None:
            return ""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=60)
        self.process = None
        return output.decode()

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.communicate(timeout=30)  # reaps it and closes its output pipe
        self.process = None


class AppServer:
    """`botanu serve`'s app (`build_app`: the same guards, pipeline and store) on uvicorn
    in a thread of the test process, on a free loopback port: the request-level rules
    tested without starting a process. What needs the process itself (signals, crashes,
    file modes, the connection limit) uses `Server`."""

    def __init__(self, store: Path, **options: object) -> None:
        self.store = store
        self.options = options
        self.url = ""
        self._server: object = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 60.0) -> AppServer:
        import uvicorn

        from botanu.serve.runner import ServeConfig, build_app

        options = {"linger_s": 0.05, **self.options}  # stored sooner: the tests wait less
        config = ServeConfig(str(self.store), port=0, workers=0, **options)  # type: ignore[arg-type]
        app = build_app(config)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        self._server = server
        self._thread = threading.Thread(target=server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise AssertionError("the app did not start")
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    status = Server.status
    wait_stored = Server.wait_stored

    def stop(self) -> None:
        """Shut down as `botanu serve` does: store what was accepted, then stop."""
        if self._thread is not None:
            self._server.should_exit = True  # type: ignore[attr-defined]
            self._thread.join(timeout=60)
            self._thread = None


@pytest.fixture
def app_server(tmp_path):
    """`start(store=None, **ServeConfig options)`: an `AppServer`, stopped at teardown."""
    started: list[AppServer] = []

    def start(store: Path | None = None, **options: object) -> AppServer:
        server = AppServer(store or tmp_path / "serve.duckdb", **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server_factory(tmp_path):
    started: list[Server] = []

    def start(store: Path | None = None, *extra: str) -> Server:
        server = Server(store or tmp_path / "serve.duckdb", *extra).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def export(first: int, count: int, run_of=lambda i: f"run-{i // 4}") -> bytes:
    """An OTLP protobuf export of `count` spans numbered from `first` (ids derive from the
    number, so a resent span has the same ids)."""
    spans = []
    for i in range(first, first + count):
        attributes = [
            KeyValue(key="botanu.run_id", value=AnyValue(string_value=run_of(i))),
            KeyValue(key="botanu.workflow", value=AnyValue(string_value="support")),
            KeyValue(key="gen_ai.provider.name", value=AnyValue(string_value="openai")),
            KeyValue(key="gen_ai.request.model", value=AnyValue(string_value="gpt-4o-mini")),
            KeyValue(key="gen_ai.usage.input_tokens", value=AnyValue(int_value=1000)),
            KeyValue(key="gen_ai.usage.output_tokens", value=AnyValue(int_value=100)),
        ]
        spans.append(
            Span(
                trace_id=(i // 4 + 1).to_bytes(16, "big"),
                span_id=(i + 1).to_bytes(8, "big"),
                name="chat gpt-4o-mini",
                kind=Span.SPAN_KIND_CLIENT,
                start_time_unix_nano=T0 + i * 1000,
                end_time_unix_nano=T0 + i * 1000 + 500,
                attributes=attributes,
            )
        )
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])]
    )
    return request.SerializeToString()
