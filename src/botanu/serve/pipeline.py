"""From an accepted export to stored, priced rows, in three threads.

The journal thread appends accepted exports to the journal, fsyncs once for all of them
(group commit) and only then lets their requests answer `200`. The prepare thread hands
the journaled exports, about `NORMALIZE_SPANS` spans at a time, to the `Preparer` (a
worker process decodes, normalizes and prices them). The store thread takes the prepared
rows in journal order, writes them `BATCH_SPANS` at a time (whole DuckDB row groups) and
records how far the journal is stored. Exports accepted but not yet stored are counted:
past the limit, new ones are refused (the receiver answers 503 with Retry-After).
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from botanu.engine.ingest import OTLPDecodeError
from botanu.engine.pricing import Pricer
from botanu.engine.service import BATCH_SPANS, NORMALIZE_SPANS, join_rows
from botanu.serve.journal import Journal, Position
from botanu.serve.preparing import Export, Preparer, check_export, decode_export
from botanu.store.duckdb_store import DuckDBStore

__all__ = ["Pipeline", "Stats"]

log = logging.getLogger("botanu.serve")
_STOP = object()


@dataclass(slots=True)
class _Accepted:
    export: Export
    count: int
    done: Callable[[BaseException | None], None]


@dataclass(slots=True)
class _Chunk:
    """Journaled exports prepared together; `end`: where the last one ends in the journal."""

    exports: list[Export]
    count: int
    end: Position
    rows: Future[Any] | None = None

    def join(self, other: _Chunk) -> None:
        self.exports += other.exports
        self.count += other.count
        self.end = other.end


@dataclass
class Stats:
    accepted_spans: int = 0
    stored_spans: int = 0
    writes: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)


class Pipeline:
    """Owns the journal, the preparer and the store; `submit` is called by request
    handlers. `workers`: processes preparing rows (0: the prepare thread does it);
    `chunk_spans` and `write_rows`: spans prepared together, rows written together."""

    def __init__(
        self,
        store: DuckDBStore,
        journal: Journal,
        pricer: Pricer,
        *,
        max_pending_spans: int = 4 * BATCH_SPANS,
        linger_s: float = 0.5,
        workers: int = 0,
        chunk_spans: int = NORMALIZE_SPANS,
        write_rows: int = BATCH_SPANS,
    ) -> None:
        self.store = store
        self.journal = journal
        self.preparer = Preparer(pricer, workers)
        self.max_pending_spans = max_pending_spans
        self.linger_s = linger_s
        self.chunk_spans = chunk_spans
        self.write_rows = write_rows
        self.stats = Stats()
        self._pending = 0  # accepted (or being accepted), not yet stored
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._to_journal: queue.Queue[object] = queue.Queue()
        self._to_prepare: queue.Queue[object] = queue.Queue()
        self._to_store: queue.Queue[object] = queue.Queue()
        self._waiting: list[tuple[Any, _Chunk]] = []  # prepared rows not yet written
        self._waiting_rows = 0
        self._threads = [
            threading.Thread(target=self._journal_loop, name="botanu-journal", daemon=True),
            threading.Thread(target=self._prepare_loop, name="botanu-prepare", daemon=True),
            threading.Thread(target=self._store_loop, name="botanu-store", daemon=True),
        ]

    # --- life -----------------------------------------------------------------------------
    def start(self) -> int:
        """Start the workers, store what the journal holds past the stored position (a
        crash or kill left it), then start the threads. Returns how many journaled spans
        were replayed."""
        self.preparer.start()
        replayed = self._replay()
        for thread in self._threads:
            thread.start()
        return replayed

    def close(self) -> None:
        """Stop taking exports, store everything journaled, stop the threads and workers,
        close the journal and the store."""
        self._to_journal.put(_STOP)
        for thread in self._threads:
            if thread.is_alive():
                thread.join()
        self.preparer.close()
        self.journal.close()
        self.store.close()

    # --- accepting ------------------------------------------------------------------------
    def reserve(self, spans: int) -> bool:
        """Room for `spans` more? False: the caller refuses the export (503)."""
        with self._lock:
            if self._pending and self._pending + spans > self.max_pending_spans:
                self.stats.refused += 1
                return False
            self._pending += spans
            return True

    def submit(
        self, kind: int, payload: bytes, count: int, done: Callable[[BaseException | None], None]
    ) -> None:
        """Journal a checked export of `count` spans (after `reserve`); `done(None)` once it
        is on disk."""
        self._to_journal.put(_Accepted((kind, payload), count, done))

    def wait_stored(self, timeout: float = 30.0) -> bool:
        """Block until everything accepted so far is stored (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    # --- journal thread ---------------------------------------------------------------------
    def _journal_loop(self) -> None:
        for group, stop in _drained(self._to_journal):
            if group:
                self._journal(group)
            if stop:
                self._to_prepare.put(_STOP)
                return

    def _journal(self, group: list[_Accepted]) -> None:
        try:
            ends = self.journal.append([accepted.export for accepted in group])
        except Exception as exc:  # a full or failing disk: refuse, acknowledge nothing
            log.error("botanu serve: the journal could not be written: %s", exc)
            self._release(sum(accepted.count for accepted in group))
            for accepted in group:
                accepted.done(exc)
            return
        for accepted, end in zip(group, ends, strict=True):
            self._to_prepare.put(_Chunk([accepted.export], accepted.count, end))
        with self._lock:
            self.stats.accepted_spans += sum(accepted.count for accepted in group)
        for accepted in group:
            accepted.done(None)

    # --- prepare thread ---------------------------------------------------------------------
    def _prepare_loop(self) -> None:
        """Join journaled exports into chunks of about `NORMALIZE_SPANS` spans (or what
        came within the linger time) and hand each to the preparer."""
        chunk: _Chunk | None = None
        deadline = 0.0
        while True:
            try:
                timeout = max(deadline - time.monotonic(), 0) if chunk else None
                item = self._to_prepare.get(timeout=timeout)
            except queue.Empty:
                item = None
            if isinstance(item, _Chunk):
                if chunk is None:
                    chunk, deadline = item, time.monotonic() + self.linger_s
                else:
                    chunk.join(item)
                if chunk.count < self.chunk_spans:
                    continue  # a small chunk costs more per span to prepare
            if chunk is not None:
                chunk.rows = self.preparer.submit(chunk.exports)
                self._to_store.put(chunk)
                chunk = None
            if item is _STOP:
                self._to_store.put(_STOP)
                return

    # --- store thread -----------------------------------------------------------------------
    def _store_loop(self) -> None:
        deadline = 0.0
        while True:
            try:
                timeout = max(deadline - time.monotonic(), 0) if self._waiting else None
                item = self._to_store.get(timeout=timeout)
            except queue.Empty:
                self._write()  # lingered long enough: write what there is
                continue
            if item is _STOP:
                if self._waiting:
                    self._write()
                return
            if not self._waiting:
                deadline = time.monotonic() + self.linger_s
            self._take(item)  # type: ignore[arg-type]

    def _take(self, chunk: _Chunk) -> None:
        """Wait for a chunk's rows; write whenever a whole write's worth is waiting."""
        rows = self._rows(chunk)
        self._waiting.append((rows, chunk))
        self._waiting_rows += rows.num_rows
        while self._waiting_rows >= self.write_rows:
            self._write(self.write_rows)

    def _rows(self, chunk: _Chunk) -> Any:
        assert chunk.rows is not None
        try:
            return chunk.rows.result()
        except Exception as exc:
            # one export that cannot be prepared must not hold back the others
            log.error("botanu serve: preparing exports one by one after: %s", exc)
            tables = [self._prepared_alone(export) for export in chunk.exports]
            return join_rows([table for table in tables if table is not None])

    def _write(self, limit: int | None = None) -> None:
        """Write the waiting rows (the first `limit` of them), then mark the journal stored
        up to the last chunk written whole. Rows left over all belong to the last chunk."""
        whole = join_rows([rows for rows, _ in self._waiting])
        size = whole.num_rows if limit is None else min(limit, whole.num_rows)
        chunks = [chunk for _, chunk in self._waiting]
        try:
            if size:
                self.store.write_batch(whole.slice(0, size))
        except Exception as exc:
            log.error("botanu serve: a write failed, storing its exports one by one: %s", exc)
            self._write_alone(chunks)
            return
        left = whole.slice(size)
        finished = chunks[:-1] if left.num_rows else chunks
        self._waiting = [(left, chunks[-1])] if left.num_rows else []
        self._waiting_rows = left.num_rows
        self._finish(finished)

    def _write_alone(self, chunks: list[_Chunk]) -> None:
        """Each export of `chunks` prepared and written on its own; one the store still
        refuses is set aside. (Rows already written are skipped by the store.)"""
        for chunk in chunks:
            for export in chunk.exports:
                rows = self._prepared_alone(export)
                if rows is None:
                    continue
                try:
                    self.store.write_batch(rows)
                except Exception as exc:
                    self._set_aside(export, exc)
        self._waiting, self._waiting_rows = [], 0
        self._finish(chunks)

    def _finish(self, chunks: list[_Chunk]) -> None:
        if not chunks:
            return
        try:
            self.journal.mark_stored(chunks[-1].end)
        except Exception as exc:  # stored again (and skipped) at the next start
            log.error("botanu serve: the journal position was not saved: %s", exc)
        count = sum(chunk.count for chunk in chunks)
        with self._lock:
            self.stats.stored_spans += count
            self.stats.writes += 1
        self._release(count)

    def _prepared_alone(self, export: Export) -> Any | None:
        try:
            return self.preparer.prepare([export])
        except Exception as exc:
            self._set_aside(export, exc)
            return None

    def _set_aside(self, export: Export, error: BaseException) -> None:
        """Keep an export the store refused in `rejected.jsonl` beside the journal, with why."""
        with self._lock:
            self.stats.errors.append(str(error))
        log.error(
            "botanu serve: an export the store refused is kept in %s: %s",
            self.journal.rejected_file,
            error,
        )
        kind, payload = export
        lines: list[dict[str, Any]]
        try:
            lines = [{"error": str(error), "span": s._asdict()} for s in decode_export(*export)]
        except OTLPDecodeError:  # kept as it came
            packed = base64.b64encode(payload).decode()
            lines = [{"error": str(error), "kind": kind, "export": packed}]
        with open(self.journal.rejected_file, "a", encoding="utf-8") as handle:
            for line in lines:
                handle.write(json.dumps(line, default=str) + "\n")

    # --- after a crash ----------------------------------------------------------------------
    def _replay(self) -> int:
        """Store the journal's records past the stored position, through the same chunks
        and writes as new exports (a few chunks in flight at a time)."""
        in_flight: deque[_Chunk] = deque()
        replayed = 0
        for chunk in self._unstored_chunks():
            if not replayed:
                log.info("botanu serve: storing the journaled spans left by the last run")
            replayed += chunk.count
            with self._lock:
                self._pending += chunk.count
                self.stats.accepted_spans += chunk.count
            chunk.rows = self.preparer.submit(chunk.exports)
            in_flight.append(chunk)
            if len(in_flight) > self.preparer.workers:
                self._take(in_flight.popleft())
        while in_flight:
            self._take(in_flight.popleft())
        if self._waiting:
            self._write()
        return replayed

    def _unstored_chunks(self) -> Iterator[_Chunk]:
        chunk: _Chunk | None = None
        for record in self.journal.unstored():
            export = (record.kind, record.payload)
            try:
                count = check_export(*export)
            except OTLPDecodeError as exc:  # checked before it was journaled: cannot be
                self._set_aside(export, exc)
                continue
            if chunk is None:
                chunk = _Chunk([export], count, record.end)
            else:
                chunk.join(_Chunk([export], count, record.end))
            if chunk.count >= self.chunk_spans:
                yield chunk
                chunk = None
        if chunk is not None:
            yield chunk

    def _release(self, spans: int) -> None:
        with self._idle:
            self._pending -= spans
            if not self._pending:
                self._idle.notify_all()


def _drained(items: queue.Queue[object]) -> Iterable[tuple[list[Any], bool]]:
    """Everything waiting in `items` at once (the next item blocks), and whether the stop
    mark came."""
    while True:
        group = [items.get()]
        while group[-1] is not _STOP:
            try:
                group.append(items.get_nowait())
            except queue.Empty:
                break
        stop = group[-1] is _STOP
        yield (group[:-1] if stop else group), stop
