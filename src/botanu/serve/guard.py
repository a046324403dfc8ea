"""Only the user's own pages reach `botanu serve`.

A web page the user visits can send requests to a loopback server: with its own name
rebound to 127.0.0.1 (DNS rebinding), or as a cross-site form. Every request must be
addressed (`Host`) to a loopback name or one the operator allowed, and a request that
says it comes from a page (`Origin`) must come from such a name too. Every answer says
`nosniff`; none carries CORS headers, so no other site may read one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import JSONResponse

__all__ = ["LOOPBACK_NAMES", "only_addressed_to"]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def only_addressed_to(app: Any, allowed_hosts: Sequence[str] = ()) -> Any:
    """`app` behind the Host and Origin checks; `allowed_hosts`: names besides loopback
    ones (a proxy's public name), or `*` for any (the proxy checks them)."""
    allowed = {name.strip().lower().strip("[]") for name in allowed_hosts if name.strip()}
    any_host = "*" in allowed

    def is_ours(name: str) -> bool:
        return any_host or name in allowed or _is_loopback(name)

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        problem = _problem(headers, is_ours)
        if problem is not None:
            status, message = problem
            response = JSONResponse({"error": message}, status, _NOSNIFF)
            await response(scope, receive, send)
            return

        async def send_nosniff(message: Any) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", ())}
                if b"x-content-type-options" not in names:
                    message["headers"] = [*message.get("headers", ()), _NOSNIFF_HEADER]
            await send(message)

        await app(scope, receive, send_nosniff)

    return guarded


_NOSNIFF = {"X-Content-Type-Options": "nosniff"}
_NOSNIFF_HEADER = (b"x-content-type-options", b"nosniff")


def _problem(headers: dict[bytes, bytes], is_ours: Any) -> tuple[int, str] | None:
    host = _host_name(headers.get(b"host", b"").decode("latin-1"))
    if host is None or not is_ours(host):
        return 421, "this server answers requests addressed to its own name only"
    origin = headers.get(b"origin")
    if origin is not None:
        origin_host = _origin_name(origin.decode("latin-1"))
        if origin_host is None or not is_ours(origin_host):
            return 403, "requests from other sites' pages are refused"
    return None


def _host_name(value: str) -> str | None:
    """The name of a Host header without its port (None: missing or malformed)."""
    value = value.strip().lower()
    if not value:
        return None
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        return name if bracket and (not rest or rest[1:].isdigit()) else None
    name, _, port = value.partition(":")
    if port and not port.isdigit():
        return None
    return name or None


def _origin_name(value: str) -> str | None:
    """The host of an Origin header (None for `null` or anything not http(s))."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname.lower()


def _is_loopback(name: str) -> bool:
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
