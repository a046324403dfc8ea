"""From an accepted export to stored, priced rows, in three threads.

The journal thread appends accepted exports to the journal, fsyncs once for all of them
(group commit) and only then lets their requests answer `200`. The prepare thread hands
the journaled exports, about `NORMALIZE_SPANS` spans at a time, to the `Preparer` (a
worker process decodes, normalizes and prices them). The store thread takes the prepared
rows in journal order, writes them `BATCH_SPANS` at a time (whole DuckDB row groups) and
records how far the journal is stored. Exports accepted but not yet stored are counted:
past the limit, in spans or in bytes, new ones are refused (the receiver answers 503
with Retry-After).

A write that fails for the store's sake (a full disk, an I/O error, a damaged file) is
held: nothing is set aside, the journal is not marked, new exports are refused, and the
same rows are written again until the store takes them. Only an export whose own values
the store refuses is set aside in `rejected.jsonl`, and the others are stored.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import logging
import os
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
from botanu.engine.store.duckdb.store import DuckDBStore
from botanu.exceptions import StoreFault
from botanu.serve.journal import Journal, Position, open_private
from botanu.serve.preparing import Export, Preparer, check_export, decode_export

__all__ = ["Pipeline", "Stats"]

log = logging.getLogger("botanu.serve")
_STOP = object()


@dataclass(slots=True)
class _Accepted:
    export: Export
    count: int
    done: Callable[[BaseException | None], None]

    @property
    def size(self) -> int:
        return len(self.export[1])


@dataclass(slots=True)
class _Chunk:
    """Journaled exports prepared together; `end`: where the last one ends in the journal."""

    exports: list[Export]
    count: int
    end: Position
    rows: Future[Any] | None = None
    size: int = -1  # the exports' bytes

    def __post_init__(self) -> None:
        if self.size < 0:
            self.size = sum(len(payload) for _, payload in self.exports)

    def join(self, other: _Chunk) -> None:
        self.exports += other.exports
        self.count += other.count
        self.size += other.size
        self.end = other.end


@dataclass
class Stats:
    accepted_spans: int = 0
    stored_spans: int = 0
    writes: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    store_problem: str | None = None  # why the store cannot be written now (None: it can)
    failed_writes: int = 0


# what DuckDB raises for values of the rows themselves; any other failure is the store's
_ROW_ERRORS = frozenset(
    {"ConversionException", "ConstraintException", "InvalidInputException",
     "OutOfRangeException", "TypeMismatchException", "ArrowInvalid"}
)  # fmt: skip
_RETRY_S = (0.5, 1.0, 2.0, 5.0)
# bytes of exports prepared together: few large spans make a chunk too (a worker holds
# its bodies, their spans and their rows at once)
_CHUNK_BYTES = 32 * 1024 * 1024  # waits between writes held by a failing store


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
        max_pending_bytes: int = 256 * 1024 * 1024,
        linger_s: float = 0.5,
        workers: int = 0,
        chunk_spans: int = NORMALIZE_SPANS,
        write_rows: int = BATCH_SPANS,
    ) -> None:
        self.store = store
        self.journal = journal
        self.preparer = Preparer(pricer, workers)
        self.max_pending_spans = max_pending_spans
        self.max_pending_bytes = max_pending_bytes
        self.linger_s = linger_s
        self.chunk_spans = chunk_spans
        self.write_rows = write_rows
        self.stats = Stats()
        self._pending = 0  # spans accepted (or being accepted), not yet stored
        self._pending_bytes = 0  # and their exports' bytes
        self._stop_by: float | None = None  # closing: give up writing after this
        self._replaying = False  # a store fault ends the replay instead of holding it
        self._replay_again = False  # the replay at start met a failing store
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
        replayed = self._replay_or_hold()
        for thread in self._threads:
            thread.start()
        return replayed

    def close(self, timeout_s: float | None = None) -> None:
        """Stop taking exports, store what is journaled (within `timeout_s`: what is left
        is stored at the next start), stop the threads and workers, close the journal
        and the store."""
        if timeout_s is not None:
            self._stop_by = time.monotonic() + timeout_s
        self._to_journal.put(_STOP)
        for thread in self._threads:
            if thread.is_alive():
                thread.join()
        self.preparer.close()
        self.journal.close()
        self.store.close()

    # --- accepting ------------------------------------------------------------------------
    def reserve(self, spans: int, size: int = 0) -> bool:
        """Room for `spans` more, of `size` bytes? False: the caller refuses the export
        (503): too much is waiting, or the store cannot be written now."""
        with self._lock:
            full = self._pending and (
                self._pending + spans > self.max_pending_spans
                or self._pending_bytes + size > self.max_pending_bytes
            )
            if full or self.stats.store_problem is not None:
                self.stats.refused += 1
                return False
            self._pending += spans
            self._pending_bytes += size
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
            self._release(sum(accepted.count for accepted in group), sum(a.size for a in group))
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
                if chunk.count < self.chunk_spans and chunk.size < _CHUNK_BYTES:
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
        attempt = 0
        while self._replay_again and not self._stopping():
            # nothing new is journaled while the store fails: the journal is read alone
            if self._hold(StoreFault(self.stats.store_problem or ""), attempt):
                self._replay_or_hold()
            attempt += 1
        deadline = 0.0
        while True:
            try:
                timeout = max(deadline - time.monotonic(), 0) if self._waiting else None
                item = self._to_store.get(timeout=timeout)
            except queue.Empty:
                with contextlib.suppress(StoreFault):  # stopping: the journal has them
                    self._write()  # lingered long enough: write what there is
                continue
            if item is _STOP:
                if self._waiting:
                    with contextlib.suppress(StoreFault):
                        self._write()
                return
            if self._stopping():
                continue  # journaled: stored at the next start
            if not self._waiting:
                deadline = time.monotonic() + self.linger_s
            try:
                self._take(item)  # type: ignore[arg-type]
            except StoreFault:  # only while stopping: the journal still has it
                continue

    def _take(self, chunk: _Chunk) -> None:
        """Wait for a chunk's rows; write whenever a whole write's worth is waiting."""
        rows = self._rows(chunk)
        self._waiting.append((rows, chunk))
        self._waiting_rows += rows.num_rows
        while self._waiting_rows >= self.write_rows:
            self._write(self.write_rows)

    def _rows(self, chunk: _Chunk) -> Any:
        """A chunk's rows, its spans that cannot be kept set aside first."""
        assert chunk.rows is not None
        try:
            prepared = chunk.rows.result()
        except Exception as exc:
            # one export that cannot be prepared must not hold back the others
            log.error("botanu serve: preparing exports one by one after: %s", exc)
            tables = [self._prepared_alone(export) for export in chunk.exports]
            return join_rows([table for table in tables if table is not None])
        self._set_aside_spans(prepared.set_aside)
        return prepared.rows

    def _write(self, limit: int | None = None) -> None:
        """Write the waiting rows (the first `limit` of them), then mark the journal stored
        up to the last chunk written whole. Rows left over all belong to the last chunk.
        A store that fails holds the rows until it takes them (or the server stops)."""
        for attempt in itertools.count():
            try:
                self._write_waiting(limit)
            except StoreFault as exc:
                if self._replaying or not self._hold(exc, attempt):
                    raise  # the replay starts again; or stopping: the journal has them
            else:
                self._store_works()
                return

    def _write_waiting(self, limit: int | None) -> None:
        whole = join_rows([rows for rows, _ in self._waiting])
        size = whole.num_rows if limit is None else min(limit, whole.num_rows)
        chunks = [chunk for _, chunk in self._waiting]
        try:
            if size:
                self.store.write_batch(whole.slice(0, size))
        except Exception as exc:
            if not _rows_refused(exc):
                raise StoreFault(str(exc)) from exc
            log.error("botanu serve: a write failed, storing its exports one by one: %s", exc)
            self._write_alone(chunks)
            return
        left = whole.slice(size)
        finished = chunks[:-1] if left.num_rows else chunks
        self._waiting = [(left, chunks[-1])] if left.num_rows else []
        self._waiting_rows = left.num_rows
        self._finish(finished)

    def _write_alone(self, chunks: list[_Chunk]) -> None:
        """Each export of `chunks` prepared and written on its own; one whose rows the
        store still refuses is set aside. (Rows already written are skipped by the
        store.) Raises StoreFault if the store itself fails: nothing is marked."""
        for chunk in chunks:
            for export in chunk.exports:
                rows = self._prepared_alone(export)
                if rows is None:
                    continue
                try:
                    self.store.write_batch(rows)
                except Exception as exc:
                    if not _rows_refused(exc):
                        raise StoreFault(str(exc)) from exc
                    self._set_aside(export, exc)
        self._waiting, self._waiting_rows = [], 0
        self._finish(chunks)

    def _hold(self, fault: StoreFault, attempt: int) -> bool:
        """The store failed a write: refuse new exports, wait, and say whether to try
        again (False: the server is stopping)."""
        with self._lock:
            first = self.stats.store_problem is None
            self.stats.store_problem = str(fault)
            self.stats.failed_writes += 1
        if first:
            log.error(
                "botanu serve: the store cannot be written (%s); new exports are refused "
                "and the accepted ones kept in the journal until it can",
                fault,
            )
        deadline = time.monotonic() + _RETRY_S[min(attempt, len(_RETRY_S) - 1)]
        while time.monotonic() < deadline:
            if self._stopping():
                return False
            time.sleep(0.1)
        return not self._stopping()

    def _store_works(self) -> None:
        if self._replaying:
            return  # new exports wait until the journal's are stored
        with self._lock:
            problem, self.stats.store_problem = self.stats.store_problem, None
        if problem is not None:
            log.warning("botanu serve: the store is written again")

    def _stopping(self) -> bool:
        return self._stop_by is not None and time.monotonic() >= self._stop_by

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
        self._release(count, sum(chunk.size for chunk in chunks))

    def _prepared_alone(self, export: Export) -> Any | None:
        try:
            prepared = self.preparer.prepare([export])
        except Exception as exc:  # its own values: nothing else can be done with it
            self._set_aside(export, exc)
            return None
        self._set_aside_spans(prepared.set_aside)
        return prepared.rows

    def _set_aside_spans(self, lines: list[dict[str, Any]]) -> None:
        """Keep the spans the engine could not keep (times no clock reads) in
        `rejected.jsonl`; their neighbours are stored."""
        if not lines:
            return
        with self._lock:
            self.stats.errors.extend(str(line["error"]) for line in lines)
        log.error(
            "botanu serve: %d span(s) that cannot be stored are kept in %s: %s",
            len(lines),
            self.journal.rejected_file,
            lines[0]["error"],
        )
        self._keep_rejected(lines)

    def _set_aside(self, export: Export, error: BaseException) -> None:
        """Keep an export the store refused in `rejected.jsonl` beside the journal, with
        why (raises StoreFault if that file cannot be written: it is kept journaled)."""
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
        self._keep_rejected(lines)

    def _keep_rejected(self, lines: list[dict[str, Any]]) -> None:
        """Append to `rejected.jsonl`, durably (raises StoreFault if it cannot be
        written, after holding until it can unless the server is stopping)."""
        text = "".join(json.dumps(line, default=str) + "\n" for line in lines)
        for attempt in itertools.count():
            try:
                with open_private(self.journal.rejected_file) as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                fault = StoreFault(f"{self.journal.rejected_file} cannot be written: {exc}")
                if self._replaying or not self._hold(fault, attempt):
                    raise fault from exc
            else:
                return

    # --- after a crash ----------------------------------------------------------------------
    def _replay_or_hold(self) -> int:
        """`_replay`; if the store fails, new exports are refused and the store thread
        replays again once it can write. Returns how many spans were stored."""
        self._replaying = True
        try:
            replayed = self._replay()
        except StoreFault as exc:
            with self._lock:
                self.stats.store_problem = str(exc)
                self.stats.accepted_spans = self.stats.stored_spans
                self._pending = self._pending_bytes = 0
            self._waiting, self._waiting_rows = [], 0
            self._replay_again = True
            log.error(
                "botanu serve: the store cannot be written (%s): the journaled spans are "
                "kept and stored once it can; new exports are refused until then",
                exc,
            )
            return 0
        finally:
            self._replaying = False
        self._replay_again = False
        self._store_works()
        return replayed

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
                self._pending_bytes += chunk.size
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
            if chunk.count >= self.chunk_spans or chunk.size >= _CHUNK_BYTES:
                yield chunk
                chunk = None
        if chunk is not None:
            yield chunk

    def _release(self, spans: int, size: int) -> None:
        with self._idle:
            self._pending -= spans
            self._pending_bytes -= size
            if not self._pending:
                self._idle.notify_all()


def _rows_refused(error: BaseException) -> bool:
    """Whether a failed write was refused for its rows' values (else the store failed)."""
    seen: BaseException | None = error
    while seen is not None:
        if type(seen).__name__ in _ROW_ERRORS:
            return True
        seen = seen.__cause__
    return False


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
