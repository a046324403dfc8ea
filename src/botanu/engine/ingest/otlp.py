"""Decode OTLP trace payloads — protobuf or OTLP/JSON — into flat raw spans.

A payload is decoded whole before anything is returned: a malformed one raises
`OTLPDecodeError` and yields nothing, so a caller never stores half of it.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO, NamedTuple

from botanu.exceptions import FileExportError, OTLPDecodeError

__all__ = [
    "MAX_EXPORT_BYTES",
    "MAX_SPAN_ATTRIBUTES",
    "MAX_VALUE_CHARS",
    "FileExport",
    "FileExportError",
    "OTLPDecodeError",
    "RawSpan",
    "count_protobuf",
    "decode_json",
    "decode_protobuf",
    "iter_file_exports",
    "iter_file_payloads",
]

# Attributes kept per span (and per resource): OpenTelemetry's default limit. Applied as
# a span is decoded, so a span of 100k keys costs what one of 128 does; botanu's own
# keys are kept first.
MAX_SPAN_ATTRIBUTES = 128
# Characters kept of a text value or span name: ids, model names and counts are far
# shorter; a prompt kept as an attribute is cut (the store is for costs, not transcripts).
MAX_VALUE_CHARS = 4096
# Nesting kept in an attribute value (arrays and maps inside arrays and maps)
MAX_VALUE_DEPTH = 16

_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
_STATUS = ("unset", "ok", "error")


class RawSpan(NamedTuple):
    """One span as OTLP carries it, attributes turned into plain Python values. A tuple,
    so a batch of them turns into columns in one `zip`."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status_code: str
    attributes: dict[str, Any]
    resource: dict[str, Any]


# --- protobuf --------------------------------------------------------------------------------


def decode_protobuf(payload: bytes) -> list[RawSpan]:
    """Spans of one binary `ExportTraceServiceRequest`."""
    spans: list[RawSpan] = []
    for resource_spans in _parsed(payload).resource_spans:
        resource = _pb_attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    RawSpan(
                        trace_id=_pb_id(span.trace_id, 16, "traceId"),
                        span_id=_pb_id(span.span_id, 8, "spanId"),
                        parent_span_id=span.parent_span_id.hex() or None,
                        name=_cut(span.name),
                        kind=_enum(_KINDS, span.kind),
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        status_code=_enum(_STATUS, span.status.code),
                        attributes=_pb_attributes(span.attributes),
                        resource=resource,
                    )
                )
    return spans


def count_protobuf(payload: bytes) -> int:
    """How many spans `decode_protobuf(payload)` gives, checked the same way (raises
    OTLPDecodeError exactly when it does) without making their values: ~8x quicker, for
    a receiver that decodes the spans later, elsewhere."""
    count = 0
    for resource_spans in _parsed(payload).resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                _check_id(span.trace_id, 16, "traceId")
                _check_id(span.span_id, 8, "spanId")
                count += 1
    return count


def _parsed(payload: bytes) -> Any:
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(payload)
    except DecodeError as exc:
        raise OTLPDecodeError(f"not an OTLP protobuf trace export: {exc}") from None
    return request


def _pb_id(raw: bytes, size: int, what: str) -> str:
    _check_id(raw, size, what)
    return raw.hex()


def _check_id(raw: bytes, size: int, what: str) -> None:
    if len(raw) != size or not any(raw):
        raise OTLPDecodeError(f"span has an invalid {what} ({len(raw)} bytes)")


_PB_SCALARS = frozenset(("string_value", "int_value", "double_value", "bool_value"))


def _pb_attributes(items: Any) -> dict[str, Any]:
    """`{key: _pb_value(value)}`, with the scalar case inline (the hot loop of decoding),
    within the limits (`MAX_SPAN_ATTRIBUTES`, `MAX_VALUE_CHARS`)."""
    if len(items) > MAX_SPAN_ATTRIBUTES:
        return _limited([(kv.key, kv.value) for kv in items], _pb_value)
    attributes = {}
    long = False
    for kv in items:
        value = kv.value
        which = value.WhichOneof("value")
        if which == "string_value":
            text = attributes[kv.key] = value.string_value
            long = long or len(text) > MAX_VALUE_CHARS
        else:
            attributes[kv.key] = getattr(value, which) if which in _PB_SCALARS else _pb_value(value)
    return _cut_values(attributes) if long else attributes


