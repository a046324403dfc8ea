"""What held before the hardening and must keep holding: gzip bombs, hostile encodings,
odd counts, traversal, a token that never shows up in the server's output. (Statements
other than SELECT, XSS, `kill -9` under load, cross-origin writes and the token check are
pinned in test_served_queries.py, tests/dashboard, tests/serve and test_web_pages.py.)"""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from .conftest import Server, export, request

pytestmark = pytest.mark.slow  # starts botanu serve


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    started = Server(tmp_path_factory.mktemp("held") / "store.duckdb")
    yield started.start()
    started.stop()


def post(url, body, content_type="application/x-protobuf", path="/v1/traces", **headers):
    return request(url, path, body, content_type, timeout=120, **headers)


def get(url, path):
    return request(url, path)


def resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def gzip_bomb(size: int) -> bytes:
    """`size` zero bytes, gzipped, made a MiB at a time (never all in memory)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    parts = [packer.compress(block) for _ in range(size >> 20)]
    return b"".join(parts) + packer.flush()


def test_a_gzip_bomb_is_refused_without_unpacking_it(server):
    assert server.process is not None
    before = resident_kib(server.process.pid)
    status, _ = post(server.url, gzip_bomb(1 << 30), **{"Content-Encoding": "gzip"})
    assert status == 413
    assert resident_kib(server.process.pid) - before < 60 * 1024


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "'
         + b"1" * 5000 + b'"}]}]}]}', "application/json"),
        (b'{"a": ' + b"9" * 5000 + b"}", "application/json"),
        # a string field holding bytes that are not UTF-8
        (b"\x0a\x0a\x12\x08\x12\x06\x2a\x04\xff\xfe\xfd\xfc", "application/x-protobuf"),
        # nesting past what the parser allows
        (b"\x0a\x80\x01" + b"\x0a\x7d" * 60, "application/x-protobuf"),
        (gzip.compress(b"\xff" * 100), "application/x-protobuf"),
    ],
)  # fmt: skip
def test_hostile_encodings_are_a_400(server, body, content_type):
    headers = {"Content-Encoding": "gzip"} if body[:2] == b"\x1f\x8b" else {}
    status, _ = post(server.url, body, content_type, **headers)
    assert status == 400


def test_negative_and_nan_counts_are_stored_as_nothing(server):
    request = ExportTraceServiceRequest.FromString(export(5000, 2))
    first, second = request.resource_spans[0].scope_spans[0].spans
    first.attributes.append(KeyValue(key="gen_ai.usage.input_tokens", value=AnyValue(int_value=-5)))
    second.attributes.append(
        KeyValue(key="gen_ai.usage.output_tokens", value=AnyValue(double_value=float("nan")))
    )
    for span in (first, second):  # the helper's own counts go: only the odd ones remain
        kept = [a for a in span.attributes if not a.key.startswith("gen_ai.usage")]
        odd = [a for a in span.attributes if a.key.startswith("gen_ai.usage")][-1:]
        del span.attributes[:]
        span.attributes.extend([*kept, *odd])
    assert post(server.url, request.SerializeToString())[0] == 200
    server.wait_stored()
    status, body = post(
        server.url,
        json.dumps(
            {
                "sql": "SELECT input_tokens, output_tokens FROM spans WHERE span_id IN "
                "('0000000000001389', '000000000000138a') ORDER BY span_id"
            }
        ).encode(),
        "application/json",
        path="/api/query",
    )
    assert status == 200, body
    assert json.loads(body)["rows"] == [[None, None], [None, None]]


@pytest.mark.parametrize(
    "path",
    ["/runs/..%2f..%2f..%2fetc%2fpasswd", "/../../etc/passwd", "/api/runs/%2e%2e/%2e%2e/etc"],
)
def test_no_path_reaches_a_file(server, path):
    status, body = get(server.url, path)
    assert status in (400, 404)
    assert b"root:" not in body


def test_the_token_never_shows_in_the_servers_output(tmp_path):
    server = Server(tmp_path / "quiet.duckdb", "--token", "t0ken-quiet").start()
    request = urllib.request.Request(
        f"{server.url}/api/status", headers={"Authorization": "Bearer wrong-one"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    refused.value.close()
    output = server.stop()
    assert "t0ken-quiet" not in output
    assert "wrong-one" not in output
