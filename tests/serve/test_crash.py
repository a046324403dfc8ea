"""Kill -9 the server under sustained load, start it again: every span it acknowledged
with 200 is in the store, none twice."""

from __future__ import annotations

import http.client
import os
import threading
import time
from pathlib import Path

from botanu.engine.store import open_store

from .conftest import export

EXPORT_SPANS = 200


def load(url: str, acknowledged: list[int], stop: threading.Event, first: int) -> None:
    """Send exports back to back until the server is gone; note the ones it acknowledged."""
    host, port = url.removeprefix("http://").split(":")
    number = first
    while not stop.is_set():
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            connection.request(
                "POST",
                "/v1/traces",
                export(number, EXPORT_SPANS),
                {"Content-Type": "application/x-protobuf"},
            )
            status = connection.getresponse().status
        except OSError:
            return  # killed
        finally:
            connection.close()
        if status == 200:
            acknowledged.append(number)
        number += EXPORT_SPANS * 4  # each sender its own numbers


def test_a_killed_server_loses_no_acknowledged_span_and_stores_none_twice(server_factory):
    server = server_factory()
    acknowledged: list[int] = []
    stop = threading.Event()
    senders = [
        threading.Thread(target=load, args=(server.url, acknowledged, stop, n * EXPORT_SPANS))
        for n in range(4)
    ]
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    helpers = children(server.process.pid)  # its worker processes
    assert helpers or (os.cpu_count() or 1) == 1
    server.kill()  # SIGKILL in the middle of the load: journaled, part stored, part not
    stop.set()
    for sender in senders:
        sender.join(timeout=30)
    assert len(acknowledged) >= 40
    deadline = time.monotonic() + 10
    while any(running(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in helpers if running(pid)], "workers outlived the killed server"

    expected = {
        (f"{(i // 4 + 1):032x}", f"{i + 1:016x}")
        for first in acknowledged
        for i in range(first, first + EXPORT_SPANS)
    }
    with open_store(str(server.store)) as store:  # what the writes had stored by then
        (before,) = store.query("SELECT count(*) FROM spans").rows[0]
    # under sustained load, acknowledged exports wait in the journal for the next write
    assert before < len(expected)

    server.start()  # stores what the journal holds past the last write
    server.stop()
    with open_store(str(server.store)) as store:
        stored = store.query("SELECT trace_id, span_id FROM spans").rows
    assert expected <= set(stored)
    assert len(stored) == len(set(stored))  # none twice


def children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"  # a zombie has ended; only its parent's wait is missing
