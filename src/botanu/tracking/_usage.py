"""Usage, response model, id and finish reasons read straight from a provider's response,
stream chunk or stream event, duck-typed (neither `openai` nor `anthropic` is imported;
plain dicts of the JSON work too), in the OTel convention: input includes cache reads and
writes, output includes reasoning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botanu import semconv

__all__ = ["response_attributes"]

# Anthropic stream events that carry nothing botanu records
_SILENT_EVENTS = frozenset(
    {"content_block_start", "content_block_delta", "content_block_stop", "message_stop", "ping"}
)


def _get(obj: object, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def response_attributes(response: object) -> dict[str, Any]:
    """The GenAI span attributes `response` carries; empty when it carries none.

    Understood: OpenAI chat completions and their stream chunks, Responses API objects
    and their `response.*` stream events, Anthropic messages and their stream events
    (`message_start`, `message_delta`), and bare usage objects of either provider.
    """
    kind = _get(response, "type")
    if isinstance(kind, str) and (found := _by_type(kind, response)) is not None:
        return found
    obj = _get(response, "object")
    if obj == "chat.completion.chunk":
        return {**_openai_chat(response), **_STREAMED}
    if obj == "chat.completion":
        return _openai_chat(response)
    if obj == "response":
        return _openai_response(response)
    return _by_usage_shape(response)


def _by_type(kind: str, response: object) -> dict[str, Any] | None:
    """Anthropic messages and stream events, Responses API stream events (by `type`)."""
    if kind == "message_start":  # Anthropic stream: the message so far, input side
        return {**_anthropic_message(_get(response, "message")), **_STREAMED}
    if kind == "message_delta":  # Anthropic stream: cumulative totals, stop reason
        found = _anthropic_usage(_get(response, "usage"))
        _put(found, semconv.GEN_AI_RESPONSE_FINISH_REASONS, _reasons(_get(response, "delta")))
        return {**found, **_STREAMED}
    if kind == "message":
        return _anthropic_message(response)
    if kind in _SILENT_EVENTS:
        return {}
    if kind.startswith("response."):  # Responses API stream event
        inner = _get(response, "response")
        return {**_openai_response(inner), **_STREAMED} if inner is not None else {}
    return None


def _by_usage_shape(response: object) -> dict[str, Any]:
    """Anything else (dicts without `object`, bare usage objects), told apart by the
    shape of its usage."""
    usage = _get(response, "usage")
    if usage is None and (
        _get(response, "prompt_tokens") is not None or _get(response, "input_tokens") is not None
    ):
        usage = response  # a bare usage object
    if _get(usage, "prompt_tokens") is not None:
        return {**_openai_chat_usage(usage), **_head(response)}
    if _get(usage, "input_tokens_details") is not None:
        return {**_openai_response_usage(usage), **_head(response)}
    if _get(usage, "input_tokens") is not None:
        return {**_anthropic_usage(usage), **_head(response)}
    return _head(response)


_STREAMED: dict[str, Any] = {semconv.GEN_AI_REQUEST_STREAM: True}


def _put(attributes: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        attributes[key] = value


def _head(response: object) -> dict[str, Any]:
    """Response model and id, when `response` is a response and not a bare usage object."""
    found: dict[str, Any] = {}
    _put(found, semconv.GEN_AI_RESPONSE_MODEL, _text(_get(response, "model")))
    _put(found, semconv.GEN_AI_RESPONSE_ID, _text(_get(response, "id")))
    return found


def _usage(
    inp: int | None,
    out: int | None,
    read: int | None,
    write: int | None,
    reasoning: int | None,
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    _put(found, semconv.GEN_AI_USAGE_INPUT_TOKENS, inp)
    _put(found, semconv.GEN_AI_USAGE_OUTPUT_TOKENS, out)
    _put(found, semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, read)
    _put(found, semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, write)
    _put(found, semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, write)
    _put(found, semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, reasoning)
    return found


# --- OpenAI: totals already include their cached and reasoning parts ---------------------


def _openai_chat(response: object) -> dict[str, Any]:
    found = _head(response)
    usage = _get(response, "usage")
    if usage is not None:
        found.update(_openai_chat_usage(usage))
    reasons = [r for c in _get(response, "choices") or () if (r := _text(_get(c, "finish_reason")))]
    if reasons:
        found[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = tuple(reasons)
    _put(found, semconv.OPENAI_RESPONSE_SERVICE_TIER, _text(_get(response, "service_tier")))
    return found


def _openai_chat_usage(usage: object) -> dict[str, Any]:
    prompt = _get(usage, "prompt_tokens_details")
    completion = _get(usage, "completion_tokens_details")
    read = _count(_get(prompt, "cached_tokens"))
    if read is None:  # DeepSeek's OpenAI-compatible API names its cache hits apart
        read = _count(_get(usage, "prompt_cache_hit_tokens"))
    return _usage(
        _count(_get(usage, "prompt_tokens")),
        _count(_get(usage, "completion_tokens")),
        read,
        _count(_get(prompt, "cache_write_tokens")),
        _count(_get(completion, "reasoning_tokens")),
    )


def _openai_response(response: object) -> dict[str, Any]:
    found = _head(response)
    usage = _get(response, "usage")
    if usage is not None:
        found.update(_openai_response_usage(usage))
    _put(found, semconv.OPENAI_RESPONSE_SERVICE_TIER, _text(_get(response, "service_tier")))
    return found


def _openai_response_usage(usage: object) -> dict[str, Any]:
    details = _get(usage, "input_tokens_details")
    return _usage(
        _count(_get(usage, "input_tokens")),
        _count(_get(usage, "output_tokens")),
        _count(_get(details, "cached_tokens")),
        _count(_get(details, "cache_write_tokens")),
        _count(_get(_get(usage, "output_tokens_details"), "reasoning_tokens")),
    )


# --- Anthropic: input_tokens excludes cache reads and writes -------------------------------


def _anthropic_message(message: object) -> dict[str, Any]:
    found = _head(message)
    usage = _get(message, "usage")
    if usage is not None:
        found.update(_anthropic_usage(usage))
    _put(found, semconv.GEN_AI_RESPONSE_FINISH_REASONS, _reasons(message))
    return found


def _reasons(holder: object) -> tuple[str, ...] | None:
    reason = _text(_get(holder, "stop_reason"))
    return (reason,) if reason else None


def _anthropic_usage(usage: object) -> dict[str, Any]:
    uncached = _count(_get(usage, "input_tokens"))
    read = _count(_get(usage, "cache_read_input_tokens"))
    write = _count(_get(usage, "cache_creation_input_tokens"))
    by_ttl = _get(usage, "cache_creation")
    five_min = _count(_get(by_ttl, "ephemeral_5m_input_tokens"))
    one_hour = _count(_get(by_ttl, "ephemeral_1h_input_tokens"))
    if write is None and (five_min is not None or one_hour is not None):
        write = (five_min or 0) + (one_hour or 0)
    inp = None if uncached is None else uncached + (read or 0) + (write or 0)
    reasoning = _count(_get(_get(usage, "output_tokens_details"), "thinking_tokens"))
    found = _usage(inp, _count(_get(usage, "output_tokens")), read, write, reasoning)
    _put(found, semconv.CACHE_WRITE_1H_INPUT_TOKENS, one_hour)
    return found
