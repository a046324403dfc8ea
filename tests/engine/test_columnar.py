"""Normalizing reads a span the same among others as alone (`normalize` is a batch of
one), field by field, whatever the attribute names, value types and mixes of spans in a
batch: groups of one instrumentation, groups mixing categories, values beyond bounds."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botanu import semconv as sc
from botanu.engine.batch import SpanBatch
from botanu.engine.ingest import RawSpan, decode_json
from botanu.engine.ingest import normalize as normalize_one
from botanu.engine.ingest.columnar import normalize_batch
from botanu.engine.records import stored_money

pytestmark = pytest.mark.slow  # a long property run


def normalize(raw):
    """`normalize`, with the reported cost as the batch (and the store) keeps it."""
    record = normalize_one(raw)
    return dataclasses.replace(record, reported_cost=stored_money(record.reported_cost))


# every attribute normalize reads, and some it does not
KEYS = [
    sc.RUN_ID,
    sc.EVENT_ID,
    sc.WORKFLOW,
    sc.WORKFLOW_LABEL,
    sc.CUSTOMER_ID,
    sc.TENANT_ID,
    sc.ENVIRONMENT,
    sc.ATTEMPT,
    sc.PARENT_RUN_ID,
    sc.ROOT_RUN_ID,
    sc.RETRY_OF_RUN_ID,
    sc.OUTCOME_STATUS,
    sc.OUTCOME_VALUE_TYPE,
    sc.OUTCOME_VALUE_AMOUNT,
    sc.OUTCOME_REASON,
    sc.OUTCOME_ERROR_TYPE,
    sc.TEAM,
    sc.COST_CENTER,
    sc.REGION,
    sc.REPORTED_COST,
    sc.OPENINFERENCE_COST_TOTAL,
    sc.OPENLIT_COST,
    sc.GEN_AI_PROVIDER_NAME,
    sc.GEN_AI_SYSTEM_DEPRECATED,
    sc.OPENINFERENCE_PROVIDER,
    sc.OPENINFERENCE_SYSTEM,
    sc.GEN_AI_REQUEST_MODEL,
    sc.OPENINFERENCE_MODEL_NAME,
    sc.GEN_AI_RESPONSE_MODEL,
    sc.GEN_AI_OPERATION_NAME,
    sc.OPENAI_RESPONSE_SERVICE_TIER,
    sc.OPENAI_REQUEST_SERVICE_TIER,
    sc.GEN_AI_USAGE_INPUT_TOKENS,
    sc.GEN_AI_USAGE_PROMPT_TOKENS_DEPRECATED,
    sc.OPENINFERENCE_PROMPT_TOKENS,
    sc.GEN_AI_USAGE_OUTPUT_TOKENS,
    sc.GEN_AI_USAGE_COMPLETION_TOKENS_DEPRECATED,
    sc.OPENINFERENCE_COMPLETION_TOKENS,
    sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    sc.OPENLLMETRY_CACHE_READ_INPUT_TOKENS,
    sc.OPENINFERENCE_CACHE_READ_TOKENS,
    sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    sc.OPENLLMETRY_CACHE_CREATION_INPUT_TOKENS,
    sc.OPENINFERENCE_CACHE_WRITE_TOKENS,
    sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    sc.OPENLLMETRY_REASONING_TOKENS,
    sc.OPENINFERENCE_REASONING_TOKENS,
    sc.CACHE_WRITE_1H_INPUT_TOKENS,
    sc.DB_SYSTEM_NAME,
    sc.DB_SYSTEM_DEPRECATED,
    sc.DB_OPERATION_NAME,
    sc.DB_OPERATION_DEPRECATED,
    sc.DB_BYTES_SCANNED,
    sc.DB_REQUEST_UNITS,
    sc.AZURE_COSMOSDB_REQUEST_CHARGE,
    sc.DB_RESPONSE_RETURNED_ROWS,
    sc.DB_ROWS_AFFECTED,
    sc.STORAGE_SYSTEM,
    sc.AWS_S3_BUCKET,
    sc.STORAGE_OPERATION,
    sc.STORAGE_BYTES_READ,
    sc.STORAGE_BYTES_WRITTEN,
    sc.STORAGE_OBJECT_COUNT,
    sc.MESSAGING_SYSTEM,
    sc.MESSAGING_OPERATION_TYPE,
    sc.MESSAGING_OPERATION_DEPRECATED,
    sc.MESSAGING_BATCH_MESSAGE_COUNT,
    sc.MESSAGING_MESSAGE_BODY_SIZE,
    "http.request.method",
    "gen_ai.response.finish_reasons",
    "custom.thing",
]
# text without Unicode digits: normalize's count reader takes "²" for a digit and fails
TEXT = st.text(alphabet="abcXY019 .-_/", max_size=6)
VALUES = {
    "text": st.one_of(TEXT, st.sampled_from(["openai", "Anthropic", "az.ai.openai", "send", ""])),
    "int": st.integers(-3, 10**9),
    "float": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(2.0)),
    "bool": st.booleans(),
    "digits": st.sampled_from(["12", " 7 ", "-3", "3.0", "0", "1e3"]),
    "none": st.none(),
    "list": st.lists(TEXT, max_size=2),
    "tuple": st.tuples(TEXT),
    "dict": st.dictionaries(TEXT, st.integers(0, 9), max_size=2),
}
COUNTS = {
    sc.GEN_AI_USAGE_INPUT_TOKENS,
    sc.GEN_AI_USAGE_OUTPUT_TOKENS,
    sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    sc.OPENINFERENCE_PROMPT_TOKENS,
    sc.OPENINFERENCE_REASONING_TOKENS,
    sc.MESSAGING_BATCH_MESSAGE_COUNT,
    sc.STORAGE_OBJECT_COUNT,
    sc.DB_BYTES_SCANNED,
}
# what instrumentations send together, so the fast path meets realistic groups
TEMPLATES = [
    [
        sc.RUN_ID,
        sc.GEN_AI_PROVIDER_NAME,
        sc.GEN_AI_REQUEST_MODEL,
        sc.GEN_AI_USAGE_INPUT_TOKENS,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS,
        sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
        sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
        sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
        sc.OPENAI_RESPONSE_SERVICE_TIER,
    ],
    [sc.OPENINFERENCE_PROVIDER, sc.OPENINFERENCE_PROMPT_TOKENS, sc.OPENINFERENCE_REASONING_TOKENS],
    [sc.MESSAGING_SYSTEM, sc.MESSAGING_OPERATION_TYPE, sc.MESSAGING_BATCH_MESSAGE_COUNT],
    [sc.MESSAGING_SYSTEM, sc.MESSAGING_OPERATION_DEPRECATED],
    [sc.DB_SYSTEM_NAME, sc.DB_OPERATION_NAME, sc.DB_BYTES_SCANNED, sc.DB_REQUEST_UNITS],
    [sc.STORAGE_SYSTEM, sc.AWS_S3_BUCKET, sc.STORAGE_OPERATION, sc.STORAGE_OBJECT_COUNT],
    [sc.RUN_ID, sc.ENVIRONMENT, sc.OUTCOME_STATUS, sc.OUTCOME_VALUE_AMOUNT, sc.REPORTED_COST],
]
NATURAL = {
    sc.MESSAGING_OPERATION_TYPE: st.sampled_from(["send", "receive", "process", "ack", ""]),
    sc.MESSAGING_OPERATION_DEPRECATED: st.sampled_from(["publish", "create", "settle"]),
    sc.ENVIRONMENT: st.sampled_from(["prod", "", "dev"]),
    sc.REPORTED_COST: st.sampled_from([0.5, "0.01", -1, "x", Decimal("1e-30")]),
    sc.OUTCOME_VALUE_AMOUNT: st.sampled_from([1, 2.5, float("nan"), "3"]),
}
RESOURCES = [
    {"service.name": "api"},
    {"service.name": "worker", sc.RESOURCE_DEPLOYMENT_ENVIRONMENT: "prod"},
    {},
    {"service.name": "", sc.RESOURCE_DEPLOYMENT_ENVIRONMENT: 3},
]


def natural(key: str) -> st.SearchStrategy:
    """Values of the type instrumentations send for `key`."""
    if key in NATURAL:
        return NATURAL[key]
    if key in COUNTS:
        return st.one_of(st.integers(0, 60), st.none())
    return st.sampled_from(["openai", "gpt-4o", "aws_sqs", "bigquery", "s3", "flex", "x"])


@st.composite
def batches(draw):
    """Spans made from a few attribute templates (same keys, same order), so groups form;
    values mostly of the template's type, sometimes not."""
    templates = []
    for _ in range(draw(st.integers(1, 5))):
        if draw(st.booleans()):
            keys = draw(st.sampled_from(TEMPLATES))
            keys = draw(st.permutations(keys)) if draw(st.booleans()) else keys
        else:
            keys = draw(st.lists(st.sampled_from(KEYS), max_size=8, unique=True))
        kinds = [
            natural(key) if draw(st.booleans()) else draw(st.sampled_from(list(VALUES)))
            for key in keys
        ]
        templates.append(list(zip(keys, kinds, strict=True)))
    shared = [dict(r) for r in RESOURCES]
    spans = []
    for i in range(draw(st.integers(1, 40))):
        template = draw(st.sampled_from(templates))
        attributes = {}
        for key, usual in template:
            kind = draw(st.sampled_from(list(VALUES))) if draw(st.integers(0, 9)) == 0 else usual
            attributes[key] = draw(kind if isinstance(kind, st.SearchStrategy) else VALUES[kind])
        resource = draw(st.sampled_from(shared)) if draw(st.booleans()) else {"service.name": "x"}
        spans.append(
            RawSpan(
                trace_id=f"{i + 1:032x}",
                span_id=f"{i + 1:016x}",
                parent_span_id=draw(st.sampled_from([None, "00000000000000aa"])),
                name=draw(st.sampled_from(["botanu.run/support", "chat gpt-4o", ""])),
                kind="client",
                start_ns=1_763_000_000_000_000_000 + i,
                end_ns=1_763_000_000_000_000_000 + i + 10,
                status_code="unset",
                attributes=attributes,
                resource=resource,
            )
        )
    return spans


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raws=batches())
def test_a_span_reads_the_same_among_others_as_alone(raws):
    try:
        batch = normalize_batch(raws)
    except (ValueError, OverflowError):
        # a value the store's columns cannot hold (an attempt beyond 32 bits, a count
        # beyond 64): the records normalize makes cannot be stored either
        with pytest.raises((ValueError, OverflowError)):
            SpanBatch.from_records([normalize_one(raw) for raw in raws])
        return

    assert batch.count == len(raws)
    assert sorted(batch.order) == list(range(len(raws)))
    for row, source in enumerate(batch.order):
        assert batch.record(row) == normalize(raws[source])


