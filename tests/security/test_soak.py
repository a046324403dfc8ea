"""Overload, `kill -9` and restart inside a memory limit: `botanu serve` in a memory cgroup
the size of its default budget (3 GiB), offered ten times the bytes it buffers (15 MiB
one-span exports) beside a stream of ordinary exports, killed mid-load and restarted in
the same limit. It is never OOM-killed, and every acknowledged span is stored once.

Bounded: about 20 s of load, loopback only; skipped where no memory cgroup can be made.
Prints the peak memory and the replay time (the README quotes them).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

import duckdb
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from .conftest import Server, export, request

pytestmark = pytest.mark.slow  # a server under load, killed and replayed

BUDGET = 3072 * 1024 * 1024  # botanu serve's default --memory-budget
BIG = 15 * 1024 * 1024
BIG_FIRST = 10_000_000  # span numbers of the big exports (the small ones count from 0)
LOAD_S = 20.0


class MemoryCgroup:
    """A cgroup v1 memory controller group (what this machine has), limited to `limit`."""

    def __init__(self, limit: int) -> None:
        root = Path("/sys/fs/cgroup/memory")
        if not (root / "cgroup.procs").exists():
            pytest.skip("no cgroup v1 memory controller here")
        self.path = root / f"botanu-soak-{os.getpid()}"
        try:
            self.path.mkdir()
            (self.path / "memory.limit_in_bytes").write_text(str(limit))
        except OSError as exc:
            pytest.skip(f"cannot make a memory cgroup here: {exc}")
        self._procs = os.open(self.path / "cgroup.procs", os.O_WRONLY)
        self.peak_resident = 0

    def join(self) -> None:
        """In the child before exec: move it into the group (one write: fork-safe)."""
        os.write(self._procs, str(os.getpid()).encode())

    def resident(self) -> int:
        """Anonymous and shared memory of the group's processes (not the page cache)."""
        stat = dict(line.split() for line in (self.path / "memory.stat").read_text().splitlines())
        return int(stat["total_rss"]) + int(stat["total_shmem"])

    def oom_kills(self) -> int:
        for line in (self.path / "memory.oom_control").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == "oom_kill":
                return int(value)
        return int((self.path / "memory.failcnt").read_text()) and 0

    def sample(self, stop: threading.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError, KeyError, ValueError):
                self.peak_resident = max(self.peak_resident, self.resident())
            time.sleep(0.1)

    def remove(self) -> None:
        os.close(self._procs)
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except OSError:  # processes still leaving
                time.sleep(0.1)


def big_export(number: int) -> bytes:
    span = Span(
        trace_id=(number + 1).to_bytes(16, "big"),
        span_id=(number + 1).to_bytes(8, "big"),
        name="big",
        start_time_unix_nano=time.time_ns(),
        end_time_unix_nano=time.time_ns() + 1000,
        attributes=[KeyValue(key="payload", value=AnyValue(string_value="x" * BIG))],
    )
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])]
    )
    return request.SerializeToString()


def leave_in_journal(folder: Path) -> list[tuple[int, int]]:
    """Exports written straight into the journal of a killed server, as acknowledged ones
    it had no time to store: 40 of 15 MiB and 100 of 2,000 spans."""
    from botanu.serve.journal import Journal
    from botanu.serve.preparing import KIND_PROTOBUF

    journal = Journal(folder)
    left: list[tuple[int, int]] = []
    try:
        for number in range(BIG_FIRST + 1000, BIG_FIRST + 1040):
            journal.append([(KIND_PROTOBUF, big_export(number))])
            left.append((number, 1))
        for n in range(1000, 1100):
            journal.append([(KIND_PROTOBUF, export(n * 2000, 2000))])
            left.append((n * 2000, 2000))
    finally:
        journal.close()
    return left


def post(url, body):
    try:
        return request(url, "/v1/traces", body)[0]
    except OSError:  # the server was killed under this request
        return 0


class Load:
    """Senders that record which exports were acknowledged."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.acked: list[tuple[int, int]] = []  # (first span number, count)
        self.refused = 0
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def send(self, first: int, count: int, body: bytes) -> None:
        status = post(self.url, body)
        with self._lock:
            if status == 200:
                self.acked.append((first, count))
            else:
                self.refused += 1

    def small(self, bodies: list[tuple[int, int, bytes]]) -> None:
        for first, count, body in bodies:
            if self.stop.is_set():
                return
            self.send(first, count, body)

    def big(self, numbers: range) -> None:
        for number in numbers:
            if self.stop.is_set():
                return
            self.send(number, 1, big_export(number))


def test_overload_kill_and_replay_stay_within_the_memory_budget(tmp_path):
    group = MemoryCgroup(BUDGET)
    sampling = threading.Event()
    sampler = threading.Thread(target=group.sample, args=(sampling,), daemon=True)
    sampler.start()
    store = tmp_path / "soak.duckdb"
    try:
        server = Server(store, preexec_fn=group.join).start()
        # ordinary exports: 3 senders x 50 exports x 2,000 spans
        bodies = [(n * 2000, 2000, export(n * 2000, 2000)) for n in range(150)]
        load = Load(server.url)
        senders = [threading.Thread(target=load.small, args=(bodies[i::3],)) for i in range(3)] + [
            # 2 x 85 exports of 15 MiB: 2.5 GB offered, ten times the 256 MiB buffered
            threading.Thread(target=load.big, args=(range(BIG_FIRST + i, BIG_FIRST + 170, 2),))
            for i in range(2)
        ]
        for sender in senders:
            sender.start()
        time.sleep(LOAD_S)
        assert server.process is not None
        assert server.process.poll() is None, "botanu serve died under load"
        server.kill()  # mid-load, with exports journaled and not yet stored
        load.stop.set()
        for sender in senders:
            sender.join(timeout=120)
        under_load = group.peak_resident
        # and a large journal to replay: what a longer outage would leave (700 MB more)
        journaled = leave_in_journal(Path(f"{store}.journal"))

        started = time.monotonic()
        again = Server(store, preexec_fn=group.join).start()
        again.wait_stored(timeout=600)
        replay_s = time.monotonic() - started
        again.stop()
    finally:
        sampling.set()
        sampler.join()
        oom_kills = group.oom_kills()
        group.remove()

    print(
        f"\nsoak: {len(load.acked)} exports acknowledged "
        f"({sum(count == 1 for _, count in load.acked)} of 15 MiB), {load.refused} refused; "
        f"peak resident {under_load / 2**20:.0f} MiB under load, "
        f"{group.peak_resident / 2**20:.0f} MiB in all; replay and restart {replay_s:.1f} s"
    )
    assert oom_kills == 0
    assert group.peak_resident < BUDGET
    assert load.refused > 0  # backpressure answered
    assert any(count == 1 for _, count in load.acked)  # big exports were taken too

    acked = load.acked + journaled
    expected = {f"{first + i + 1:016x}" for first, count in acked for i in range(count)}
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute("SELECT span_id, count(*) FROM spans GROUP BY span_id").fetchall()
    counts = dict(rows)
    assert max(counts.values()) == 1  # none twice
    assert expected <= set(counts)  # every acknowledged span
