"""Sustained ingest into `botanu serve` from several exporter processes.

    python bench/bench_serve.py [--processes N] [--seconds S] [--workers W]

Starts a real `botanu serve` on a free loopback port, then N processes that each export
spans through the OpenTelemetry SDK's OTLP/HTTP exporter (its own HTTP client: requests,
headers, retries on 503), 512 spans an export as the BatchSpanProcessor sends them, back
to back for S seconds. The exports are encoded before the clock starts. Prints the
spans/s held (acknowledged and stored: the clock runs until the last one is stored) and
the acknowledgement latency (p50, p99) the exporters saw. Baseline beside it: the same
exporters against a server that answers 200 at once and keeps nothing.
"""

from __future__ import annotations

import argparse
import http.server
import itertools
import json
import multiprocessing
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

EXPORT_SPANS = 512
PREBUILT_SPANS_S = 30_000  # per exporter process and second of the run


def spans_for(process: int, batch: int) -> list:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import SpanContext, SpanKind, TraceFlags

    resource = Resource.create({"service.name": f"bench-{process}"})
    start = time.time_ns()
    spans = []
    for i in range(EXPORT_SPANS):
        n = (batch * EXPORT_SPANS + i) * 64 + process
        attributes = {
            "botanu.run_id": f"run-{process}-{n // 8}",
            "botanu.workflow": f"workflow-{n % 5}",
            "botanu.customer_id": f"customer-{n % 50}",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": 1200,
            "gen_ai.usage.output_tokens": 150,
        }
        context = SpanContext(n + 1, n + 1, False, TraceFlags(1))
        spans.append(
            ReadableSpan(
                name="chat gpt-4o-mini",
                context=context,
                kind=SpanKind.CLIENT,
                attributes=attributes,
                resource=resource,
                start_time=start + i,
                end_time=start + i + 1000,
            )
        )
    return spans


class Channels(NamedTuple):
    ready: Any  # multiprocessing.Queue: an exporter has its exports made
    start: Any  # multiprocessing.Event: all are ready, the clock starts
    out: Any  # multiprocessing.Queue: what each exporter saw


def exporter_process(endpoint: str, process: int, seconds: float, channels: Channels) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=30)
    exports = _exports(process)
    # what the server should take in the time, made before the clock starts (more are
    # made on the way if it takes more): the exporters' encoding is the applications'
    # cost, not the server's, and here it would run on the server's two cores
    prebuilt = [next(exports) for _ in range(int(seconds * PREBUILT_SPANS_S / EXPORT_SPANS))]
    channels.ready.put(process)
    channels.start.wait()
    latencies, sent, failed = [], 0, 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        payload = prebuilt.pop() if prebuilt else next(exports)
        begin = time.perf_counter()
        result = exporter._client.export(payload)  # the exporter's own HTTP client
        latencies.append(time.perf_counter() - begin)
        if result.success:
            sent += EXPORT_SPANS
        else:
            failed += 1
    exporter.shutdown()
    channels.out.put((sent, failed, latencies))


def _exports(process: int) -> Iterator[bytes]:
    """Exports of `EXPORT_SPANS` spans as the SDK's exporter encodes them, each with new
    span and run ids and the time it was made. (The SDK's encoder costs ~30 us a span in
    Python, so one export is encoded once and then renumbered.)"""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    request = encode_spans(spans_for(process, 0))
    spans = [s for r in request.resource_spans for ss in r.scope_spans for s in ss.spans]
    run_ids = [next(kv.value for kv in s.attributes if kv.key == "botanu.run_id") for s in spans]
    for round_ in itertools.count():
        now = time.time_ns()  # spans that just ended, as a live exporter sends them
        for i, (span, run_id) in enumerate(zip(spans, run_ids, strict=True)):
            n = (round_ * EXPORT_SPANS + i) * 64 + process
            span.span_id = (n + 1).to_bytes(8, "big")
            span.start_time_unix_nano = now - 1_000_000 + i
            span.end_time_unix_nano = now + i
            run_id.string_value = f"run-{process}-{n // 8}"
        yield request.SerializeToString()


class Drive(NamedTuple):
    began: float  # perf_counter
    sent: int  # spans acknowledged
    rate: float  # spans/s acknowledged
    p50: float
    p99: float
    failed: int  # exports the exporter gave up on


def drive(endpoint: str, processes: int, seconds: float) -> Drive:
    channels = Channels(multiprocessing.Queue(), multiprocessing.Event(), multiprocessing.Queue())
    workers = [
        multiprocessing.Process(target=exporter_process, args=(endpoint, n, seconds, channels))
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        channels.ready.get()
    begin = time.perf_counter()
    channels.start.set()
    results = [channels.out.get() for _ in workers]
    elapsed = time.perf_counter() - begin
    for worker in workers:
        worker.join()
    sent = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    latencies = sorted(x for r in results for x in r[2])
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Drive(begin, sent, sent / elapsed, p50, p99, failed)


class _Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=None, help="botanu serve --workers")
    args = parser.parse_args()

    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    base = drive(f"http://127.0.0.1:{sink.server_address[1]}", args.processes, args.seconds / 2)
    sink.shutdown()

    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "serve.duckdb"
        server = subprocess.Popen(
            [sys.executable, "-m", "botanu.cli", "--store", str(store), "serve", "--port", "0"]
            + ([] if args.workers is None else ["--workers", str(args.workers)]),
            stdout=subprocess.DEVNULL,
        )
        announcement = Path(f"{store}.serve.json")
        while not announcement.exists():
            time.sleep(0.05)
        url = json.loads(announcement.read_text())["url"]
        run = drive(url, args.processes, args.seconds)
        # held = stored, not just journaled: the clock runs until the last span is stored
        while (status := _status(url))["stored_spans"] < run.sent:
            time.sleep(0.05)
        held = status["stored_spans"] / (time.perf_counter() - run.began)
        server.terminate()  # SIGTERM: drains, then the store can be read
        server.wait(timeout=120)
        import duckdb

        with duckdb.connect(str(store)) as con:
            stored = con.execute("SELECT count(*) FROM span_rows").fetchone()
    print(
        f"serve    {args.processes} exporter processes, {args.seconds:.0f} s: "
        f"{held:,.0f} spans/s held (acknowledged and stored; {run.rate:,.0f}/s acknowledged), "
        f"p50 {run.p50 * 1000:.0f} ms, p99 {run.p99 * 1000:.0f} ms, "
        f"{status['refused_exports']} exports answered 503 (the exporter retried them), "
        f"{run.failed} given up, {stored[0] if stored else 0:,} spans stored\n"
        f"baseline a server that keeps nothing: {base.rate:,.0f} spans/s, "
        f"p50 {base.p50 * 1000:.0f} ms, p99 {base.p99 * 1000:.0f} ms\n"
        f"target   >= 50,000 spans/s held with p99 <= 250 ms"
    )


def _status(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/api/status", timeout=30) as answer:
        return json.loads(answer.read())


if __name__ == "__main__":
    main()  # the whole machine: server and exporters share its cores, as they would
