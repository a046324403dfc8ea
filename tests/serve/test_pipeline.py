"""The pipeline behind the receiver: journaled exports prepared in chunks (in worker
processes or in its own thread), written in fixed-size writes that cut chunks, and
exports that cannot be stored set aside without holding back the others."""

from __future__ import annotations

import json

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from botanu.engine.service import default_pricer
from botanu.engine.store.duckdb.store import DuckDBStore
from botanu.serve.journal import Journal
from botanu.serve.pipeline import Pipeline
from botanu.serve.preparing import KIND_PROTOBUF

from .conftest import export

pytestmark = pytest.mark.slow  # the serve pipeline's threads over many writes

ROWS = "SELECT * FROM span_costs ORDER BY trace_id, span_id"
RUNS = "SELECT * FROM runs ORDER BY run_id"


def pipeline_in(folder, **options) -> Pipeline:
    return Pipeline(
        DuckDBStore(folder / "store.duckdb"),
        Journal(folder / "journal"),
        default_pricer(),
        linger_s=0.05,
        **options,
    )


def send(pipeline: Pipeline, payload: bytes, count: int) -> None:
    assert pipeline.reserve(count)
    answers: list[BaseException | None] = []
    pipeline.submit(KIND_PROTOBUF, payload, count, answers.append)


def stored(pipeline: Pipeline, sql: str) -> list[tuple]:
    return pipeline.store.reader().query(sql).rows


EXPORTS = [(first, 37) for first in range(0, 37 * 12, 37)]  # 444 spans, runs across exports


@pytest.mark.parametrize("workers", [0, 1])
def test_chunks_and_cut_writes_store_what_one_write_stores(tmp_path, workers):
    whole = pipeline_in(tmp_path / "whole")
    whole.start()
    for first, count in EXPORTS:
        send(whole, export(first, count), count)
    assert whole.wait_stored()
    # small chunks and writes that end in the middle of a chunk (and of an export)
    cut = pipeline_in(tmp_path / "cut", workers=workers, chunk_spans=100, write_rows=64)
    cut.start()
    for first, count in EXPORTS:
        send(cut, export(first, count), count)
    assert cut.wait_stored()

    assert len(stored(cut, ROWS)) == 444
    assert stored(cut, ROWS) == stored(whole, ROWS)
    assert stored(cut, RUNS) == stored(whole, RUNS)
    assert cut.stats.stored_spans == cut.stats.accepted_spans == 444
    assert cut.stats.writes > 1
    whole.close()
    cut.close()


@pytest.mark.parametrize("workers", [0, 1])
def test_a_span_the_store_cannot_take_is_set_aside_and_the_others_stored(tmp_path, workers):
    pipeline = pipeline_in(tmp_path, workers=workers, chunk_spans=1000)
    pipeline.start()
    bad = ExportTraceServiceRequest.FromString(export(100, 3))
    bad.resource_spans[0].scope_spans[0].spans[1].end_time_unix_nano = 2**64 - 1
    send(pipeline, export(0, 5), 5)
    send(pipeline, bad.SerializeToString(), 3)  # journaled and prepared with the others
    send(pipeline, export(200, 4), 4)
    assert pipeline.wait_stored()

    ids = {row[0] for row in stored(pipeline, "SELECT span_id FROM spans")}
    assert ids == {f"{i + 1:016x}" for i in [*range(0, 5), 100, 102, *range(200, 204)]}
    kept = [json.loads(line) for line in pipeline.journal.rejected_file.read_text().splitlines()]
    assert [line["span"]["span_id"] for line in kept] == [f"{101 + 1:016x}"]
    assert "time" in kept[0]["error"]  # says why
    assert len(pipeline.stats.errors) == 1
    pipeline.close()


def test_a_restart_stores_what_the_journal_holds_past_the_last_write(tmp_path):
    journal = Journal(tmp_path / "journal")
    journal.append([(KIND_PROTOBUF, export(first, count)) for first, count in EXPORTS])
    journal.close()  # as a killed server leaves it: journaled, never stored

    pipeline = pipeline_in(tmp_path, workers=1, chunk_spans=100, write_rows=64)
    assert pipeline.start() == 444
    assert len(stored(pipeline, ROWS)) == 444
    assert pipeline.stats.stored_spans == 444
    pipeline.close()

    again = pipeline_in(tmp_path)
    assert again.start() == 0  # the stored position moved past them
    again.close()
