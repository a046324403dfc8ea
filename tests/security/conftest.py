"""Attacks and faults against a real `botanu serve` on 127.0.0.1 (or the CLI): every test
here first failed against the code before the hardening."""

from __future__ import annotations

import pytest
from tests.serve.conftest import Server, export

__all__ = ["Server", "export"]


@pytest.fixture
def server_factory(tmp_path):
    started: list[Server] = []

    def start(store=None, *extra: str) -> Server:
        server = Server(store or tmp_path / "serve.duckdb", *extra).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
