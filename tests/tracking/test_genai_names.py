"""GenAI names: every `gen_ai.provider.name` well-known value of the OpenTelemetry registry,
the spellings users and older instrumentations send, and the `execute_tool` span."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from botanu import run_botanu, semconv, track_llm_call, track_tool_call
from botanu.tracking._providers import gen_ai_provider

# the registry's gen_ai.provider.name members (semantic-conventions-genai, registry.yaml)
REGISTRY = (
    "openai",
    "gcp.gen_ai",
    "gcp.vertex_ai",
    "gcp.gemini",
    "anthropic",
    "cohere",
    "azure.ai.inference",
    "azure.ai.openai",
    "ibm.watsonx.ai",
    "aws.bedrock",
    "perplexity",
    "x_ai",
    "deepseek",
    "groq",
    "mistral_ai",
    "moonshot_ai",
)

SPELLINGS = {
    # the seeds' and users' spellings
    "OpenAI": "openai",
    "claude": "anthropic",
    "Anthropic": "anthropic",
    "bedrock": "aws.bedrock",
    "aws_bedrock": "aws.bedrock",
    "Amazon-Bedrock": "aws.bedrock",
    "azure": "azure.ai.openai",
    "azure_openai": "azure.ai.openai",
    "Azure OpenAI": "azure.ai.openai",
    "azure-ai-inference": "azure.ai.inference",
    "vertex": "gcp.vertex_ai",
    "vertexai": "gcp.vertex_ai",
    "vertex-ai": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "google": "gcp.gemini",
    "google_genai": "gcp.gen_ai",
    "mistral": "mistral_ai",
    "mistralai": "mistral_ai",
    "xai": "x_ai",
    "grok": "x_ai",
    "watsonx": "ibm.watsonx.ai",
    "moonshot": "moonshot_ai",
    "kimi": "moonshot_ai",
    "deep-seek": "deepseek",
    # the deprecated gen_ai.system values
    "az.ai.openai": "azure.ai.openai",
    "az.ai.inference": "azure.ai.inference",
    "vertex_ai": "gcp.vertex_ai",
    # anything else passes through lower-cased, spelled as given
    "My-Own-LLM": "my-own-llm",
    "vllm": "vllm",
}


@pytest.mark.parametrize("value", REGISTRY)
def test_registry_values_are_kept(value):
    assert gen_ai_provider(value) == value


@pytest.mark.parametrize(("given", "expected"), sorted(SPELLINGS.items()))
def test_spellings_are_normalised(given, expected):
    assert gen_ai_provider(given) == expected


def test_semconv_has_every_registry_value():
    values = {v for k, v in vars(semconv).items() if k.startswith("PROVIDER_")}
    assert values == set(REGISTRY)


def test_tracker_span_carries_the_normalised_provider(spans):
    with track_llm_call(provider="Amazon-Bedrock", model="m"):
        pass
    (span,) = spans.named("chat m")
    assert span.attributes[semconv.GEN_AI_PROVIDER_NAME] == "aws.bedrock"


def test_tool_call_follows_the_execute_tool_convention(spans):
    with run_botanu("agent", event_id="e-1", customer_id="acme") as run:
        with track_tool_call(
            "search_orders",
            call_id="call_mszuSIzqtI65i1wAUOE8w5H4",
            tool_type="function",
            description="Find a customer's orders",
        ) as tool:
            tool.set_result(matches=3)
    (span,) = spans.named("execute_tool search_orders")
    assert span.kind is trace.SpanKind.INTERNAL
    assert dict(span.attributes) == {
        semconv.GEN_AI_OPERATION_NAME: "execute_tool",
        semconv.GEN_AI_TOOL_NAME: "search_orders",
        semconv.GEN_AI_TOOL_CALL_ID: "call_mszuSIzqtI65i1wAUOE8w5H4",
        semconv.GEN_AI_TOOL_TYPE: "function",
        semconv.GEN_AI_TOOL_DESCRIPTION: "Find a customer's orders",
        "botanu.tool.result.matches": 3,
        semconv.RUN_ID: run.run_id,
        semconv.WORKFLOW: "agent",
        semconv.EVENT_ID: "e-1",
        semconv.CUSTOMER_ID: "acme",
    }


def test_tool_call_error_is_recorded_on_its_span(spans):
    with pytest.raises(LookupError), track_tool_call("lookup", call_id="c-1"):
        raise LookupError("no such order")
    (span,) = spans.named("execute_tool lookup")
    assert span.attributes[semconv.ERROR_TYPE] == "LookupError"
    assert span.status.status_code is trace.StatusCode.ERROR
