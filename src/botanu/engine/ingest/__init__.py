"""Spans in: decode OTLP payloads and flatten them into typed records."""

from botanu.engine.ingest.normalize import normalize
from botanu.engine.ingest.otlp import (
    OTLPDecodeError,
    RawSpan,
    count_protobuf,
    decode_json,
    decode_protobuf,
    iter_file_payloads,
)

__all__ = [
    "OTLPDecodeError",
    "RawSpan",
    "count_protobuf",
    "decode_json",
    "decode_protobuf",
    "iter_file_payloads",
    "normalize",
]
