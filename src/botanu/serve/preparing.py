"""Checking exports as they arrive, and turning journaled ones into rows, in worker
processes when the machine has cores to spare.

A request only checks its export (`check_export`: for protobuf, a parse and the ids,
~1 µs a span). Making the spans' values, normalizing and pricing them (~11 µs a span,
nearly all of it making Python objects) happens after the export is journaled, a chunk of
exports at a time, in a worker process: there it holds no GIL that the server's HTTP loop
and its store writes need. A worker sends back an Arrow table, ready to write.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

from botanu._cores import usable_cores
from botanu.engine.ingest import RawSpan, count_protobuf, decode_json, decode_protobuf
from botanu.engine.pricing import Pricer
from botanu.engine.service import prepare_spans, prepare_spans_checked

__all__ = [
    "KIND_JSON",
    "KIND_PROTOBUF",
    "Prepared",
    "Preparer",
    "check_export",
    "decode_export",
    "default_workers",
]

log = logging.getLogger("botanu.serve")

KIND_PROTOBUF = 0
KIND_JSON = 1

Export = tuple[int, bytes]  # (kind, body)


def decode_export(kind: int, payload: bytes) -> list[RawSpan]:
    """The spans of one export body (raises OTLPDecodeError)."""
    return decode_protobuf(payload) if kind == KIND_PROTOBUF else decode_json(payload)


def check_export(kind: int, payload: bytes) -> int:
    """How many spans the export holds; raises OTLPDecodeError exactly when
    `decode_export` would."""
    return count_protobuf(payload) if kind == KIND_PROTOBUF else len(decode_json(payload))


class Prepared(NamedTuple):
    """The rows of a chunk of exports, and its spans that cannot be kept, each as a line
    for `rejected.jsonl` (the span and why)."""

    rows: Any
    set_aside: list[dict[str, Any]]


def prepare_exports(exports: Sequence[Export], pricer: Pricer) -> Prepared:
    """The exports' spans as one Arrow table for `write_batch`, less the spans set aside
    (raises OTLPDecodeError, StoreError)."""
    spans = [span for kind, payload in exports for span in decode_export(kind, payload)]
    rows, set_aside = prepare_spans_checked(spans, pricer)
    return Prepared(rows, [{"error": why, "span": span._asdict()} for span, why in set_aside])


def default_workers() -> int:
    """One worker process per core (at most 4); none on one core. They do most of the
    work on a span, so on every core (measured on 2 cores, 60 s under load: 53k spans/s
    held with two workers, 45k with one)."""
    cores = usable_cores()
    return 0 if cores == 1 else min(4, cores)


class Preparer:
    """Prepares chunks of exports: in `workers` processes, or in the calling thread if 0
    (or if the workers cannot start, with a warning)."""

    def __init__(self, pricer: Pricer, workers: int) -> None:
        self.pricer = pricer
        self.workers = max(0, workers)
        self._pool: ProcessPoolExecutor | None = None
        self._folder: Path | None = None

    def start(self) -> None:
        if self.workers:
            self._folder = _handover_folder()
            self._pool = self._started_pool()

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def submit(self, exports: Sequence[Export]) -> Future[Prepared]:
        """The exports' rows and set-aside spans, to come."""
        if self._pool is not None:
            try:
                handed = self._pool.submit(_prepare_in_worker, *self._handed_over(exports))
            except RuntimeError as exc:  # the pool broke (a worker was killed): go on here
                log.error("botanu serve: preparing in this process from now on: %s", exc)
                self._pool = None
            else:
                return _loaded(handed)
        done: Future[Prepared] = Future()
        try:
            done.set_result(self.prepare(exports))
        except Exception as exc:
            done.set_exception(exc)
        return done

    def _handed_over(self, exports: Sequence[Export]) -> tuple[str, list[tuple[int, int]]]:
        """The exports' bodies in one file in shared memory (one write: through a pipe
        they would go in 64 KiB steps, each waiting for this process's GIL), and the
        kind and length of each."""
        descriptor, path = tempfile.mkstemp(suffix=".otlp", dir=self._folder)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(b"".join(payload for _, payload in exports))
        return path, [(kind, len(payload)) for kind, payload in exports]

    def prepare(self, exports: Sequence[Export]) -> Prepared:
        """The exports' rows and set-aside spans, prepared in this thread."""
        return prepare_exports(exports, self.pricer)

    def _started_pool(self) -> ProcessPoolExecutor | None:
        import multiprocessing

        # spawn, not fork: this process has threads (uvicorn, journal, store, DuckDB)
        context = multiprocessing.get_context("spawn")
        cards = (self.pricer.user_rate_card, self.pricer.rate_card)
        pool = ProcessPoolExecutor(
            self.workers, context, initializer=_start_worker, initargs=(os.getpid(), cards)
        )
        try:
            for ready in [pool.submit(_ready) for _ in range(self.workers)]:
                ready.result(timeout=120)
        except Exception as exc:  # preparing in this process still works
            log.warning("botanu serve: preparing spans in one process (workers: %r)", exc)
            pool.shutdown(wait=False, cancel_futures=True)
            return None
        return pool


