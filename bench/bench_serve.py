"""Sustained ingest into `botanu serve` from several exporter processes.

    python bench/bench_serve.py [--processes N] [--seconds S]

Starts a real `botanu serve` on a free loopback port, then N processes that each export
finished spans with the OpenTelemetry SDK's own OTLP/HTTP exporter (512 spans an export,
the BatchSpanProcessor's default), back to back for S seconds. Prints the spans/s the
server acknowledged and stored, and the acknowledgement latency (p50, p99) the exporters
saw. Baseline beside it: the same exporters against a server that answers 200 at once
and keeps nothing (what the exporters and HTTP cost by themselves).
"""

from __future__ import annotations

import argparse
import http.server
import json
import multiprocessing
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

EXPORT_SPANS = 512


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


def exporter_process(
    endpoint: str, process: int, seconds: float, out: multiprocessing.Queue
) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=30)
    batches = [spans_for(process, b) for b in range(20)]  # built once, sent again and again
    latencies, sent, failed = [], 0, 0
    deadline = time.monotonic() + seconds
    round_ = 0
    while time.monotonic() < deadline:
        spans = batches[round_ % len(batches)]
        if round_ >= len(batches):  # new ids each time round
            spans = [_renumbered(s, round_) for s in spans]
        round_ += 1
        begin = time.perf_counter()
        result = exporter.export(spans)
        latencies.append(time.perf_counter() - begin)
        if result is SpanExportResult.SUCCESS:
            sent += len(spans)
        else:
            failed += 1
    exporter.shutdown()
    out.put((sent, failed, latencies))


def _renumbered(span, round_: int):
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import SpanContext, TraceFlags

    context = SpanContext(
        span.context.trace_id, span.context.span_id + (round_ << 40), False, TraceFlags(1)
    )
    return ReadableSpan(
        name=span.name,
        context=context,
        kind=span.kind,
        attributes=span.attributes,
        resource=span.resource,
        start_time=span.start_time,
        end_time=span.end_time,
    )


def drive(endpoint: str, processes: int, seconds: float) -> tuple[float, float, float, int]:
    out: multiprocessing.Queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=exporter_process, args=(endpoint, n, seconds, out))
        for n in range(processes)
    ]
    begin = time.perf_counter()
    for worker in workers:
        worker.start()
    results = [out.get() for _ in workers]
    elapsed = time.perf_counter() - begin
    for worker in workers:
        worker.join()
    sent = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    latencies = sorted(x for r in results for x in r[2])
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return sent / elapsed, p50, p99, failed


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
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()

    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    base_rate, base_p50, base_p99, _ = drive(
        f"http://127.0.0.1:{sink.server_address[1]}", args.processes, args.seconds / 2
    )
    sink.shutdown()

    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "serve.duckdb"
        server = subprocess.Popen(
            [sys.executable, "-m", "botanu.cli", "--store", str(store), "serve", "--port", "0"],
            stdout=subprocess.DEVNULL,
        )
        announcement = Path(f"{store}.serve.json")
        while not announcement.exists():
            time.sleep(0.05)
        url = json.loads(announcement.read_text())["url"]
        rate, p50, p99, failed = drive(url, args.processes, args.seconds)
        time.sleep(0.2)
        server.terminate()  # SIGTERM: drains, then the store can be read
        server.wait(timeout=120)
        import duckdb

        stored = duckdb.connect(str(store)).execute("SELECT count(*) FROM span_rows").fetchone()
    print(
        f"serve    {args.processes} exporter processes, {args.seconds:.0f} s: "
        f"{rate:,.0f} spans/s acknowledged, p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"{failed} exports refused (retried by the exporter), {stored[0] if stored else 0:,} "
        f"spans stored; baseline (a server that keeps nothing) {base_rate:,.0f} spans/s, "
        f"p50 {base_p50 * 1000:.0f} ms, p99 {base_p99 * 1000:.0f} ms  "
        f"(target >= 50,000 spans/s, p99 <= 250 ms)"
    )


if __name__ == "__main__":
    main()  # the whole machine: server and exporters share its cores, as they would
