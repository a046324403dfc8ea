"""A local stand-in for the OpenAI and Anthropic APIs on 127.0.0.1: chat completions, the
Responses API and Anthropic messages, plain and streamed (SSE), with usage shaped the way
each provider reports it. Only the standard library; stops when its `with` block ends.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["StubModelServer"]

_REPLY = ("Done.", " Anything else?")
_ANTHROPIC_OUTPUT = 40  # output tokens of every Anthropic answer, thinking excluded
_ANTHROPIC_THINKING = 64  # extended-thinking tokens when the request enables thinking


class _Handler(BaseHTTPRequestHandler):
    server: StubModelServer.HTTPServer

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        route = _ROUTES.get(self.path.split("?", 1)[0].rstrip("/"))
        if route is None:
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        with self.server.lock:
            self.server.calls += 1
            number = self.server.calls
            failing = self.server.fail_next > 0
            if failing:
                self.server.fail_next -= 1
        if failing:  # a provider hiccup the workload must retry
            self._send(503, {"error": {"message": "overloaded", "type": "server_error"}})
            return
        route(self, request, number)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self._request_id_headers()
        self.end_headers()
        self.wfile.write(data)

    def _send_events(self, events: Iterator[tuple[str | None, dict[str, Any] | str]]) -> None:
        """Server-sent events; the connection closes after the last one (HTTP/1.0)."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self._request_id_headers()
        self.end_headers()
        for event, data in events:
            text = data if isinstance(data, str) else json.dumps(data)
            head = f"event: {event}\n" if event else ""
            self.wfile.write(f"{head}data: {text}\n\n".encode())
            self.wfile.flush()

    def _request_id_headers(self) -> None:
        request_id = f"req_{self.server.calls:06d}"
        self.send_header("x-request-id", request_id)  # OpenAI's header
        self.send_header("request-id", request_id)  # Anthropic's header

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the demo prints its own report


# --- OpenAI --------------------------------------------------------------------------------


def _openai_usage(request: dict[str, Any], number: int, prompt_chars: int) -> dict[str, int]:
    prompt_tokens = 900 + prompt_chars // 4
    cached = 768 if number % 3 else 0  # the system prompt is cached on most calls
    reasoning = 120 if str(request.get("model", "")).startswith("o") else 0
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": 160 + reasoning,  # includes reasoning, as OpenAI reports it
        "cached_tokens": cached,
        "reasoning_tokens": reasoning,
    }


def _chat_usage(usage: dict[str, int]) -> dict[str, Any]:
    return {
        "prompt_tokens": usage["prompt_tokens"],
        "completion_tokens": usage["completion_tokens"],
        "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"],
        "prompt_tokens_details": {"cached_tokens": usage["cached_tokens"]},
        "completion_tokens_details": {"reasoning_tokens": usage["reasoning_tokens"]},
    }


def _chat_completions(handler: _Handler, request: dict[str, Any], number: int) -> None:
    messages = request.get("messages") or []
    prompt_chars = sum(len(str(m.get("content", ""))) for m in messages)
    usage = _openai_usage(request, number, prompt_chars)
    head: dict[str, Any] = {
        "id": f"chatcmpl-demo{number:06d}",
        "created": 1_763_000_000 + number,
        "model": request.get("model", "gpt-4o-mini"),
    }
    if request.get("service_tier"):
        head["service_tier"] = request["service_tier"]  # the tier that served the call
    if not request.get("stream"):
        handler._send(
            200,
            {
                **head,
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(_REPLY)},
                        "finish_reason": "stop",
                    }
                ],
                "usage": _chat_usage(usage),
            },
        )
        return
    include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
    handler._send_events(_chat_chunks(head, usage, include_usage))


def _chat_chunks(
    head: dict[str, Any], usage: dict[str, int], include_usage: bool
) -> Iterator[tuple[str | None, dict[str, Any] | str]]:
    chunk = {**head, "object": "chat.completion.chunk"}
    if include_usage:
        chunk["usage"] = None  # every chunk but the last carries a null usage
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": piece} for piece in _REPLY]
    for delta in deltas:
        yield None, {**chunk, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    yield None, {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    if include_usage:  # the final chunk: no choices, the usage of the whole call
        yield None, {**chunk, "choices": [], "usage": _chat_usage(usage)}
    yield None, "[DONE]"


def _responses(handler: _Handler, request: dict[str, Any], number: int) -> None:
    given = request.get("input") or ""
    prompt_chars = len(given) if isinstance(given, str) else len(json.dumps(given))
    usage = _openai_usage(request, number, prompt_chars)
    handler._send(
        200,
        {
            "id": f"resp_demo{number:06d}",
            "object": "response",
            "created_at": 1_763_000_000 + number,
            "status": "completed",
            "model": request.get("model", "gpt-4o-mini"),
            "output": [
                {
                    "type": "message",
                    "id": f"msg_demo{number:06d}",
                    "status": "completed",
                    "role": "assistant",
                    "content": [
                        {"type": "output_text", "text": "".join(_REPLY), "annotations": []}
                    ],
                }
            ],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": usage["prompt_tokens"],
                "input_tokens_details": {
                    "cached_tokens": usage["cached_tokens"],
                    "cache_write_tokens": 0,
                },
                "output_tokens": usage["completion_tokens"],
                "output_tokens_details": {"reasoning_tokens": usage["reasoning_tokens"]},
                "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"],
            },
        },
    )


# --- Anthropic -------------------------------------------------------------------------------


def _tokens(text: str) -> int:
    return (len(text) + 3) // 4