def _pb_value(value: Any) -> Any:
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_pb_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _pb_value(kv.value) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return value.bytes_value[: MAX_VALUE_CHARS // 2].hex()
    if which == "string_value":
        return _cut(value.string_value)
    return getattr(value, which)


# --- limits ----------------------------------------------------------------------------------


def _limited(items: list[tuple[Any, Any]], convert: Callable[[Any], Any]) -> dict[str, Any]:
    """The first `MAX_SPAN_ATTRIBUTES` of a span's (key, raw value) items, botanu's own
    keys first; the count left out goes in the note attribute. Only kept values are
    converted."""
    known = _known_keys()
    kept = [item for item in items if item[0] in known]
    known_kept = {key for key, _ in kept}
    for item in items:
        if len(kept) >= MAX_SPAN_ATTRIBUTES:
            break
        if item[0] not in known_kept:
            kept.append(item)
    kept = kept[:MAX_SPAN_ATTRIBUTES]
    attributes = {_text(key): convert(value) for key, value in kept}
    dropped = len(items) - len(attributes)
    note = f"{dropped} attributes dropped: beyond {MAX_SPAN_ATTRIBUTES} a span"
    attributes[_NOTE] = note
    return _cut_values(attributes)


def _cut_values(attributes: dict[str, Any]) -> dict[str, Any]:
    """The attributes with every text value cut to `MAX_VALUE_CHARS`."""
    return {k: _cut(v) if isinstance(v, str) else v for k, v in attributes.items()}


def _cut(text: str) -> str:
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS]


_NOTE = "botanu.ingest.note"  # semconv.INGEST_NOTE (the decoder imports nothing of botanu)
_known: list[frozenset[str]] = []


def _known_keys() -> frozenset[str]:
    """Every attribute name botanu reads (semconv's names), kept first when a span has
    too many attributes."""
    if not _known:
        from botanu import semconv

        names = (getattr(semconv, name) for name in dir(semconv) if name.isupper())
        _known.append(frozenset(n for n in names if isinstance(n, str)))
    return _known[0]


# --- OTLP/JSON -------------------------------------------------------------------------------


def decode_json(payload: str | bytes | Mapping[str, Any]) -> list[RawSpan]:
    """Spans of one OTLP/JSON `ExportTraceServiceRequest` (ids in hex, as OTLP/JSON has them)."""
    if isinstance(payload, Mapping):
        document: Any = payload
    else:
        try:
            document = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise OTLPDecodeError(f"not JSON: {exc}") from None
        except RecursionError:
            raise OTLPDecodeError("not an OTLP/JSON trace export: nested too deep") from None
        if _has_surrogates(payload):
            document = _whole_text(document)
    try:
        return list(_json_spans(document))
    except OTLPDecodeError:
        raise
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise OTLPDecodeError(f"not an OTLP/JSON trace export: {exc!r}") from None
    except RecursionError:
        raise OTLPDecodeError("not an OTLP/JSON trace export: nested too deep") from None


# a \uD800-\uDFFF escape: JSON may carry a lone surrogate, which no UTF-8 text holds
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_TEXT = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_surrogates(payload: str | bytes) -> bool:
    """Whether the JSON text may hold a surrogate (escaped, or in a str as it is)."""
    if isinstance(payload, bytes):
        return _SURROGATE_ESCAPE.search(payload) is not None
    return bool(_SURROGATE_ESCAPE_TEXT.search(payload) or _SURROGATE.search(payload))


