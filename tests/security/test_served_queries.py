"""`POST /api/query` and the dashboard read the store and nothing else, within bounds:
no file, URL, glob, extension or setting; a time limit, a row cap and a limit on queries
running at once; ingest keeps answering and SIGTERM ends the server whatever runs."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from tests.serve.conftest import AppServer

from .conftest import export, request


def query(url, sql, *, timeout=60, content_type="application/json", **headers):
    body = json.dumps({"sql": sql}).encode()
    status, answer = request(url, "/api/query", body, content_type, timeout, **headers)
    try:
        return status, json.loads(answer)
    except ValueError:
        return status, {"error": answer.decode(errors="replace")}


def post_traces(url, body):
    return request(url, "/v1/traces", body)[0]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the whole module: no test here writes what another reads."""
    started = AppServer(tmp_path_factory.mktemp("served") / "store.duckdb", query_timeout_s=3.0)
    yield started.start()
    started.stop()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT content FROM read_text('/etc/passwd')",
        "SELECT content FROM read_text('/proc/self/environ')",
        "SELECT * FROM glob('/root/*')",
        "SELECT * FROM glob('/*')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_blob('/etc/hostname')",
        "SELECT * FROM read_parquet('/tmp/x.parquet')",
        "SELECT * FROM read_json_auto('/etc/os-release')",
        "SELECT * FROM 'SECRET.csv'",
        "SELECT * FROM checkpoint()",
        "SELECT * FROM duckdb_settings()",
        "SELECT * FROM duckdb_extensions()",
        "SELECT * FROM query('SELECT 42')",
        "SELECT * FROM spans, read_text('/etc/passwd')",
        "WITH t AS (SELECT * FROM read_text('/etc/passwd')) SELECT * FROM t",
        "SELECT (SELECT content FROM read_text('/etc/passwd'))",
        "SELECT * FROM sqlite_scan('/x.db', 't')",
    ],
)
def test_a_query_cannot_read_the_machine(server, tmp_path, sql):
    secret = tmp_path / "SECRET.csv"
    secret.write_text("password\nhunter2\n")
    sql = sql.replace("SECRET.csv", str(secret))
    status, answer = query(server.url, sql)
    assert status == 400, answer
    text = json.dumps(answer)
    for secret_text in ("root:", "hunter2", "PATH="):
        assert secret_text not in text


def test_no_statement_reaches_another_server(server):
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"a\n1\n")

        def log_message(self, *args):
            pass

    with http.server.HTTPServer(("127.0.0.1", 0), Handler) as listener:
        thread = threading.Thread(target=listener.serve_forever, daemon=True)
        thread.start()
        port = listener.server_address[1]
        for sql in (
            f"SELECT * FROM read_csv('http://127.0.0.1:{port}/x.csv')",
            f"SELECT * FROM 'http://127.0.0.1:{port}/y.csv'",
            "INSTALL httpfs",
            "LOAD httpfs",
            "SET enable_external_access = true",
            "ATTACH '/tmp/other.duckdb'",
            "DELETE FROM span_rows",
            "DROP TABLE span_rows",
            "CREATE TABLE x AS SELECT 1",
            "UPDATE span_rows SET amount = 0",
            "COPY span_rows TO '/tmp/out.csv'",
            "CHECKPOINT",
            "PRAGMA version",
        ):
            status, answer = query(server.url, sql)
            assert status == 400, (sql, answer)
        listener.shutdown()
    assert hits == []


def test_the_store_itself_is_still_read(server):
    assert post_traces(server.url, export(1000, 8)) == 200
    server.wait_stored()
    where = "WHERE span_id = '00000000000003e9'"  # the first span of this export
    status, answer = query(server.url, f"SELECT count(*) AS n FROM spans {where}")
    assert (status, answer["rows"]) == (200, [[1]])
    status, answer = query(
        server.url, f"WITH s AS (SELECT * FROM spans {where}) SELECT count(*) FROM s, range(3)"
    )
    assert (status, answer["rows"]) == (200, [[3]])


def test_a_huge_answer_is_cut_at_the_row_cap(server):
    status, answer = query(server.url, "SELECT * FROM range(1000000000) t(i)")
    assert status == 200
    assert answer["truncated"] is True
    assert 0 < len(answer["rows"]) <= 100_000


def test_a_long_query_is_ended_by_the_time_limit(server):
    status, answer = query(
        server.url, "SELECT count(*) FROM range(100000000000) a(i) WHERE i % 7 = 3", timeout=120
    )
    assert status == 400, answer
    assert "time limit" in answer["error"]
    # the server answers again at once
    assert query(server.url, "SELECT 1 AS one")[1]["rows"] == [[1]]


def test_queries_past_the_limit_are_refused_and_ingest_keeps_answering(server):
    heavy = "SELECT count(*) FROM range(100000000000) a(i) WHERE i % 7 = 3"
    with ThreadPoolExecutor(12) as pool:
        answers = [pool.submit(query, server.url, heavy, timeout=120) for _ in range(12)]
        time.sleep(0.5)
        # while the heavy queries run, exports are still taken and the dashboard answers
        assert post_traces(server.url, export(100, 8)) == 200
        for page in ("/api/status", "/api/overview", "/"):
            with urllib.request.urlopen(f"{server.url}{page}", timeout=60) as response:
                assert response.status == 200
        statuses = [future.result()[0] for future in answers]
    assert statuses.count(503) >= 1, statuses
    assert set(statuses) <= {400, 503}, statuses
    server.wait_stored()


def test_sigterm_ends_the_server_while_a_query_runs(server_factory, tmp_path):
    server = server_factory(tmp_path / "store.duckdb", "--query-timeout", "600")
    heavy = "SELECT count(*) FROM range(100000000000) a(i) WHERE i % 7 = 3"
    with ThreadPoolExecutor(2) as pool:
        pending = pool.submit(query, server.url, heavy, timeout=120)
        time.sleep(1.0)
        process = server.process
        assert process is not None
        process.terminate()
        process.communicate(timeout=10)  # the bound the server promises, not a measurement
        server.process = None
        # the connection closed under it: what a client of a stopped server sees
        with contextlib.suppress(OSError):
            pending.result()


def test_the_cli_says_when_the_server_cut_its_answer(server, caplog):
    from botanu.engine.store.remote import RemoteStore

    with caplog.at_level("WARNING", logger="botanu"):
        result = RemoteStore(server.url).query("SELECT i FROM range(100001) t(i)")
    assert len(result.rows) == 100_000
    assert "first 100000 rows only" in caplog.text
