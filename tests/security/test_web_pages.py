"""Only the user's own pages reach `botanu serve`: a page rebinding its name to 127.0.0.1,
or a cross-site form, gets nothing; answers carry `nosniff` and no CORS headers."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest
from tests.serve.conftest import AppServer

from .conftest import export


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    started = AppServer(tmp_path_factory.mktemp("pages") / "store.duckdb")
    yield started.start()
    started.stop()


def request(url, method, path, body=None, **headers):
    """A raw request, so Host and Origin are exactly what a browser would send."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        headers.setdefault("Host", parts.netloc)
        for name, value in headers.items():
            connection.putheader(name.replace("_", "-"), value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


QUERY = json.dumps({"sql": "SELECT 1 AS one"}).encode()


@pytest.mark.parametrize("path", ["/", "/runs", "/api/overview", "/api/status"])
@pytest.mark.parametrize("host", ["rebound.example:4318", "attacker.test", "127.0.0.1.nip.io"])
def test_a_rebound_name_reads_nothing(server, path, host):
    status, _, body = request(server.url, "GET", path, Host=host)
    assert status == 421
    assert b"botanu" not in body.lower() or b"own name" in body


@pytest.mark.parametrize("host", ["rebound.example", "attacker.test:1"])
def test_a_rebound_name_runs_no_query_and_sends_no_spans(server, host):
    status, _, _ = request(
        server.url, "POST", "/api/query", QUERY, Host=host, Content_Type="application/json"
    )
    assert status == 421
    status, _, _ = request(
        server.url,
        "POST",
        "/v1/traces",
        export(0, 1),
        Host=host,
        Content_Type="application/x-protobuf",
    )
    assert status == 421


def test_a_missing_host_is_refused(server):
    status, _, _ = request(server.url, "GET", "/api/status", Host="")
    assert status == 421


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_loopback_names_are_served(server, host):
    port = urlsplit(server.url).port
    status, _, _ = request(server.url, "GET", "/api/status", Host=f"{host}:{port}")
    assert status == 200


def test_a_cross_site_text_plain_form_runs_no_statement(server):
    # what an auto-submitting <form enctype="text/plain"> on another site sends
    body = b'{"sql": "SELECT 1 AS one", "x": "="}'
    status, _, _ = request(
        server.url, "POST", "/api/query", body, Content_Type="text/plain", Origin="null"
    )
    assert status in (403, 415)
    status, _, _ = request(server.url, "POST", "/api/query", body, Content_Type="text/plain")
    assert status == 415


@pytest.mark.parametrize("origin", ["https://attacker.test", "null", "http://evil.localhost.test"])
def test_a_foreign_origin_is_refused(server, origin):
    status, _, _ = request(
        server.url, "POST", "/api/query", QUERY, Content_Type="application/json", Origin=origin
    )
    assert status == 403
    status, _, _ = request(
        server.url,
        "POST",
        "/v1/traces",
        export(0, 1),
        Content_Type="application/x-protobuf",
        Origin=origin,
    )
    assert status == 403


def test_the_users_own_page_still_queries(server):
    status, headers, body = request(
        server.url, "POST", "/api/query", QUERY, Content_Type="application/json", Origin=server.url
    )
    assert status == 200, body
    assert json.loads(body)["rows"] == [[1]]
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("GET", "/api/status"), ("POST", "/api/query"), ("GET", "/nowhere")],
)
def test_every_answer_is_nosniff_without_cors(server, method, path):
    body = QUERY if method == "POST" else None
    status, headers, _ = request(server.url, method, path, body, Content_Type="application/json")
    assert status < 500
    names = {name.lower() for name in headers}
    assert headers.get("x-content-type-options", headers.get("X-Content-Type-Options")) == (
        "nosniff"
    )
    assert not any(name.startswith("access-control-") for name in names)


def test_a_valuation_is_written_only_by_the_users_own_tools(server):
    body = json.dumps({"value_per_unit": "1", "currency": "USD"}).encode()
    path = "/api/valuations/tickets"
    for origin in ("https://attacker.test", "null"):
        status, _, _ = request(
            server.url, "PUT", path, body, Content_Type="application/json", Origin=origin
        )
        assert status == 403
    status, _, _ = request(server.url, "PUT", path, body, Content_Type="text/plain")
    assert status == 415
    status, _, _ = request(server.url, "PUT", path, body, Content_Type="application/json")
    assert status == 200
    status, _, answer = request(server.url, "DELETE", path)
    assert (status, json.loads(answer)) == (200, {"removed": True})
