"""`botanu price` prices inside ClickHouse what SQL reads exactly and hands the rest to
Python: either way each stored row is the row the Python path (`prepare_spans` over
the spans as read from the exporter's table) makes, field by field, for clean spans and
for values in every odd spelling an instrumentation sends."""

from __future__ import annotations

import itertools

import pytest

from botanu import semconv as sc
from botanu.engine.batch import SCALAR_FIELDS
from botanu.engine.ingest import RawSpan
from botanu.engine.records import COST_COLUMNS
from botanu.engine.service import default_pricer, prepare_spans
from botanu.engine.store import open_store
from botanu.engine.store.clickhouse.job import price_days, raw_spans

DAY0 = 1_793_491_200_000_000_000  # 2026-11-01T00:00:00Z
DAY_NS = 86_400 * 10**9
COLUMNS = (*SCALAR_FIELDS, *COST_COLUMNS.values())

LLM = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.usage.input_tokens": 1000,
    "gen_ai.usage.output_tokens": 100,
}
# attribute sets, each one span: clean ones SQL prices, odd ones it hands to Python
CASES: list[dict[str, object]] = [
    LLM,
    {**LLM, "gen_ai.usage.cache_read.input_tokens": 400, "gen_ai.response.model": "gpt-4o"},
    {**LLM, "gen_ai.usage.input_tokens": 10, "gen_ai.usage.cache_read.input_tokens": 400},
    {**LLM, "gen_ai.usage.reasoning.output_tokens": 500},
    {**LLM, "gen_ai.provider.name": "OpenAI"},
    {**LLM, "gen_ai.provider.name": "Az.AI.OpenAI", "gen_ai.request.model": "gpt-4o-mini"},
    {**LLM, "gen_ai.request.model": "no-such-model-anywhere"},
    {**LLM, "gen_ai.usage.input_tokens": " 1000"},
    {**LLM, "gen_ai.usage.input_tokens": "1e3"},
    {**LLM, "gen_ai.usage.input_tokens": "-5"},
    {**LLM, "gen_ai.usage.input_tokens": "007"},
    {**LLM, "gen_ai.usage.input_tokens": 10**11},  # beyond any bill: dropped
    {**LLM, "gen_ai.usage.input_tokens": ""},
    {**LLM, "gen_ai.provider.name": "ÖpenAI"},
    {**LLM, "gen_ai.provider.name": "", "gen_ai.system": "openai"},
    {**LLM, sc.LLM_USAGE_ON_CHILD: True},
    {**LLM, sc.REPORTED_COST: 0.25},
    {**LLM, sc.REPORTED_COST: 0},
    {**LLM, sc.REPORTED_COST: "-0"},
    {**LLM, sc.REPORTED_COST: -1},
    {**LLM, sc.REPORTED_COST: "0.1234567890123456789"},
    {**LLM, sc.REPORTED_COST: 2_000_000},
    {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai"},
    {"gen_ai.operation.name": "execute_tool", "gen_ai.provider.name": "openai"},
    {sc.DB_SYSTEM_NAME: "bigquery", sc.DB_OPERATION_NAME: "SELECT", sc.DB_BYTES_SCANNED: 2**30},
    {sc.DB_SYSTEM_NAME: "bigquery", sc.DB_BYTES_SCANNED: 2**30 + 1},
    {sc.DB_SYSTEM_NAME: "postgresql", sc.DB_OPERATION_NAME: "SELECT"},
    {"db.system": "cosmosdb", "azure.cosmosdb.operation.request_charge": 2.86},
    {"db.system": "cosmosdb", "azure.cosmosdb.operation.request_charge": "1e1"},
    {sc.STORAGE_SYSTEM: "s3", sc.STORAGE_OPERATION: "PUT", sc.STORAGE_BYTES_WRITTEN: 4096},
    {sc.AWS_S3_BUCKET: "reports", sc.STORAGE_OPERATION: "GET"},
    {sc.AWS_S3_BUCKET: "", sc.STORAGE_OPERATION: "GET"},
    {sc.MESSAGING_SYSTEM: "aws_sqs", sc.MESSAGING_OPERATION_TYPE: "send"},
    {sc.MESSAGING_SYSTEM: "aws_sqs", "messaging.batch.message_count": 12},
    {sc.MESSAGING_SYSTEM: "kafka", sc.MESSAGING_OPERATION_TYPE: "receive"},
    {"http.request.method": "GET"},
    # the published botanu SDK's names
    {**LLM, sc.PUBLISHED_CACHED_TOKENS: 400, sc.PUBLISHED_CACHE_READ_TOKENS: 400},
    {**LLM, "gen_ai.usage.input_tokens": 10, sc.PUBLISHED_CACHE_WRITE_TOKENS: 900},
    {
        **LLM,
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-5",
        sc.PUBLISHED_VENDOR: "anthropic",
        sc.PUBLISHED_CACHE_READ_TOKENS: 80,
        sc.PUBLISHED_CACHE_WRITE_TOKENS: 20,
    },
    {"db.system": "bigquery", sc.PUBLISHED_WAREHOUSE_BYTES_SCANNED: 2**30},
    {sc.STORAGE_SYSTEM: "s3", sc.STORAGE_OPERATION: "PUT", sc.PUBLISHED_DATA_OBJECTS_COUNT: 9},
    {sc.MESSAGING_SYSTEM: "aws_sqs", sc.PUBLISHED_MESSAGING_MESSAGE_COUNT: 3},
    # other tools: OpenInference embeddings, OpenLIT's Anthropic input, costs they report
    {
        "embedding.model_name": "text-embedding-3-small",
        "llm.system": "openai",
        "llm.token_count.prompt": 1000,
    },
    {
        "gen_ai.system": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 10,
        "gen_ai.usage.cache_read.input_tokens": 80,
        "gen_ai.usage.cache_creation.input_tokens": 20,
        sc.OPENLIT_TOKEN_USAGE: 110,
        sc.OPENLIT_COST: 0,
    },
    {**LLM, sc.LOGFIRE_COST: 0.00035},
    {**LLM, sc.LITELLM_COST: 0.00035},
]
RUN = {
    sc.RUN_ID: "run-1",
    sc.WORKFLOW: "support",
    sc.EVENT_ID: "T-1",
    sc.CUSTOMER_ID: "acme",
    sc.ATTEMPT: 2,
}
RUN_CASES: list[dict[str, object]] = [
    {**RUN, sc.OUTCOME_STATUS: "success", sc.OUTCOME_VALUE_AMOUNT: 20.5},
    {**RUN, sc.OUTCOME_VALUE_AMOUNT: "1.50"},
    {**RUN, sc.OUTCOME_VALUE_AMOUNT: -3.25},
    {**RUN, sc.OUTCOME_VALUE_AMOUNT: 0.1},
    {**RUN, sc.ATTEMPT: "2.0", sc.ENVIRONMENT: "prod"},
    {**RUN, sc.ATTEMPT: 10**7},
    {**RUN, sc.TENANT_ID: "", sc.TEAM: "core"},
]


def spans() -> list[RawSpan]:
    ids = itertools.count(1)
    out = []
    resources = [{"service.name": "desk", "deployment.environment.name": "staging"}, {}]
    for i, attributes in enumerate(CASES + RUN_CASES):
        n = next(ids)
        name = "botanu.run/support" if attributes in RUN_CASES else f"call {i}"
        status = "error" if i % 7 == 3 else "unset"
        out.append(
            RawSpan(
                f"{n:032x}", f"{n:016x}", None, name, "client",
                DAY0 + n * 10**9, DAY0 + n * 10**9 + 5_000_000, status,
                {**RUN, **attributes} if attributes not in RUN_CASES else attributes,
                resources[i % 2],
            )
        )  # fmt: skip
    return out


def stored(store) -> list[dict[str, object]]:
    rows = store._client.query(
        f"SELECT {', '.join(COLUMNS)} FROM {store._db}.botanu_spans FINAL ORDER BY span_id"
    ).result_rows
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


@pytest.mark.parametrize("generation", ["current", "legacy"])
def test_every_span_is_stored_as_the_python_path_makes_it(collector, generation):
    collector.create_traces(generation)
    collector.export(spans(), generation)
    with open_store(collector.url) as store:
        day = DAY0 // DAY_NS
        from datetime import date

        raws = raw_spans(store.pending_spans(date.fromordinal(719163 + day)))
        expected = prepare_spans(raws, default_pricer()).sort_by("span_id").to_pylist()
        left = []
        real = store.price_in_database

        def counted(*args, **kwargs):
            spans_seen, rest = real(*args, **kwargs)
            left.append(rest.num_rows)
            return spans_seen, rest

        store.price_in_database = counted
        done = price_days(store, DAY0, DAY0 + DAY_NS)
        assert [d.spans for d in done] == [len(CASES) + len(RUN_CASES)]
        # the odd spellings went to Python, the clean spans did not
        assert 8 <= left[0] <= 20, left
        got = stored(store)
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected, strict=True):
        want = {column: theirs[column] for column in COLUMNS}
        assert mine == want, {c: (mine[c], want[c]) for c in COLUMNS if mine[c] != want[c]}
