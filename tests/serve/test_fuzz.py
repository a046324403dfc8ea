"""Malformed exports thrown at the decoder and at the endpoint: no crash, no partial write."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from botanu.engine.ingest import OTLPDecodeError, RawSpan
from botanu.engine.service import default_pricer
from botanu.engine.store.duckdb.store import DuckDBStore
from botanu.serve.app import create_app
from botanu.serve.journal import Journal
from botanu.serve.pipeline import Pipeline
from botanu.serve.preparing import KIND_JSON, KIND_PROTOBUF, check_export, decode_export

from .conftest import export

pytestmark = pytest.mark.slow  # a long property run against the receiver

VALID = export(0, 3)
JSON_VALID = json.dumps(
    {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "ab" * 16,
                                "spanId": "cd" * 8,
                                "name": "s",
                                "startTimeUnixNano": "1",
                                "endTimeUnixNano": "2",
                                "attributes": [{"key": "k", "value": {"intValue": "7"}}],
                            }
                        ]
                    }
                ]
            }
        ]
    }
).encode()


@st.composite
def mutated(draw, valid):
    """A valid export with bytes flipped, cut, inserted or spliced."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if action == "flip":
            data[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[at : at + draw(st.integers(1, 8))]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[at:]
    return bytes(data)


JSON_SHAPES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "resourceSpans",
                    "scopeSpans",
                    "spans",
                    "traceId",
                    "spanId",
                    "attributes",
                    "key",
                    "value",
                    "intValue",
                    "startTimeUnixNano",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


def decoded_or_rejected(kind, payload):
    """The export's spans, or None if rejected; the receiver's quick check (all it does
    before acknowledging) agrees: it rejects the same exports and counts the same spans."""
    try:
        count = check_export(kind, payload)
    except OTLPDecodeError:
        count = None
    try:
        spans = decode_export(kind, payload)
    except OTLPDecodeError:
        assert count is None, "checked fine, but decoding it fails"
        return None
    assert count == len(spans)
    assert all(isinstance(span, RawSpan) for span in spans)
    return spans


@settings(max_examples=400, deadline=None)
@given(payload=st.one_of(st.binary(max_size=200), mutated(VALID)))
def test_the_protobuf_decoder_decodes_or_rejects(payload):
    decoded_or_rejected(KIND_PROTOBUF, payload)


@settings(max_examples=400, deadline=None)
@given(
    payload=st.one_of(
        mutated(JSON_VALID),
        JSON_SHAPES.map(lambda doc: json.dumps(doc).encode()),
    )
)
def test_the_json_decoder_decodes_or_rejects(payload):
    decoded_or_rejected(KIND_JSON, payload)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    payload=st.one_of(st.binary(max_size=100), mutated(VALID), mutated(JSON_VALID)),
    content_type=st.sampled_from(["application/x-protobuf", "application/json"]),
)
def test_the_endpoint_answers_and_stores_whole_exports_only(client, payload, content_type):
    http, pipeline = client
    kind = KIND_JSON if content_type == "application/json" else KIND_PROTOBUF
    before = count(pipeline)
    response = http.post("/v1/traces", content=payload, headers={"Content-Type": content_type})
    spans = decoded_or_rejected(kind, payload)
    assert response.status_code == (400 if spans is None else 200)
    assert pipeline.wait_stored()
    new = {(s.trace_id, s.span_id) for s in spans or ()}
    assert count(pipeline) - before <= len(new)  # nothing from a rejected export
    if spans is None:
        assert count(pipeline) == before


def count(pipeline):
    return pipeline.store.reader().query("SELECT count(*) FROM spans").rows[0][0]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    pipeline = Pipeline(
        DuckDBStore(folder / "f.duckdb"),
        Journal(folder / "journal"),
        default_pricer(),
        linger_s=0.0,
    )
    with TestClient(create_app(pipeline), base_url="http://127.0.0.1") as http:
        yield http, pipeline