def _whole_text(value: Any) -> Any:
    """The document with each lone surrogate replaced by U+FFFD (json.loads pairs the
    valid ones, so only lone ones are left)."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_whole_text(v) for v in value]
    if isinstance(value, dict):
        return {_whole_text(k): _whole_text(v) for k, v in value.items()}
    return value


def _json_spans(document: Any) -> Iterator[RawSpan]:
    if not isinstance(document, dict) or not isinstance(document.get("resourceSpans"), list):
        raise OTLPDecodeError("an OTLP/JSON trace export needs a 'resourceSpans' list")
    for resource_spans in document["resourceSpans"]:
        resource = _json_attributes((resource_spans.get("resource") or {}).get("attributes"))
        for scope_spans in resource_spans.get("scopeSpans") or ():
            for span in scope_spans.get("spans") or ():
                status = span.get("status") or {}
                yield RawSpan(
                    trace_id=_json_id(span.get("traceId"), 16, "traceId"),
                    span_id=_json_id(span.get("spanId"), 8, "spanId"),
                    parent_span_id=_json_parent(span.get("parentSpanId")),
                    name=_cut(_text(span.get("name", ""))),
                    kind=_json_enum(_KINDS, span.get("kind", 0), "SPAN_KIND_"),
                    start_ns=int(span.get("startTimeUnixNano", 0)),
                    end_ns=int(span.get("endTimeUnixNano", 0)),
                    status_code=_json_enum(_STATUS, status.get("code", 0), "STATUS_CODE_"),
                    attributes=_json_attributes(span.get("attributes")),
                    resource=resource,
                )


def _json_id(value: Any, size: int, what: str) -> str:
    if not isinstance(value, str):
        raise OTLPDecodeError(f"span has no {what}")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        try:  # some exporters write ids base64-encoded, as protobuf's JSON mapping does
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise OTLPDecodeError(f"span has an unreadable {what} {value[:40]!r}") from None
    if len(raw) != size or not any(raw):
        raise OTLPDecodeError(f"span has an invalid {what} {value[:40]!r}")
    return raw.hex()


def _json_parent(value: Any) -> str | None:
    if not value:
        return None
    return _json_id(value, 8, "parentSpanId")


def _json_attributes(items: Any, depth: int = 0) -> dict[str, Any]:
    if not items:
        return {}
    if len(items) > MAX_SPAN_ATTRIBUTES and depth == 0:
        pairs = [(item["key"], item.get("value") or {}) for item in items]
        return _limited(pairs, _json_value)
    return {_text(item["key"]): _json_value(item.get("value") or {}, depth) for item in items}


def _json_value(value: Mapping[str, Any], depth: int = 0) -> Any:
    if depth > MAX_VALUE_DEPTH:
        raise OTLPDecodeError(f"an attribute value nested deeper than {MAX_VALUE_DEPTH}")
    for key, raw in value.items():
        convert = _JSON_VALUES.get(key)
        if convert is not None:
            return convert(raw, depth)
    return None


def _json_text(raw: Any, depth: int) -> str:
    return _cut(_text(raw))


def _json_enum(names: tuple[str, ...], value: Any, prefix: str) -> str:
    if isinstance(value, str):
        name = value.removeprefix(prefix).lower()
        if name in names:
            return name
        raise OTLPDecodeError(f"unknown enum value {value!r}")
    return _enum(names, int(value))


def _enum(names: tuple[str, ...], value: int) -> str:
    return names[value] if 0 <= value < len(names) else names[0]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise OTLPDecodeError(f"expected a string, got {type(value).__name__}")
    return value


_JSON_VALUES: dict[str, Callable[[Any, int], Any]] = {
    "stringValue": _json_text,
    "intValue": lambda raw, depth: int(raw),  # OTLP/JSON writes 64-bit integers as strings
    "doubleValue": lambda raw, depth: float(raw),
    "boolValue": lambda raw, depth: bool(raw),
    "arrayValue": lambda raw, depth: [
        _json_value(v, depth + 1) for v in (raw or {}).get("values") or ()
    ],
    "kvlistValue": lambda raw, depth: _json_attributes((raw or {}).get("values"), depth + 1),
    "bytesValue": lambda raw, depth: _cut(base64.b64decode(raw).hex()),
}


# --- files -----------------------------------------------------------------------------------


def iter_file_payloads(
    source: bytes | BinaryIO, max_export_bytes: int | None = None
) -> Iterator[list[RawSpan]]:
    """The exports in a file (its bytes or an open binary file): OTLP/JSON, one export per
    line as the Collector's file exporter writes them or one document, or one binary
    protobuf export. Read an export at a time, as `iter_file_exports` tells."""
    for file_export in iter_file_exports(source, max_export_bytes):
        yield file_export.spans


# --- files, streamed -------------------------------------------------------------------------

# The largest export a file may hold on one line, or whole as one document or protobuf
# export: the largest body `botanu serve` accepts by default, so a file holds no export the
# server would refuse, and reading one never takes more memory than that.
MAX_EXPORT_BYTES = 16 * 1024 * 1024


class FileExport(NamedTuple):
    """One export of a file: the line it starts on (None in protobuf), its size in bytes
    and its spans."""

    line: int | None
    size: int
    spans: list[RawSpan]


def iter_file_exports(
    source: bytes | BinaryIO, max_export_bytes: int | None = None
) -> Iterator[FileExport]:
    """The exports of a file in order, each decoded whole before it is yielded, one held
    at a time. JSON lines stream; a JSON document over several lines and a protobuf export
    are read whole, within `max_export_bytes` (default `MAX_EXPORT_BYTES`). Raises
    `FileExportError` at the first bad or oversized export, after the ones before it."""
    limit = MAX_EXPORT_BYTES if max_export_bytes is None else max_export_bytes
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    # Blank lines before the first export are kept: a protobuf export may start with them
    # (its first byte, the tag of field 1, is a newline).
    head: list[bytes] = []
    size = number = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        head.append(line)
        size += len(line)
        if line.strip():
            break
        if size > limit:
            raise FileExportError(number, f"no export in the first {_mib(limit)}")
    if not line.lstrip().startswith(b"{"):
        yield _whole_protobuf(b"".join(head) + stream.read(max(0, limit + 1 - size)), limit)
    elif len(line.rstrip(b"\r\n")) <= limit and _is_json(line):
        yield from _json_lines(stream, line, number, limit)
    else:
        data = b"".join(head) + stream.read(max(0, limit + 1 - size))
        yield _whole_json(data, line, number, limit)


def _json_lines(stream: BinaryIO, line: bytes, number: int, limit: int) -> Iterator[FileExport]:
    """One OTLP/JSON export per line, from `line` (line `number`) on."""
    while line:
        if len(line.rstrip(b"\r\n")) > limit:
            raise FileExportError(number, f"an export longer than {_mib(limit)} on one line")
        body = line.strip()
        if body:
            try:
                spans = decode_json(body)
            except OTLPDecodeError as exc:
                raise FileExportError(number, str(exc)) from None
            yield FileExport(number, len(body), spans)
        line = stream.readline(limit + 1)
        number += 1


def _whole_json(data: bytes, first: bytes, number: int, limit: int) -> FileExport:
    """A file whose first line is not JSON alone: one document over several lines."""
    if len(data) > limit:
        if len(first.rstrip(b"\r\n")) > limit:
            raise FileExportError(number, f"an export longer than {_mib(limit)} on one line")
        raise FileExportError(
            number,
            f"{_json_problem(first)}; nor is the file one OTLP/JSON document of at most "
            f"{_mib(limit)} (write one export per line, which is read a line at a time)",
        )
    try:
        return FileExport(number, len(data), decode_json(data))
    except OTLPDecodeError as exc:
        # a JSON document of the wrong shape says why; text that is not JSON says where
        problem = str(exc) if _is_json(data) else _json_problem(first)
        raise FileExportError(number, problem) from None


def _whole_protobuf(data: bytes, limit: int) -> FileExport:
    if len(data) > limit:
        raise FileExportError(
            None,
            f"more than {_mib(limit)} and not JSON: too big for one protobuf export "
            "(write OTLP/JSON lines, which are read a line at a time)",
        )
    try:
        return FileExport(None, len(data), decode_protobuf(data))
    except OTLPDecodeError as exc:
        raise FileExportError(None, str(exc)) from None


def _is_json(text: bytes) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _json_problem(line: bytes) -> str:
    try:
        json.loads(line)
    except (ValueError, RecursionError) as exc:
        return f"not JSON: {exc}"
    return "not JSON"


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"
