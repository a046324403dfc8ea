"""Ingest: real OTLP payloads from the OpenTelemetry exporter's own encoder, OTLP/JSON in
the shapes other instrumentations send, and payloads that must be rejected whole."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from botanu import botanu_workflow, emit_outcome, semconv, track_llm_call
from botanu.engine.ingest import (
    OTLPDecodeError,
    decode_json,
    decode_protobuf,
    iter_file_payloads,
    normalize,
)


def sdk_spans(spans):
    @botanu_workflow("support", event_id="t-1", customer_id="acme", tenant_id="eu")
    def resolve():
        with track_llm_call(provider="anthropic", model="claude-sonnet-4-5") as tracker:
            tracker.set_tokens(
                input_tokens=1200, output_tokens=300, cache_read_tokens=800, cache_write_tokens=100
            )
        emit_outcome("success", value_type="tickets_resolved", value_amount=1)

    resolve()
    return spans.spans


def test_protobuf_from_the_otlp_encoder_round_trips_into_records(spans):
    finished = sdk_spans(spans)
    payload = encode_spans(finished).SerializeToString()
    records = [normalize(raw) for raw in decode_protobuf(payload)]
    by_name = {r.name: r for r in records}
    run = by_name["botanu.run/support"]
    llm = by_name["chat claude-sonnet-4-5"]
    assert run.is_run_span
    assert (run.workflow, run.event_id, run.customer_id, run.tenant_id) == (
        "support",
        "t-1",
        "acme",
        "eu",
    )
    assert (run.outcome_status, run.outcome_value_type, run.outcome_value_amount) == (
        "success",
        "tickets_resolved",
        1.0,
    )
    assert llm.run_id == run.run_id
    assert llm.category == "llm"
    assert (llm.provider, llm.request_model) == ("anthropic", "claude-sonnet-4-5")
    assert (llm.input_tokens, llm.output_tokens) == (1200, 300)
    assert (llm.cache_read_tokens, llm.cache_write_tokens) == (800, 100)
    assert llm.parent_span_id == run.span_id
    assert llm.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == "1200"
    assert run.trace_id == format(finished[0].context.trace_id, "032x")


def otlp_json(attributes, *, name="span", resource=None):
    def value(v):
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        if isinstance(v, float):
            return {"doubleValue": v}
        return {"stringValue": v}

    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        {"key": k, "value": value(v)} for k, v in (resource or {}).items()
                    ]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "name": name,
                                "kind": 3,
                                "startTimeUnixNano": "1763000000000000000",
                                "endTimeUnixNano": "1763000001000000000",
                                "status": {"code": 2},
                                "attributes": [
                                    {"key": k, "value": value(v)} for k, v in attributes.items()
                                ],
                            }
                        ]
                    }
                ],
            }
        ]
    }


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        (  # deprecated GenAI names
            {
                "gen_ai.system": "az.ai.openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.prompt_tokens": 100,
                "gen_ai.usage.completion_tokens": 20,
            },
            ("azure.ai.openai", "gpt-4o", 100, 20, None, None),
        ),
        (  # OpenInference
            {
                "llm.provider": "openai",
                "llm.model_name": "gpt-4o-mini",
                "llm.token_count.prompt": 500,
                "llm.token_count.completion": 50,
                "llm.token_count.prompt_details.cache_read": 300,
            },
            ("openai", "gpt-4o-mini", 500, 50, 300, None),
        ),
        (  # OpenLLMetry with Anthropic's exclusive counts: converted to inclusive
            {
                "gen_ai.system": "anthropic",
                "gen_ai.request.model": "claude-3-5-sonnet",
                "gen_ai.usage.input_tokens": 40,
                "gen_ai.usage.output_tokens": 10,
                "gen_ai.usage.cache_read_input_tokens": 1000,
                "gen_ai.usage.cache_creation_input_tokens": 200,
            },
            ("anthropic", "claude-3-5-sonnet", 1240, 10, 1000, 200),
        ),
    ],
)
def test_other_conventions_are_read(attributes, expected):
    (raw,) = decode_json(json.dumps(otlp_json(attributes)))
    r = normalize(raw)
    assert r.category == "llm"
    assert (
        r.provider,
        r.request_model,
        r.input_tokens,
        r.output_tokens,
        r.cache_read_tokens,
        r.cache_write_tokens,
    ) == expected
    assert (r.kind, r.status_code) == ("client", "error")


def test_reported_costs_and_data_operations():
    (raw,) = decode_json(
        otlp_json({"llm.model_name": "m", "llm.provider": "x", "llm.cost.total": 0.0125})
    )
    assert normalize(raw).reported_cost == Decimal("0.0125")
    (raw,) = decode_json(
        otlp_json({"db.system": "bigquery", "db.operation": "SELECT", "botanu.db.bytes_scanned": 7})
    )
    db = normalize(raw)
    assert (db.category, db.system, db.operation, db.bytes_scanned) == (
        "db",
        "bigquery",
        "SELECT",
        7,
    )
    (raw,) = decode_json(otlp_json({"messaging.system": "aws_sqs", "messaging.operation": "send"}))
    msg = normalize(raw)
    assert (msg.category, msg.message_count) == ("messaging", 1)
    (raw,) = decode_json(otlp_json({"aws.s3.bucket": "b"}, resource={"service.name": "api"}))
    assert (normalize(raw).category, normalize(raw).service_name) == ("storage", "api")


@pytest.mark.parametrize(
    "payload",
    [
        b"not json at all",
        b'{"resourceSpans": "nope"}',
        json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}),
        json.dumps(otlp_json({}) | {"resourceSpans": [{"scopeSpans": [{"spans": [{}]}]}]}),
    ],
)
def test_malformed_json_is_rejected(payload):
    with pytest.raises(OTLPDecodeError):
        decode_json(payload)


def test_malformed_protobuf_is_rejected():
    with pytest.raises(OTLPDecodeError):
        decode_protobuf(b"\xff\xff\xff\xff garbage")


def test_json_lines_file_names_the_bad_line():
    good = json.dumps(otlp_json({"a": 1}))
    data = (good + "\n" + good + "\n" + "{broken\n").encode()
    with pytest.raises(OTLPDecodeError, match="line 3"):
        list(iter_file_payloads(data))
    assert len(list(iter_file_payloads((good + "\n" + good).encode()))) == 2


def test_a_count_in_other_digits_is_left_out_and_the_span_kept():
    from botanu.engine.ingest import RawSpan, normalize

    raw = RawSpan(
        trace_id="a" * 32,
        span_id="b" * 16,
        parent_span_id=None,
        name="chat gpt-4o",
        kind="client",
        start_ns=1,
        end_ns=2,
        status_code="unset",
        attributes={
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": "²",  # a digit to str.isdigit, not a count
            "gen_ai.usage.output_tokens": "12",
        },
        resource={},
    )
    record = normalize(raw)
    assert (record.input_tokens, record.output_tokens) == (None, 12)