# --- in a worker process ---------------------------------------------------------------------

_worker_pricer: Pricer | None = None


def _start_worker(parent: int, cards: tuple[Any, Any]) -> None:
    global _worker_pricer
    _worker_pricer = Pricer(cards[0], rate_card=cards[1])
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    """End the worker when the server is gone, even after `kill -9` left it no time."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _ready() -> bool:
    """Prepare one LLM span, so the first real chunk does not pay for the imports and the
    price catalog (a second or more)."""
    from botanu.engine.ingest import RawSpan

    assert _worker_pricer is not None
    now = time.time_ns()  # a time the engine keeps (it sets aside spans at no real time)
    warm = RawSpan(
        "1" * 32, "1" * 16, None, "chat", "client", now, now + 1, "unset",
        {"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1}, {},
    )  # fmt: skip
    prepare_spans([warm], _worker_pricer)
    return True


def _prepare_in_worker(
    path: str, layout: list[tuple[int, int]]
) -> tuple[str, list[dict[str, Any]]]:
    """The rows of the exports handed over in `path` (kind and length of each), left in
    an Arrow file beside it, for the same reason they came in one."""
    import gc

    assert _worker_pricer is not None
    gc.disable()  # decoding makes no reference cycles; the collector would only cost time
    try:
        return _prepared_file(path, layout, _worker_pricer)
    finally:
        gc.enable()


def _prepared_file(
    path: str, layout: list[tuple[int, int]], pricer: Pricer
) -> tuple[str, list[dict[str, Any]]]:
    import pyarrow as pa

    with open(path, "rb") as source:
        bodies = source.read()
    os.unlink(path)
    exports, start = [], 0
    for kind, length in layout:
        exports.append((kind, bodies[start : start + length]))
        start += length
    table, set_aside = prepare_exports(exports, pricer)
    descriptor, path = tempfile.mkstemp(suffix=".arrow", dir=os.path.dirname(path))
    with os.fdopen(descriptor, "wb") as handle, pa.ipc.new_file(handle, table.schema) as out:
        out.write_table(table)
    return path, set_aside


# --- handing rows over -----------------------------------------------------------------------


def _handover_folder() -> Path:
    """A folder in shared memory (`/dev/shm` where there is one) for this server's
    workers' rows; folders left by servers no longer running are removed."""
    shared = Path("/dev/shm")
    base = shared if shared.is_dir() and os.access(shared, os.W_OK) else Path(tempfile.gettempdir())
    for old in base.glob("botanu-serve-*"):
        pid = old.name.removeprefix("botanu-serve-")
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    folder = base / f"botanu-serve-{os.getpid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's
        return True
    return True


def _loaded(handed: Future[tuple[str, list[dict[str, Any]]]]) -> Future[Prepared]:
    """A future of the table in the file `handed` names (mapped, not copied; the file
    is unlinked at once and its memory freed with the table)."""
    loaded: Future[Prepared] = Future()

    def load(done: Future[tuple[str, list[dict[str, Any]]]]) -> None:
        try:
            path, set_aside = done.result()
            import pyarrow as pa

            table = pa.ipc.open_file(pa.memory_map(path)).read_all()
            os.unlink(path)
        except BaseException as exc:
            loaded.set_exception(exc)
        else:
            loaded.set_result(Prepared(table, set_aside))

    handed.add_done_callback(load)
    return loaded