def _blocks(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The prompt's content blocks in cache order: system first, then the messages."""
    system = request.get("system")
    if isinstance(system, str):
        yield {"type": "text", "text": system}
    elif isinstance(system, list):
        yield from system
    for message in request.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            yield {"type": "text", "text": content}
        elif isinstance(content, list):
            yield from content


def _anthropic_usage(server: StubModelServer.HTTPServer, request: dict[str, Any]) -> dict[str, Any]:
    """Prompt caching as Anthropic bills it: the prefix up to a `cache_control` breakpoint
    is written the first time (5-minute or 1-hour TTL) and read afterwards. `input_tokens`
    counts only what was neither read nor written."""
    prefix = hashlib.sha256(str(request.get("model", "")).encode())
    breakpoints: list[tuple[str, int, str]] = []  # (prefix key, tokens so far, ttl)
    total = 0
    for block in _blocks(request):
        text = block.get("text") if block.get("type") == "text" else json.dumps(block)
        prefix.update(str(text).encode())
        total += _tokens(str(text))
        control = block.get("cache_control")
        if isinstance(control, dict):
            breakpoints.append((prefix.hexdigest(), total, str(control.get("ttl") or "5m")))
    read = written = 0
    by_ttl = {"5m": 0, "1h": 0}
    with server.lock:
        hits = [i for i, (key, _, _) in enumerate(breakpoints) if key in server.cache]
        start = breakpoints[hits[-1]][1] if hits else 0
        read = start
        for key, upto, ttl in breakpoints[hits[-1] + 1 if hits else 0 :]:
            server.cache.add(key)
            by_ttl["1h" if ttl == "1h" else "5m"] += upto - start
            written += upto - start
            start = upto
    thinking = request.get("thinking") or {}
    reasoning = _ANTHROPIC_THINKING if thinking.get("type") == "enabled" else 0
    usage: dict[str, Any] = {
        "input_tokens": total - read - written,
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": by_ttl["5m"],
            "ephemeral_1h_input_tokens": by_ttl["1h"],
        },
        "output_tokens": _ANTHROPIC_OUTPUT + reasoning,  # includes thinking
        "service_tier": "standard",
    }
    if reasoning:
        usage["output_tokens_details"] = {"thinking_tokens": reasoning}
    return usage


def _messages(handler: _Handler, request: dict[str, Any], number: int) -> None:
    usage = _anthropic_usage(handler.server, request)
    thinking = "output_tokens_details" in usage
    message: dict[str, Any] = {
        "id": f"msg_demo{number:06d}",
        "type": "message",
        "role": "assistant",
        "model": request.get("model", "claude-haiku-4-5"),
        "stop_sequence": None,
    }
    if not request.get("stream"):
        content: list[dict[str, Any]] = []
        if thinking:
            content.append({"type": "thinking", "thinking": "Check.", "signature": "sig"})
        content.append({"type": "text", "text": "".join(_REPLY)})
        handler._send(
            200, {**message, "content": content, "stop_reason": "end_turn", "usage": usage}
        )
        return
    handler._send_events(_message_events(message, usage, thinking))


def _message_events(
    message: dict[str, Any], usage: dict[str, Any], thinking: bool
) -> Iterator[tuple[str | None, dict[str, Any] | str]]:
    # message_start carries the input side and a first output count; message_delta the
    # cumulative totals (output included), as the API sends them
    start_usage = {**usage, "output_tokens": 1}
    start_usage.pop("output_tokens_details", None)
    yield (
        "message_start",
        {
            "type": "message_start",
            "message": {**message, "content": [], "stop_reason": None, "usage": start_usage},
        },
    )
    index = 0
    if thinking:
        yield (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "thinking", "thinking": "", "signature": ""},
            },
        )
        delta = {"type": "thinking_delta", "thinking": "Check."}
        yield "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}
        signature = {"type": "signature_delta", "signature": "sig"}
        yield (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": signature},
        )
        yield "content_block_stop", {"type": "content_block_stop", "index": 0}
        index = 1
    yield (
        "content_block_start",
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "text", "text": ""},
        },
    )
    yield "ping", {"type": "ping"}
    for piece in _REPLY:
        delta = {"type": "text_delta", "text": piece}
        yield (
            "content_block_delta",
            {"type": "content_block_delta", "index": index, "delta": delta},
        )
    yield "content_block_stop", {"type": "content_block_stop", "index": index}
    final = {k: v for k, v in usage.items() if k not in ("cache_creation", "service_tier")}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": final,
        },
    )
    yield "message_stop", {"type": "message_stop"}


_ROUTES: dict[str, Callable[[_Handler, dict[str, Any], int], None]] = {
    "/v1/chat/completions": _chat_completions,
    "/v1/responses": _responses,
    "/v1/messages": _messages,
}


class StubModelServer:
    """`with StubModelServer() as server:` serves until the block ends.

    Point an OpenAI client at `server.base_url`, an Anthropic client at
    `server.anthropic_base_url`. Figures are deterministic per server: a fresh server
    starts its call count and its prompt cache from zero.
    """

    class HTTPServer(ThreadingHTTPServer):
        daemon_threads = True
        calls = 0
        fail_next = 0

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.lock = threading.Lock()
            self.cache: set[str] = set()  # Anthropic prompt-cache prefixes written so far

    def __init__(self) -> None:
        self._server = self.HTTPServer(("127.0.0.1", 0), _Handler)
        # a 50 ms poll: stopping waits at most that long (the default, 0.5 s)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def anthropic_base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL (with `/v1`)."""
        return self.anthropic_base_url + "/v1"

    @property
    def calls(self) -> int:
        return self._server.calls

    def fail_next(self, count: int = 1) -> None:
        self._server.fail_next = count

    def __enter__(self) -> StubModelServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
