"""`botanu serve` as users run it: a real server process, real OTLP from the SDK's own
exporter in several processes, the CLI reading through the server while it owns the store."""

from __future__ import annotations

import gzip
import http.client
import json
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner

from botanu.cli.main import cli
from botanu.engine.store import open_store

from .conftest import export

APP = textwrap.dedent(
    """
    import sys
    import botanu
    from botanu import botanu_workflow, emit_outcome
    from botanu.tracking.llm import track_llm_call

    botanu.enable(service_name=f"worker-{sys.argv[1]}")  # the default OTLP endpoint

    @botanu_workflow("resolve-ticket", event_id=lambda n: f"{sys.argv[1]}-{n}", customer_id="acme")
    def resolve(n):
        with track_llm_call(provider="openai", model="gpt-4o-mini") as call:
            call.set_tokens(input_tokens=1000, output_tokens=100)
        emit_outcome("success" if n % 4 else "failed")

    for n in range(40):
        resolve(n)
    botanu.disable()
    """
)


def post(url, body, content_type="application/x-protobuf", **headers):
    request = urllib.request.Request(
        f"{url}/v1/traces",
        data=body,
        method="POST",
        headers={"Content-Type": content_type, **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def cli_json(store, *args):
    result = CliRunner().invoke(cli, ["--store", str(store), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_spans_from_several_processes_are_priced_and_read_through_the_server(
    server_factory, tmp_path
):
    server = server_factory()
    script = tmp_path / "app.py"
    script.write_text(APP)
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": server.url, "PATH": "/usr/bin:/bin"}
    workers = [subprocess.Popen([sys.executable, str(script), str(n)], env=env) for n in range(3)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0]
    status = server.wait_stored()
    assert status["stored_spans"] == 3 * 40 * 2  # a run span and an LLM span per ticket

    # the store file is the server's: the CLI's read commands ask it
    report = cli_json(server.store, "report")
    (row,) = report["rows"]
    assert row["key"] == "resolve-ticket"
    assert (row["events"], row["successful_events"]) == (120, 90)
    # gpt-4o-mini: $0.15 / $0.60 per million tokens -> 1000 in + 100 out = $0.00021 a call
    assert row["total_cost"] == "0.0252"
    served = cli_json(server.store, "sql", "SELECT count(DISTINCT service_name) AS n FROM spans")
    assert served == [{"n": 3}]
    refused = CliRunner().invoke(cli, ["--store", str(server.store), "ingest", str(script)])
    assert refused.exit_code != 0
    assert "owns this store" in refused.output

    server.stop()  # SIGTERM: everything acknowledged is stored, the store closed
    with open_store(str(server.store)) as store:
        assert store.query("SELECT count(*) FROM spans").rows == [(240,)]


def test_gzip_json_and_malformed_exports(app_server):
    server = app_server()
    assert post(server.url, gzip.compress(export(0, 8)), **{"Content-Encoding": "gzip"})[0] == 200
    document = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "ab" * 16,
                                "spanId": "cd" * 8,
                                "name": "json span",
                                "startTimeUnixNano": "1793534400000000000",
                                "endTimeUnixNano": "1793534400000000500",
                            }
                        ]
                    }
                ]
            }
        ]
    }
    assert post(server.url, json.dumps(document).encode(), "application/json") == (200, b"{}")

    bad = [
        (b"\x0a\xff\xff\xff garbage", "application/x-protobuf", {}, 400),
        (b'{"resourceSpans": 3}', "application/json", {}, 400),
        (b"{not json", "application/json", {}, 400),
        (b"hello", "text/plain", {}, 415),
        (b"\x1f\x8b broken gzip", "application/x-protobuf", {"Content-Encoding": "gzip"}, 400),
        (export(0, 1), "application/x-protobuf", {"Content-Encoding": "br"}, 415),
        (
            gzip.compress(b"\0" * (17 * 1024 * 1024)),
            "application/x-protobuf",
            {"Content-Encoding": "gzip"},
            413,
        ),
    ]
    for body, content_type, headers, expected in bad:
        status, answer = post(server.url, body, content_type, **headers)
        assert status == expected, (content_type, headers, answer[:200])
    # a declared size over the limit is refused before the body is read
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/v1/traces")
    connection.putheader("Content-Type", "application/x-protobuf")
    connection.putheader("Content-Length", str(17 * 1024 * 1024))
    connection.endheaders()
    assert connection.getresponse().status == 413
    connection.close()

    status = server.wait_stored()
    assert status["stored_spans"] == 9  # only the good exports, whole
    server.stop()
    with open_store(str(server.store)) as store:
        assert store.query("SELECT count(*) FROM spans").rows == [(9,)]


def test_beyond_loopback_needs_a_token_and_a_token_is_checked(app_server, tmp_path):
    result = CliRunner().invoke(
        cli, ["--store", str(tmp_path / "x.duckdb"), "serve", "--host", "0.0.0.0"]
    )
    assert result.exit_code != 0
    assert "token" in result.output

    server = app_server(tmp_path / "t.duckdb", token="s3cret")
    assert post(server.url, export(0, 4))[0] == 401
    assert post(server.url, export(0, 4), Authorization="Bearer wrong")[0] == 401
    assert post(server.url, export(0, 4), Authorization="Bearer s3cret")[0] == 200


@pytest.mark.parametrize("statement", ["DELETE FROM span_rows", "SELECT 1; SELECT 2", "SELEC 1"])
def test_the_query_endpoint_only_reads(app_server, statement):
    server = app_server()
    request = urllib.request.Request(
        f"{server.url}/api/query",
        data=json.dumps({"sql": statement}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=30)
    assert error.value.code == 400
    error.value.close()
