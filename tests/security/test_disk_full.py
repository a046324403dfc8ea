"""A full disk under a running `botanu serve`: the store's filesystem is a small tmpfs
this test mounts and fills, then frees. The server refuses (503) while it cannot write,
never sets anything aside, and stores every acknowledged span exactly once."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time

import duckdb
import pytest

from .conftest import Server, export, request

pytestmark = pytest.mark.slow  # starts botanu serve on a full disk

SPANS = 8  # an export: small, so the journal still takes some while the store cannot


@pytest.fixture
def small_disk(tmp_path):
    """A 24 MiB tmpfs (root only: skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "--lazy", str(mount)], check=False)


def send(url, first):
    return request(url, "/v1/traces", export(first, SPANS))[0]


def fill(path, leave):
    """Fill the filesystem of `path` but `leave` bytes."""
    block = b"\0" * (1 << 16)
    with open(path, "wb") as handle:
        with contextlib.suppress(OSError):
            while True:
                handle.write(block)
                handle.flush()
        handle.truncate(max(0, handle.tell() - leave))  # frees space, needs none
    return path


def test_a_full_disk_loses_no_acknowledged_span(small_disk):
    server = Server(small_disk / "store.duckdb").start()
    try:
        acked: list[int] = []
        assert send(server.url, 0) == 200
        acked.append(0)
        server.wait_stored()

        filler = fill(small_disk / "filler", leave=48 * 1024)
        refused: list[int] = []
        for n in range(1, 41):
            (acked if send(server.url, n * SPANS) == 200 else refused).append(n * SPANS)
            time.sleep(0.05)
        status = server.status()
        assert refused, "the disk never filled up"
        # the server is alive and says why it refuses
        assert status.get("store_writable") is False or status["stored_spans"] < len(acked) * SPANS

        filler.unlink()  # space returns: the held rows are written, exports taken again
        for first in refused:
            deadline = time.monotonic() + 60
            while send(server.url, first) != 200:
                assert time.monotonic() < deadline, server.status()
                time.sleep(0.2)
            acked.append(first)
        status = server.wait_stored()
        assert status["store_writable"] is True
        assert status["stored_spans"] == len(acked) * SPANS
    finally:
        server.stop()

    expected = {f"{first + i + 1:016x}" for first in acked for i in range(SPANS)}
    with duckdb.connect(str(small_disk / "store.duckdb"), read_only=True) as con:
        ids = [row[0] for row in con.execute("SELECT span_id FROM spans").fetchall()]
    assert len(ids) == len(set(ids))  # each once
    assert set(ids) == expected
    rejected = small_disk / "store.duckdb.journal" / "rejected.jsonl"
    assert not rejected.exists() or not rejected.read_text().strip(), json.dumps(
        rejected.read_text()[:500]
    )
