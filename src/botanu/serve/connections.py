"""HTTP connections that cannot hold the server: a client must send its request headers
within a time limit, and there are at most so many connections at once.

uvicorn's own protocol times out only idle keep-alive connections: a client that opens a
connection and sends nothing, or dribbles its headers, holds a descriptor forever, and
enough of them take every descriptor the process has.
"""

from __future__ import annotations

import asyncio
import resource
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["bounded_protocol", "default_max_connections"]


def default_max_connections() -> int:
    """Connections the descriptor limit leaves room for (the store, journal, workers and
    DuckDB need some), at most 1,000."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1000
    return max(16, min(1000, soft - 128))


def bounded_protocol(header_timeout_s: float, max_connections: int) -> type[H11Protocol]:
    """An h11 protocol class for uvicorn with these bounds."""

    class BoundedH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None
        _timed_cycle: Any = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            if len(self.connections) >= max_connections:
                transport.abort()  # refused before it costs more than the accept
                self.transport = transport
                return
            super().connection_made(transport)
            self._start_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_header_timer()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._request_began()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self._request_began():  # else a pipelined request is answered now
                self._start_header_timer()  # the next request's headers, on keep-alive

        def _request_began(self) -> bool:
            """Whether a request's headers came since the timer started (stops it)."""
            if self.cycle is None or self.cycle is self._timed_cycle:
                return False
            self._timed_cycle = self.cycle
            self._stop_header_timer()
            return True

        def _start_header_timer(self) -> None:
            self._stop_header_timer()
            self._header_timer = self.loop.call_later(header_timeout_s, self._too_slow)

        def _stop_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return BoundedH11Protocol
