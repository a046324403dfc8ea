"""A local stand-in for the OpenAI API on 127.0.0.1: answers chat completions the way the
provider does, with usage that includes cached and reasoning tokens. Stops with the demo.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["StubModelServer"]


class _Handler(BaseHTTPRequestHandler):
    server: StubModelServer.HTTPServer

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        self.server.calls += 1
        if self.server.fail_next > 0:  # a provider hiccup the workload must retry
            self.server.fail_next -= 1
            self._send(503, {"error": {"message": "overloaded", "type": "server_error"}})
            return
        self._send(200, _completion(request, self.server.calls))

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", f"req_{self.server.calls:06d}")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the demo prints its own report


def _completion(request: dict[str, Any], number: int) -> dict[str, Any]:
    messages = request.get("messages") or []
    prompt_chars = sum(len(str(m.get("content", ""))) for m in messages)
    prompt_tokens = 900 + prompt_chars // 4
    cached = 768 if number % 3 else 0  # the system prompt is cached on most calls
    reasoning = 120 if str(request.get("model", "")).startswith("o") else 0
    completion_tokens = 160 + reasoning
    return {
        "id": f"chatcmpl-demo{number:06d}",
        "object": "chat.completion",
        "created": 1_763_000_000 + number,
        "model": request.get("model", "gpt-4o-mini"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Done. Anything else?"},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        },
    }


class StubModelServer:
    """`with StubModelServer() as server:` serves on `server.base_url` until the block ends."""

    class HTTPServer(ThreadingHTTPServer):
        calls = 0
        fail_next = 0

    def __init__(self) -> None:
        self._server = self.HTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def fail_next(self, count: int = 1) -> None:
        self._server.fail_next = count

    def __enter__(self) -> StubModelServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
