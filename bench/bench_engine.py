"""Engine throughput beside raw DuckDB, measured in one process run.

    python bench/bench_engine.py [--spans N] [--rounds R] [--report-spans N]

(a) decoded spans -> normalized, priced and stored rows per second on one core, through
    `ingest_payloads` (OTLP-export-sized payloads): a first round, then the median of R
    rounds into the same growing store; then stage by stage, beside raw
    DuckDB inserting the same rows already typed (Arrow);
(b) the cost-per-outcome report over N synthetic spans, beside raw DuckDB running the
    same aggregate on one pre-typed table.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

from botanu.engine.costing import cost_per_outcome
from botanu.engine.ingest import RawSpan
from botanu.engine.ingest.columnar import normalize_batch
from botanu.engine.prepare import BATCH_SPANS, cycle_collector_paused, default_pricer
from botanu.engine.pricing._bulk import bulk_pricer
from botanu.engine.service import ingest_payloads
from botanu.engine.store import open_store

T0 = 1_793_534_400_000_000_000  # 2026-11-01
EXPORT_SPANS = 512  # spans per OTLP export: the SDK's BatchSpanProcessor default


def raw_spans(count: int, seed: int = 1, first: int = 0) -> list[RawSpan]:
    """A realistic mix: a run span, LLM calls, a warehouse query, storage and queue spans.
    Spans `first`..`first + count` of one endless stream (ids and times keep growing)."""
    rng = random.Random(seed)
    resource = {"service.name": "bench"}  # one per export, as the OTLP decoders share it
    spans = []
    for i in range(first, first + count):
        run = i // 8
        kind = i % 8
        attributes: dict[str, object] = {
            "botanu.run_id": f"run-{run}",
            "botanu.workflow": f"workflow-{run % 5}",
            "botanu.event_id": f"event-{run // 2}",
            "botanu.customer_id": f"customer-{run % 50}",
        }
        name = "internal"
        if kind == 0:
            name = "botanu.run/workflow"
            attributes["botanu.outcome.status"] = "success" if rng.random() < 0.8 else "failed"
        elif kind in (1, 2, 3, 4):
            name = "chat gpt-4o-mini"
            attributes |= {
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": ("gpt-4o-mini", "gpt-4o", "o4-mini")[kind % 3],
                "gen_ai.usage.input_tokens": rng.randrange(500, 5000),
                "gen_ai.usage.output_tokens": rng.randrange(50, 800),
                "gen_ai.usage.cache_read.input_tokens": rng.randrange(0, 400),
            }
        elif kind == 5:
            attributes |= {"db.system.name": "bigquery", "botanu.db.bytes_scanned": 2**30}
        elif kind == 6:
            attributes |= {"botanu.storage.system": "s3", "botanu.storage.operation": "PUT"}
        else:
            attributes |= {"messaging.system": "aws_sqs", "messaging.operation.type": "send"}
        spans.append(
            RawSpan(
                trace_id=f"{run:032x}",
                span_id=f"{i + 1:016x}",
                parent_span_id=None,
                name=name,
                kind="client",
                start_ns=T0 + i * 1000,
                end_ns=T0 + i * 1000 + 500,
                status_code="unset",
                attributes=attributes,
                resource=resource,
            )
        )
    return spans


def exports(raws: list[RawSpan]) -> list[list[RawSpan]]:
    return [raws[i : i + EXPORT_SPANS] for i in range(0, len(raws), EXPORT_SPANS)]


def bench_ingest(count: int, rounds: int, folder: Path) -> None:
    import duckdb

    pricer = default_pricer()
    # the first round pays for imports, quotes and the allocator's first pages; the rounds
    # after it continue one stream into the same, growing store: what a receiver under
    # sustained load sees
    rates = []
    with open_store(str(folder / "ingest.duckdb")) as store:
        for round_ in range(rounds + 1):
            batches = exports(raw_spans(count, seed=round_, first=round_ * count))
            start = time.perf_counter()
            stored = ingest_payloads(store, batches, pricer)
            rates.append(count / (time.perf_counter() - start))
            assert stored == count, stored
    first, steady = rates[0], sorted(rates[1:])
    median = steady[len(steady) // 2]
    # the same spans stage by stage, into a fresh store
    raws = raw_spans(count)
    bulk = bulk_pricer(pricer)
    with open_store(str(folder / "stages.duckdb")) as store, cycle_collector_paused():
        t0 = time.perf_counter()
        batch = normalize_batch(raws)
        t1 = time.perf_counter()
        costs = bulk.price_batch(batch)
        t2 = time.perf_counter()
        table = batch.to_arrow(costs)
        t3 = time.perf_counter()
        store.write_batch(table)
        t4 = time.perf_counter()
    one_by_one = bulk.spans_one_by_one / max(bulk.spans_priced, 1)
    # raw DuckDB: the same rows, already typed, into a table of the same width
    typed = table.select(["trace_id", "span_id", "start_ns"])
    con = duckdb.connect(str(folder / "raw.duckdb"))
    con.execute("CREATE TABLE t (trace_id VARCHAR, span_id VARCHAR, start_ns BIGINT)")
    raw_start = time.perf_counter()
    con.register("typed", typed)
    con.execute("INSERT INTO t SELECT * FROM typed").fetchall()
    raw = count / (time.perf_counter() - raw_start)
    con.close()

    def rate(seconds: float) -> str:
        return f"{count / seconds:,.0f}/s"

    stages = (
        f"normalize {rate(t1 - t0)}, price {rate(t2 - t1)}, to Arrow {rate(t3 - t2)}, "
        f"store {rate(t4 - t3)}; {one_by_one:.1%} priced span by span"
    )
    print(
        f"ingest   {rounds} rounds of {count:,} spans: median {median:,.0f} spans/s "
        f"decoded->priced+stored (rounds {steady[0]:,.0f}..{steady[-1]:,.0f}/s; "
        f"first round {first:,.0f}/s; {stages}); "
        f"raw DuckDB typed insert {raw:,.0f} rows/s  (target >= 100,000 spans/s)"
    )


def bench_report(count: int, folder: Path) -> None:
    import duckdb

    path = folder / "report.duckdb"
    with open_store(str(path)) as store:
        # loaded by SQL for speed, then the run rollups every write keeps are rebuilt
        store.query(
            f"""
            INSERT INTO span_rows (trace_id, span_id, name, start_ns, end_ns, run_id, event_id,
                                   workflow, customer_id, is_run_span, outcome_status,
                                   category, amount, currency, price_source, estimated)
            SELECT printf('%032x', i // 8), printf('%016x', i), 'span', {T0} + i, {T0} + i + 10,
                   'run-' || (i // 8), 'event-' || (i // 16), 'workflow-' || (i // 8 % 5),
                   'customer-' || (i // 8 % 50), i % 8 = 0,
                   CASE WHEN i % 8 = 0 THEN (CASE WHEN hash(i) % 5 = 0 THEN 'failed'
                                                   ELSE 'success' END) END,
                   'llm',
                   CASE WHEN i % 8 <> 0 THEN (hash(i) % 1000) / 100000.0 END,
                   CASE WHEN i % 8 <> 0 THEN 'USD' END,
                   CASE WHEN i % 8 <> 0 THEN 'genai-prices' END,
                   CASE WHEN i % 8 <> 0 THEN true END
            FROM range({count}) t(i)
            """
        )
        store.rebuild_rollups()
        cost_per_outcome(store)  # warm
        start = time.perf_counter()
        rows = cost_per_outcome(store)
        ours = time.perf_counter() - start
        # raw DuckDB: the same answer from one table typed for exactly this question
        store.query(
            "CREATE TABLE typed AS SELECT workflow, event_id, run_id, is_run_span, "
            "outcome_status, amount FROM span_rows"
        )
    con = duckdb.connect(str(path))
    raw_sql = """
        WITH runs AS (
            SELECT run_id, any_value(workflow) AS workflow, any_value(event_id) AS event_id,
                   coalesce(sum(amount), 0) AS cost,
                   any_value(outcome_status) FILTER (WHERE is_run_span) AS outcome
            FROM typed GROUP BY run_id),
        events AS (
            SELECT workflow, event_id, sum(cost) AS cost, count(*) AS attempts,
                   bool_or(outcome = 'success') AS ok
            FROM runs GROUP BY workflow, event_id)
        SELECT workflow, count(*), sum(attempts), count(*) FILTER (WHERE ok), sum(cost)
        FROM events GROUP BY workflow
    """
    con.execute(raw_sql).fetchall()
    start = time.perf_counter()
    con.execute(raw_sql).fetchall()
    raw = time.perf_counter() - start
    con.close()
    print(
        f"report   {count:,} spans: botanu {ours * 1000:,.0f} ms ({len(rows)} workflows), "
        f"raw DuckDB same aggregate on a pre-typed table {raw * 1000:,.0f} ms, "
        f"ratio {ours / raw:.2f}x  (target <= 1 s and <= 1.5x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    # a round is two full writes (ingest writes BATCH_SPANS spans at a time)
    parser.add_argument("--spans", type=int, default=2 * BATCH_SPANS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--report-spans", type=int, default=10_000_000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # the ingest path: one core
    with tempfile.TemporaryDirectory() as folder:
        bench_ingest(args.spans, args.rounds, Path(folder))
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))  # the report: the machine
        bench_report(args.report_spans, Path(folder))


if __name__ == "__main__":
    main()
