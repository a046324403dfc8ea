"""`track_llm_call` and `track_tool_call`: one span per model or tool call, on the current
OpenTelemetry GenAI semantic-convention names.

Token counts follow the OTel convention: input includes cache reads and writes, output
includes reasoning tokens.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.trace import Span, SpanKind

from botanu import semconv
from botanu.sdk._guard import report_internal_error, warn_misuse
from botanu.tracking._providers import gen_ai_provider, name_or_unknown
from botanu.tracking._span import SpanTracker, count_or_none, text_or_none
from botanu.tracking._usage import response_attributes

__all__ = ["LLMTracker", "ModelOperation", "ToolTracker", "track_llm_call", "track_tool_call"]


class ModelOperation(str, enum.Enum):
    """`gen_ai.operation.name` values."""

    CHAT = "chat"
    TEXT_COMPLETION = "text_completion"
    COMPLETION = "text_completion"
    EMBEDDINGS = "embeddings"
    EMBEDDING = "embeddings"
    GENERATE_CONTENT = "generate_content"
    EXECUTE_TOOL = "execute_tool"
    INVOKE_AGENT = "invoke_agent"
    CREATE_AGENT = "create_agent"

    def __str__(self) -> str:
        return self.value


_USAGE_NAMES = (
    semconv.GEN_AI_USAGE_INPUT_TOKENS,
    semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
    semconv.GEN_AI_USAGE_PROMPT_TOKENS_DEPRECATED,
    semconv.GEN_AI_USAGE_COMPLETION_TOKENS_DEPRECATED,
)


class LLMTracker(SpanTracker):
    """What `track_llm_call` yields: setters for usage and ids of one model call.

    A client library that traces its own calls (the Anthropic SDK does by default, so do
    the OpenAI and Anthropic instrumentors) opens a second span with the same usage inside
    this one. When such a span reported usage, this span is marked `usage_on_child` and
    the engine prices the inner span only: the call is counted once.
    """

    __slots__ = ("_nested",)
    _sees_nested_calls = True

    def __init__(self, name: str, attributes: dict[str, Any]) -> None:
        super().__init__(name, attributes)
        self._nested: list[Span] = []

    def saw_nested_span(self, span: Span) -> None:
        if span is not self.span and len(self._nested) < 8:
            self._nested.append(span)

    def _before_end(self) -> None:
        for span in self._nested:
            # the SDK's Span exposes what was recorded; the API type does not say so
            attributes: Mapping[str, Any] = getattr(span, "attributes", None) or {}
            if any(attributes.get(name) is not None for name in _USAGE_NAMES):
                self._pending[semconv.LLM_USAGE_ON_CHILD] = True
                break
        self._nested.clear()

    def set_tokens(
        self,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cache_read_tokens: int | None = None,
        cache_write_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        *,
        cache_write_1h_tokens: int | None = None,
    ) -> LLMTracker:
        """Record usage. `input_tokens` includes cache reads and writes (OTel convention).

        A total smaller than its own cache parts can only be an exclusive count (as
        Anthropic's API reports it): that is a warning, and the parts are added in.
        `cache_write_1h_tokens` is the part of the cache writes kept for one hour
        (Anthropic prices it apart from 5-minute writes).
        """
        inp = count_or_none("input_tokens", input_tokens)
        out = count_or_none("output_tokens", output_tokens)
        read = count_or_none("cache_read_tokens", cache_read_tokens)
        write = count_or_none("cache_write_tokens", cache_write_tokens)
        reasoning = count_or_none("reasoning_tokens", reasoning_tokens)
        one_hour = count_or_none("cache_write_1h_tokens", cache_write_1h_tokens)
        if one_hour is not None and write is not None and one_hour > write:
            warn_misuse(
                f"cache_write_1h_tokens ({one_hour}) is larger than cache_write_tokens "
                f"({write}): it is a part of the cache writes. It was left out."
            )
            one_hour = None
        cached = (read or 0) + (write or 0)
        if inp is not None and inp < cached:
            warn_misuse(
                f"input_tokens ({inp}) is smaller than cache reads + writes ({cached}): "
                "input_tokens must include them (OTel convention). They were added in."
            )
            inp += cached
        if out is not None and reasoning is not None and out < reasoning:
            warn_misuse(
                f"output_tokens ({out}) is smaller than reasoning_tokens ({reasoning}): "
                "output_tokens must include them (OTel convention). They were added in."
            )
            out += reasoning
        self._set(
            {
                semconv.GEN_AI_USAGE_INPUT_TOKENS: inp,
                semconv.GEN_AI_USAGE_OUTPUT_TOKENS: out,
                semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: read,
                semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: write,
                semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: write,
                semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: reasoning,
                semconv.CACHE_WRITE_1H_INPUT_TOKENS: one_hour,
            }
        )
        return self

    def set_response(self, response: object) -> LLMTracker:
        """Record what a provider's response says: usage, response model, response id,
        finish reason (and OpenAI's billed service tier).

        Takes, without importing either SDK: an OpenAI chat completion or stream chunk
        (the last one carries usage with `stream_options={"include_usage": True}`), a
        Responses API object or `response.completed` event, an Anthropic `Message`
        (also `stream.get_final_message()`) or stream event (`message_start`,
        `message_delta`), or the JSON of any of these as a dict. Call it once with the
        response, or with every chunk of a stream. Anthropic's input count, which
        excludes cache reads and writes, is converted to the OTel convention.
        """
        if response is None or isinstance(response, (str, bytes, int, float)):
            warn_misuse(
                f"set_response takes a provider's response object, got {response!r}; "
                "use set_tokens for plain counts."
            )
            return self
        try:
            attributes = response_attributes(response)
        except Exception:
            report_internal_error("LLMTracker.set_response")
            return self
        self._set(attributes)
        return self

    def set_request_id(
        self, provider_request_id: str | None = None, client_request_id: str | None = None
    ) -> LLMTracker:
        """The provider's response id (for reconciliation) and your own request id."""
        self._set(
            {
                semconv.GEN_AI_RESPONSE_ID: text_or_none(
                    "provider_request_id", provider_request_id
                ),
                semconv.LLM_CLIENT_REQUEST_ID: text_or_none("client_request_id", client_request_id),
            }
        )
        return self

    def set_attempt(self, attempt: int) -> LLMTracker:
        """The attempt number of this call within its retry loop (1 = first)."""
        value = count_or_none("attempt", attempt)
        if value == 0:
            warn_misuse("attempt numbers start at 1; 0 was left out.")
            value = None
        self._set({semconv.LLM_ATTEMPT: value})
        return self

    def set_response_model(self, model: str) -> LLMTracker:
        """The model that answered (prices use it when it differs from the request)."""
        self._set({semconv.GEN_AI_RESPONSE_MODEL: text_or_none("model", model)})
        return self

    def set_finish_reason(self, reason: str | Sequence[str] | None) -> LLMTracker:
        """Why the model stopped; None (a stream chunk before the last) is ignored."""
        if reason is None:
            return self
        if isinstance(reason, str):
            reasons: tuple[str, ...] = (reason,)
        elif isinstance(reason, (list, tuple)):
            reasons = tuple(r for r in reason if isinstance(r, str))
        else:
            warn_misuse(f"finish reason must be a string or a list of strings, got {reason!r}.")
            return self
        self._set({semconv.GEN_AI_RESPONSE_FINISH_REASONS: reasons})
        return self

    def set_service_tier(
        self, requested: str | None = None, billed: str | None = None
    ) -> LLMTracker:
        """OpenAI's service tier: the one asked for, and the one the response says was used
        (the billed one, which prices follow: flex, batch, priority...)."""
        self._set(
            {
                semconv.OPENAI_REQUEST_SERVICE_TIER: text_or_none("requested", requested),
                semconv.OPENAI_RESPONSE_SERVICE_TIER: text_or_none("billed", billed),
            }
        )
        return self

    def set_streaming(self, streaming: bool = True) -> LLMTracker:
        self._set({semconv.GEN_AI_REQUEST_STREAM: bool(streaming)})
        return self


class ToolTracker(SpanTracker):
    """What `track_tool_call` yields."""

    __slots__ = ()

    def set_result(self, **attributes: str | int | float | bool) -> ToolTracker:
        """Facts about the tool's result, as `botanu.tool.result.<name>` attributes.

        Values must be strings, numbers or booleans; anything else is a warning and left out.
        """
        values: dict[str, str | int | float | bool] = {}
        for key, value in attributes.items():
            if isinstance(value, (str, int, float, bool)):
                values[semconv.TOOL_RESULT_PREFIX + key] = value
            else:
                warn_misuse(
                    f"tool result {key}={value!r} is not a string, number or boolean; "
                    "it was left out."
                )
        self._set(values)
        return self


def track_llm_call(
    provider: str | None = None,
    model: str | None = None,
    operation: ModelOperation | str = ModelOperation.CHAT,
    *,
    vendor: str | None = None,
    **attributes: Any,
) -> LLMTracker:
    """Track one model call: `with track_llm_call(provider=..., model=...) as tracker:`.

    `vendor=` is accepted as a synonym of `provider=`; extra keyword arguments become
    span attributes as given.
    """
    provider_name = provider if provider is not None else vendor
    op = operation.value if isinstance(operation, ModelOperation) else str(operation)
    model_name = model if isinstance(model, str) and model else "unknown"
    span_attributes: dict[str, Any] = {
        semconv.GEN_AI_OPERATION_NAME: op,
        semconv.GEN_AI_PROVIDER_NAME: gen_ai_provider(provider_name),
        semconv.GEN_AI_REQUEST_MODEL: model_name,
    }
    span_attributes.update({k: v for k, v in attributes.items() if v is not None})
    return LLMTracker(f"{op} {model_name}", span_attributes)


def track_tool_call(
    name: str,
    *,
    call_id: str | None = None,
    tool_type: str | None = None,
    description: str | None = None,
    provider: str | None = None,
    **attributes: Any,
) -> ToolTracker:
    """Track one agent tool execution: a GenAI `execute_tool {name}` INTERNAL span.

    `call_id` is the id the model gave the tool call (`gen_ai.tool.call.id`), to join it
    to the model call that asked for it; `tool_type` is `function`, `extension` or
    `datastore` (`gen_ai.tool.type`).
    """
    name = name_or_unknown("tool name", name)
    span_attributes: dict[str, Any] = {
        semconv.GEN_AI_OPERATION_NAME: ModelOperation.EXECUTE_TOOL.value,
        semconv.GEN_AI_TOOL_NAME: name,
    }
    for key, value, label in (
        (semconv.GEN_AI_TOOL_CALL_ID, call_id, "call_id"),
        (semconv.GEN_AI_TOOL_TYPE, tool_type, "tool_type"),
        (semconv.GEN_AI_TOOL_DESCRIPTION, description, "description"),
    ):
        text = text_or_none(label, value)
        if text:
            span_attributes[key] = text
    if provider is not None:
        span_attributes[semconv.GEN_AI_PROVIDER_NAME] = gen_ai_provider(provider)
    span_attributes.update({k: v for k, v in attributes.items() if v is not None})
    return ToolTracker(f"execute_tool {name}", span_attributes, SpanKind.INTERNAL)