def test_a_real_payload_normalizes_alike():
    attributes = {
        "gen_ai.system": "anthropic",
        "gen_ai.request.model": "claude-3-5-sonnet",
        "gen_ai.usage.input_tokens": 40,
        "gen_ai.usage.output_tokens": 10,
        "gen_ai.usage.cache_read_input_tokens": 1000,
        "llm.cost.total": 0.0125,
    }
    document = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "a"}}]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": f"{i + 1:032x}",
                                "spanId": f"{i + 1:016x}",
                                "name": "chat",
                                "startTimeUnixNano": "1763000000000000000",
                                "endTimeUnixNano": "1763000001000000000",
                                "attributes": [
                                    {"key": k, "value": {"intValue": str(v)}}
                                    if isinstance(v, int)
                                    else {"key": k, "value": {"stringValue": str(v)}}
                                    for k, v in attributes.items()
                                ],
                            }
                            for i in range(3)
                        ]
                    }
                ],
            }
        ]
    }
    raws = decode_json(json.dumps(document))
    batch = normalize_batch(raws)

    assert [batch.record(i) for i in range(3)] == [normalize(raw) for raw in raws]
    assert batch.array("input_tokens").to_pylist() == [1040] * 3
    assert batch.array("reported_cost").to_pylist() == [Decimal("0.0125")] * 3


