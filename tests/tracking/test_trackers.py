"""Trackers: current OTel GenAI, db and messaging names; usage in the OTel convention;
errors recorded once; bad values warned and left out."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from botanu import (
    BotanuWarning,
    ModelOperation,
    run_botanu,
    semconv,
    track_db_operation,
    track_llm_call,
    track_messaging_operation,
    track_storage_operation,
    track_tool_call,
)

tracer = trace.get_tracer("tests")


def attrs(span):
    return dict(span.attributes or {})


def test_llm_call_span_has_genai_names_usage_and_the_run(spans):
    with run_botanu("support", event_id="t-1", customer_id="acme") as run:
        with track_llm_call(provider="openai", model="gpt-4o") as tracker:
            tracker.set_tokens(
                input_tokens=1200,
                output_tokens=300,
                cache_read_tokens=1000,
                cache_write_tokens=100,
                reasoning_tokens=120,
            )
            tracker.set_request_id(provider_request_id="chatcmpl-1", client_request_id="c-1")
            tracker.set_attempt(2)
            tracker.set_response_model("gpt-4o-2024-08-06")
            tracker.set_finish_reason("stop")
            tracker.set_streaming(True)
            with tracer.start_as_current_span("http"):
                pass
    (span,) = spans.named("chat gpt-4o")
    a = attrs(span)
    assert span.kind is trace.SpanKind.CLIENT
    assert a == {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_REQUEST_MODEL: "gpt-4o",
        semconv.RUN_ID: run.run_id,
        semconv.WORKFLOW: "support",
        semconv.EVENT_ID: "t-1",
        semconv.CUSTOMER_ID: "acme",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 1200,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 300,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 1000,
        semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: 100,
        semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 100,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 120,
        semconv.GEN_AI_RESPONSE_ID: "chatcmpl-1",
        semconv.LLM_CLIENT_REQUEST_ID: "c-1",
        semconv.LLM_ATTEMPT: 2,
        semconv.GEN_AI_RESPONSE_MODEL: "gpt-4o-2024-08-06",
        semconv.GEN_AI_RESPONSE_FINISH_REASONS: ("stop",),
        semconv.GEN_AI_REQUEST_STREAM: True,
    }
    (http,) = spans.named("http")
    assert http.parent.span_id == span.context.span_id


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("openai", "openai"),
        ("claude", "anthropic"),
        ("Anthropic", "anthropic"),
        ("bedrock", "aws.bedrock"),
        ("vertex", "gcp.vertex_ai"),
        ("azure_openai", "azure.ai.openai"),
        ("gemini", "gcp.gemini"),
        ("mistral", "mistral_ai"),
        ("xai", "x_ai"),
        ("my-own-llm", "my-own-llm"),
    ],
)
def test_provider_names_are_normalised(spans, given, expected):
    with track_llm_call(provider=given, model="m"):
        pass
    (span,) = spans.named("chat m")
    assert attrs(span)[semconv.GEN_AI_PROVIDER_NAME] == expected


def test_vendor_is_a_synonym_and_operation_is_used(spans):
    with track_llm_call(
        vendor="openai", model="text-embedding-3-small", operation=ModelOperation.EMBEDDINGS
    ):
        pass
    (span,) = spans.named("embeddings text-embedding-3-small")
    assert attrs(span)[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs(span)[semconv.GEN_AI_OPERATION_NAME] == "embeddings"


def test_exclusive_input_count_is_a_warning_and_is_converted(spans):
    with track_llm_call(provider="anthropic", model="claude-sonnet-4") as tracker:
        with pytest.warns(BotanuWarning, match="must include them"):
            tracker.set_tokens(input_tokens=50, output_tokens=10, cache_read_tokens=900)
    (span,) = spans.named("chat claude-sonnet-4")
    assert attrs(span)[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 950


@pytest.mark.parametrize("bad", [-5, "12", 1.5, True])
def test_bad_token_counts_are_warned_and_left_out(spans, bad):
    with track_llm_call(provider="openai", model="gpt-4o") as tracker:
        with pytest.warns(BotanuWarning, match="input_tokens"):
            tracker.set_tokens(input_tokens=bad, output_tokens=3)
    (span,) = spans.named("chat gpt-4o")
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in attrs(span)
    assert attrs(span)[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3


def test_error_passes_through_unchanged_and_is_recorded_once(spans):
    class APIError(Exception):
        pass

    err = APIError("overloaded")

    def call_model():
        with track_llm_call(provider="openai", model="gpt-4o") as tracker:
            try:
                raise err
            except APIError as e:
                tracker.set_error(e)  # the seed's pattern; the exit must not record it again
                raise

    with pytest.raises(APIError) as info:
        call_model()
    assert info.value is err
    (span,) = spans.named("chat gpt-4o")
    assert attrs(span)[semconv.ERROR_TYPE].endswith(".APIError")
    assert [e.name for e in span.events] == ["exception"]
    assert span.status.status_code is trace.StatusCode.ERROR


def test_tool_call(spans):
    with track_tool_call("search_orders") as tool:
        tool.set_result(matches=3, name="not the tool name")
        with pytest.warns(BotanuWarning, match="rows"):
            tool.set_result(rows=[1, 2])
    (span,) = spans.named("execute_tool search_orders")
    assert span.kind is trace.SpanKind.INTERNAL
    assert attrs(span)[semconv.GEN_AI_OPERATION_NAME] == "execute_tool"
    assert attrs(span)[semconv.GEN_AI_TOOL_NAME] == "search_orders"
    assert attrs(span)["botanu.tool.result.matches"] == 3
    assert attrs(span)["botanu.tool.result.name"] == "not the tool name"
    assert "botanu.tool.result.rows" not in attrs(span)


def test_service_tier_and_stream_chunk_finish_reasons(spans):
    with track_llm_call(provider="openai", model="gpt-4o") as tracker:
        tracker.set_service_tier(requested="auto", billed="flex")
        tracker.set_finish_reason(None)  # a stream chunk before the last one
        tracker.set_finish_reason(["stop"])
    (span,) = spans.named("chat gpt-4o")
    assert attrs(span)[semconv.OPENAI_REQUEST_SERVICE_TIER] == "auto"
    assert attrs(span)[semconv.OPENAI_RESPONSE_SERVICE_TIER] == "flex"
    assert attrs(span)[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


@pytest.mark.parametrize(
    "make",
    [
        lambda: track_llm_call(provider=123, model="m"),
        lambda: track_llm_call(model="m"),
        lambda: track_db_operation(system=None, operation="SELECT"),
        lambda: track_messaging_operation(system="sqs", operation=None),
        lambda: track_storage_operation(system="", operation="PUT"),
        lambda: track_tool_call(None),
    ],
)
def test_bad_tracker_names_are_a_warning_not_an_error(spans, make):
    with pytest.warns(BotanuWarning, match="non-empty string"), make():
        pass
    (span,) = spans.spans
    assert "unknown" in span.name or "unknown" in attrs(span).values()


def test_db_storage_and_messaging_trackers(spans):
    with run_botanu("etl", event_id="e", customer_id="c") as run:
        with track_db_operation(system="snowflake", operation="SELECT") as db:
            db.set_bytes_scanned(10_485_760)
            db.set_query_id("01b2-q")
            db.set_result(rows_returned=42)
        with track_db_operation(system="postgres", operation="INSERT") as db:
            db.set_result(rows_affected=1000)
        with track_db_operation(system="dynamodb", operation="GetItem") as db:
            db.set_request_units(0.5)
        with track_storage_operation(system="s3", operation="PUT") as storage:
            storage.set_result(bytes_written=2048)
        with track_messaging_operation(system="sqs", operation="publish", destination="q") as m:
            m.set_result(message_count=25)
    (snow,) = spans.named("SELECT snowflake")
    assert attrs(snow)[semconv.DB_SYSTEM_NAME] == "snowflake"
    assert attrs(snow)[semconv.DB_OPERATION_NAME] == "SELECT"
    assert attrs(snow)[semconv.DB_BYTES_SCANNED] == 10_485_760
    assert attrs(snow)[semconv.DB_QUERY_ID] == "01b2-q"
    assert attrs(snow)[semconv.DB_RESPONSE_RETURNED_ROWS] == 42
    assert attrs(snow)[semconv.RUN_ID] == run.run_id
    (pg,) = spans.named("INSERT postgresql")
    assert attrs(pg)[semconv.DB_SYSTEM_NAME] == "postgresql"
    assert attrs(pg)[semconv.DB_ROWS_AFFECTED] == 1000
    (ddb,) = spans.named("GetItem aws.dynamodb")
    assert attrs(ddb)[semconv.DB_REQUEST_UNITS] == 0.5
    (s3,) = spans.named("PUT s3")
    assert attrs(s3)[semconv.STORAGE_SYSTEM] == "s3"
    assert attrs(s3)[semconv.STORAGE_BYTES_WRITTEN] == 2048
    (sqs,) = spans.named("publish q")
    assert attrs(sqs)[semconv.MESSAGING_SYSTEM] == "aws_sqs"
    assert attrs(sqs)[semconv.MESSAGING_OPERATION_TYPE] == "send"
    assert attrs(sqs)[semconv.MESSAGING_OPERATION_NAME] == "publish"
    assert attrs(sqs)[semconv.MESSAGING_DESTINATION_NAME] == "q"
    assert attrs(sqs)[semconv.MESSAGING_BATCH_MESSAGE_COUNT] == 25
    assert all(s.kind is trace.SpanKind.CLIENT for s in (snow, pg, ddb, s3, sqs))


def test_negative_units_are_warned(spans):
    with track_db_operation(system="bigquery", operation="SELECT") as db:
        with pytest.warns(BotanuWarning, match="bytes_scanned"):
            db.set_bytes_scanned(-1)
        with pytest.warns(BotanuWarning, match="request_units"):
            db.set_request_units(-2)
    (span,) = spans.named("SELECT bigquery")
    assert semconv.DB_BYTES_SCANNED not in attrs(span)
