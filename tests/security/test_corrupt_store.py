"""A store whose DuckDB blocks are damaged under a real `botanu serve`: the server starts
and says so, refuses exports (503) once a write fails and keeps the acknowledged ones in
the journal, and stores each exactly once after the file is repaired. Every dashboard page
says the store cannot be written, and a page whose read fails is an error page, never a
bare "Internal Server Error"; a page when too many queries run is a 503 page."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request

import duckdb
import pytest
import uvicorn

from .conftest import Server, export

pytestmark = pytest.mark.slow  # starts botanu serve on damaged stores

SPANS = 8
# exports stored before the damage: the first and the last number spread their start
# times wide, so every later export falls inside the stored time window (a write then
# reads the stored rows to skip duplicates)
STORED = (0, 8, 9_000)
PAGES = (
    "/",
    "/workflows",
    "/customers",
    "/tenants",
    "/runs",
    "/runs/run-0",
    "/unpriced",
    "/prices",
    "/prices?provider=openai&model=gpt-4o-mini",
)
TWINS = (
    "/api/overview",
    "/api/report",
    "/api/runs",
    "/api/runs/run-0",
    "/api/unpriced",
    "/api/prices?provider=openai&model=gpt-4o-mini",
)


def send(url, first):
    request = urllib.request.Request(
        f"{url}/v1/traces",
        data=export(first, SPANS),
        method="POST",
        headers={"Content-Type": "application/x-protobuf"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        with error:
            return error.code


def get(url):
    """Status, headers and body text of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read().decode()


@pytest.fixture(scope="module")
def good_store(tmp_path_factory):
    """A store a real server wrote and closed: the backup the tests repair from."""
    path = tmp_path_factory.mktemp("good") / "store.duckdb"
    server = Server(path, "--workers", "0").start()
    try:
        for first in STORED:
            assert send(server.url, first) == 200
        server.wait_stored()
    finally:
        server.stop()
    return path


def damaged_copy(good, path):
    """`good` copied to `path` with every block damaged but the database's metadata and
    the migrations table (so it still opens): each damaged block fails its checksum."""
    shutil.copy(good, path)
    with duckdb.connect(str(path), read_only=True) as con:
        block_size, blocks = con.execute(
            "SELECT block_size, total_blocks FROM pragma_database_size()"
        ).fetchone()
        kept = con.execute(
            "SELECT block_id FROM pragma_metadata_info() UNION "
            "SELECT block_id FROM pragma_storage_info('botanu_migrations') WHERE block_id >= 0"
        ).fetchall()
    keep = {row[0] for row in kept}
    header = path.stat().st_size - blocks * block_size  # the file's header blocks
    damaged = [block for block in range(blocks) if block not in keep]
    assert damaged
    with open(path, "r+b") as handle:
        for block in damaged:
            handle.seek(header + block * block_size + 8)  # past the block's checksum
            handle.write(b"\xa5" * (block_size - 8))
    return path


def stored_span_ids(path):
    with duckdb.connect(str(path), read_only=True) as con:
        return [row[0] for row in con.execute("SELECT span_id FROM span_rows").fetchall()]


def span_ids(firsts):
    return {f"{first + i + 1:016x}" for first in firsts for i in range(SPANS)}


def send_until_refused(server, first, most=40):
    """Exports from `first` on until one is refused; returns the acknowledged ones."""
    acked = []
    for n in range(most):
        number = first + n * SPANS
        if send(server.url, number) != 200:
            break
        acked.append(number)
        time.sleep(0.2)
    return acked


def test_a_damaged_store_loses_no_acknowledged_export(good_store, tmp_path):
    store = damaged_copy(good_store, tmp_path / "store.duckdb")
    server = Server(store, "--workers", "0").start()
    try:
        acked = send_until_refused(server, 16)
    finally:
        server.stop()

    # repaired: the backup put back while the server is stopped (its log goes with it)
    shutil.copy(good_store, store)
    (tmp_path / "store.duckdb.wal").unlink(missing_ok=True)
    server = Server(store, "--workers", "0").start()
    try:
        server.wait_stored()
        assert send(server.url, 5_000) == 200  # and takes new exports again
        server.wait_stored()
    finally:
        output = server.stop()
    assert "cannot be read or written" not in output, output  # the good copy looks fine

    ids = stored_span_ids(store)
    assert len(ids) == len(set(ids))  # each once
    assert set(ids) == span_ids((*STORED, *acked, 5_000))
    rejected = tmp_path / "store.duckdb.journal" / "rejected.jsonl"
    assert not rejected.exists() or not rejected.read_text().strip()  # nothing set aside


def test_health_says_a_damaged_store_cannot_be_written(good_store, tmp_path):
    store = damaged_copy(good_store, tmp_path / "store.duckdb")
    server = Server(store, "--workers", "0").start()
    try:
        acked = send_until_refused(server, 16)
        assert acked, "the first export is journaled before any write fails"
        status = server.status()
        assert status["store_writable"] is False, status
        assert status["store_problem"]

        for path in PAGES:
            code, headers, body = get(server.url + path)
            assert code in (200, 404, 500), (path, code)
            assert "<nav" in body, (path, body[:300])
            assert "The store cannot be written" in body, (path, body[:300])
            if code == 500:
                assert "could not be read" in body, (path, body[:300])
            assert headers["Content-Security-Policy"]
        for path in TWINS:
            code, headers, body = get(server.url + path)
            assert headers["Content-Type"].startswith("application/json"), (path, body[:200])
            answer = json.loads(body)
            if code != 200:
                assert code in (404, 500), (path, code, answer)
                assert answer["error"], (path, answer)
    finally:
        output = server.stop()
    assert "cannot be read or written" in output, output


@contextlib.contextmanager
def serving(app):
    """`app` on a free loopback port in a thread; yields its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def test_a_page_when_too_many_queries_run_is_a_503_page(tmp_path):
    from botanu.dashboard import create_dashboard
    from botanu.engine.store.duckdb.store import DuckDBStore
    from botanu.serve.reading import ServedReads

    with DuckDBStore(tmp_path / "store.duckdb") as store:
        reads = ServedReads(store, max_pages=0, wait_s=0.01)  # every page slot taken
        with serving(create_dashboard(reads)) as url:
            code, headers, body = get(f"{url}/runs")
            assert code == 503, body[:300]
            assert headers["Retry-After"]
            assert "<nav" in body
            assert "Too many queries" in body
            code, headers, body = get(f"{url}/api/runs")
            assert code == 503, body[:300]
            assert headers["Retry-After"]
            assert "Too many queries" in json.loads(body)["error"]
