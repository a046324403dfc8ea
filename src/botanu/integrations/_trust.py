"""Who may hand an inbound request its run identity, and the baggage header bounded
before OpenTelemetry reads (and logs) it: the parts of the ASGI and WSGI middlewares that
decide what to trust of a caller."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import re
from collections.abc import Mapping, Sequence

from botanu.exceptions import BotanuConfigError

__all__ = [
    "DEFAULT_TRUSTED_SOURCES",
    "MAX_BAGGAGE_BYTES",
    "TRUST_SECRET_HEADER",
    "Trust",
    "bounded_baggage",
]

logger = logging.getLogger("botanu")

# --- who may name a request's run -------------------------------------------------------
ENV_TRUSTED_SOURCES = "BOTANU_TRUSTED_SOURCES"  # comma-separated networks, "*" or "none"
ENV_TRUST_SECRET = "BOTANU_TRUST_SECRET"
TRUST_SECRET_HEADER = "x-botanu-trust"
# loopback and private networks: where a gateway or a sibling service usually calls from
DEFAULT_TRUSTED_SOURCES = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
)
_LOOPBACK = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


class Trust:
    """Who may hand a request its run identity (baggage, identity headers): callers from
    trusted networks, or callers that present the shared secret. Built once per middleware;
    a bad setting raises `BotanuConfigError` there, never on a request."""

    __slots__ = ("everyone", "networks", "secret", "secret_header")

    def __init__(
        self,
        sources: str | Sequence[str] | None,
        secret: str | None,
        secret_header: str = TRUST_SECRET_HEADER,
    ) -> None:
        if secret is None:
            secret = os.environ.get(ENV_TRUST_SECRET, "").strip() or None
        if sources is None:
            from_env = os.environ.get(ENV_TRUSTED_SOURCES, "").strip()
            # with a secret and no networks named, the secret alone decides
            sources = from_env or (() if secret else DEFAULT_TRUSTED_SOURCES)
        entries = _source_entries(sources)
        self.everyone = "*" in entries
        self.networks = tuple(_network(entry) for entry in entries if entry != "*")
        self.secret = secret.encode() if secret else None
        self.secret_header = secret_header.lower()

    def allows(self, client: str | None, headers: Mapping[str, str]) -> bool:
        """Whether a request from address `client` with `headers` may name its run."""
        if self.everyone:
            return True
        if self.secret is not None:
            given = headers.get(self.secret_header)
            # headers arrive as latin-1 text: back to the bytes that were sent
            if given is not None and hmac.compare_digest(
                given.encode("latin-1", "replace"), self.secret
            ):
                return True
        if not self.networks:
            return False
        if not client:  # no address: a Unix socket or an in-process client, a local peer
            return any(a in n for a in _LOOPBACK for n in self.networks)
        try:
            address = ipaddress.ip_address(client)
        except ValueError:  # a socket path or a name: not an address we can place
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)


def _source_entries(sources: str | Sequence[str]) -> list[str]:
    if isinstance(sources, str):
        sources = sources.split(",")
    entries = [str(entry).strip() for entry in sources]
    entries = [entry for entry in entries if entry]
    return [] if [e.lower() for e in entries] == ["none"] else entries


def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        raise BotanuConfigError(
            f"trusted_sources entry {entry!r} is not a network or address "
            '(use "10.0.0.0/8", "192.0.2.7", "*" for everyone, or [] for no one)'
        ) from None


# --- the baggage header, bounded before OpenTelemetry reads (and logs) it -----------------
MAX_BAGGAGE_BYTES = 8192  # the W3C limit; OpenTelemetry drops the whole header above it
_MAX_MEMBER_BYTES = 4096  # OpenTelemetry drops a longer entry
_SHORT_MEMBER = 256  # entries up to this size are left to OpenTelemetry: its logs stay short
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
_PROPERTIES = re.compile(r"[\x20\x09\x21-\x2b\x2d-\x7e]*")


def bounded_baggage(headers: Mapping[str, str]) -> Mapping[str, str]:
    """`headers` without what OpenTelemetry would drop and log whole: a baggage header over
    the W3C limit goes, and so do long entries that are malformed; logged here, briefly."""
    header = headers.get("baggage")
    if header is None or len(header) <= _SHORT_MEMBER:
        return headers
    size = len(header.encode("utf-8", "replace"))
    if size > MAX_BAGGAGE_BYTES:
        logger.debug(
            "botanu: dropped a baggage header of %d bytes (the W3C limit is %d)",
            size,
            MAX_BAGGAGE_BYTES,
        )
        return {name: value for name, value in headers.items() if name != "baggage"}
    members = header.split(",")
    kept = [m for m in members if len(m) <= _SHORT_MEMBER or _well_formed(m)]
    if len(kept) == len(members):
        return headers
    logger.debug("botanu: dropped %d malformed baggage entries", len(members) - len(kept))
    return {**headers, "baggage": ",".join(kept)}


def _well_formed(member: str) -> bool:
    """A W3C baggage list-member (`key=value;properties`) OpenTelemetry would keep."""
    member = member.strip(" \t")
    if not member.isascii() or len(member) > _MAX_MEMBER_BYTES:
        return False
    key, sep, rest = member.partition("=")
    value, _, properties = rest.partition(";")
    return bool(
        sep
        and _TOKEN.fullmatch(key.strip(" \t"))
        and _VALUE.fullmatch(value.strip(" \t"))
        and _PROPERTIES.fullmatch(properties)
    )