def test_an_empty_batch():
    batch = normalize_batch([])
    assert batch.count == 0
    assert batch.to_arrow().num_rows == 0


CONVENTIONS = [
    {  # Anthropic's exclusive counts, reasoning beyond the output
        sc.GEN_AI_SYSTEM_DEPRECATED: "anthropic",
        sc.GEN_AI_USAGE_INPUT_TOKENS: 40,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 10,
        sc.OPENLLMETRY_CACHE_READ_INPUT_TOKENS: 1000,
        sc.OPENLLMETRY_CACHE_CREATION_INPUT_TOKENS: 200,
        sc.OPENLLMETRY_REASONING_TOKENS: 30,
    },
    {sc.OPENINFERENCE_MODEL_NAME: "m", sc.OPENINFERENCE_PROMPT_TOKENS: "12"},
    {sc.GEN_AI_PROVIDER_NAME: "", sc.GEN_AI_SYSTEM_DEPRECATED: "xai", sc.ATTEMPT: 2},
    {sc.MESSAGING_SYSTEM: "aws_sqs", sc.MESSAGING_OPERATION_TYPE: "send"},
    {sc.MESSAGING_SYSTEM: "kafka", sc.MESSAGING_OPERATION_DEPRECATED: "ack"},
    {sc.AWS_S3_BUCKET: "b", sc.STORAGE_OBJECT_COUNT: -1},
    {sc.DB_SYSTEM_DEPRECATED: "bigquery", sc.AZURE_COSMOSDB_REQUEST_CHARGE: 2.86},
    {sc.RUN_ID: "r", sc.ENVIRONMENT: "", sc.OUTCOME_VALUE_AMOUNT: 1},
]


def test_each_convention_normalizes_alike_in_a_group():
    resource = {"service.name": "api", sc.RESOURCE_DEPLOYMENT_ENVIRONMENT: "prod"}
    raws = [
        RawSpan(
            trace_id=f"{i + 1:032x}",
            span_id=f"{i + 1:016x}",
            parent_span_id=None,
            name="span",
            kind="client",
            start_ns=1_763_000_000_000_000_000,
            end_ns=1_763_000_000_000_000_001,
            status_code="unset",
            attributes=dict(attributes),
            resource=resource,
        )
        for i, attributes in enumerate(CONVENTIONS * 3)
    ]
    batch = normalize_batch(raws)

    for row, source in enumerate(batch.order):
        assert batch.record(row) == normalize(raws[source])
