"""Slow clients, gzip streams, the token's place, file modes and a stale announcement:
`botanu serve` bounds what a client can hold and keeps its files to the user."""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import export, request

pytestmark = pytest.mark.slow  # starts botanu serve


def post(url, body, **headers):
    return request(url, "/v1/traces", body, **headers)[0]


def status_of(url, **headers):
    return request(url, "/api/status", **headers)[0]


def closed_by_server(sock, within=60.0):
    """Whether the server closes `sock` (recv sees the end) before `within` seconds."""
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_slow_clients_cannot_hold_the_server(server_factory):
    server = server_factory(None, "--max-connections", "24")
    parts = urlsplit(server.url)
    idle = [socket.create_connection((parts.hostname, parts.port)) for _ in range(60)]
    try:
        # half of them dribble the start of a request and never finish its headers
        for sock in idle[::2]:
            sock.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        # past the limit, connections are refused at once; the rest are closed once their
        # headers are late, and the server then answers again
        assert all(closed_by_server(sock) for sock in idle)
        assert status_of(server.url) == 200
        assert post(server.url, export(0, 4)) == 200
    finally:
        for sock in idle:
            sock.close()


def test_a_body_that_never_ends_is_cut(server_factory):
    server = server_factory()
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(
            b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-protobuf\r\nContent-Length: 100000\r\n\r\npartial"
        )
        sock.settimeout(90)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408")


def test_every_member_of_a_gzip_stream_is_read(server_factory):
    server = server_factory()
    body = gzip.compress(export(0, 3)) + gzip.compress(export(3, 2))
    assert post(server.url, body, **{"Content-Encoding": "gzip"}) == 200
    assert server.wait_stored()["stored_spans"] == 5


def test_the_token_comes_from_a_file(server_factory, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-from-a-file\n")
    server = server_factory(None, "--token-file", str(token_file))
    assert status_of(server.url) == 401
    assert status_of(server.url, Authorization="Bearer s3cret-from-a-file") == 200
    assert server.process is not None
    cmdline = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
    assert b"s3cret" not in cmdline


def test_the_servers_files_are_the_users_alone(server_factory, tmp_path):
    store = tmp_path / "private.duckdb"
    server = server_factory(store)
    assert post(server.url, export(0, 4)) == 200
    server.wait_stored()
    journal = tmp_path / "private.duckdb.journal"
    announcement = tmp_path / "private.duckdb.serve.json"
    assert stat.S_IMODE(journal.stat().st_mode) == 0o700
    for path in [store, announcement, *journal.iterdir()]:
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_stale_announcement_is_replaced(tmp_path, server_factory):
    store = tmp_path / "stale.duckdb"
    announcement = tmp_path / "stale.duckdb.serve.json"
    # what `kill -9` leaves: the announcement of a process that is gone
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    announcement.write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": gone.pid}))
    server = server_factory(store)
    assert json.loads(announcement.read_text())["pid"] == server.process.pid


def test_a_second_server_on_the_same_store_names_the_first(tmp_path, server_factory):
    store = tmp_path / "busy.duckdb"
    first = server_factory(store)
    second = subprocess.run(
        [sys.executable, "-m", "botanu.cli", "--store", str(store), "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert second.returncode != 0
    assert f"pid {first.process.pid}" in second.stderr
    assert "Traceback" not in second.stderr
    # the first one keeps its announcement and keeps serving
    assert status_of(first.url) == 200
    os.kill(first.process.pid, signal.SIGTERM)
    first.process.communicate(timeout=30)
    first.process = None
