"""From an accepted export to stored, priced rows, in two threads.

The journal thread appends accepted exports to the journal, fsyncs once for all of them
(group commit) and only then lets their requests answer `200`. The store thread joins the
journaled exports into large writes (`ingest_payloads`) and then records how far the
journal is stored. Exports accepted but not yet stored are counted: past the limit, new
ones are refused (the receiver answers 503 with Retry-After) instead of piling up.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from botanu.engine.ingest import RawSpan
from botanu.engine.pricing import Pricer
from botanu.engine.service import BATCH_SPANS, ingest_payloads
from botanu.serve.journal import Journal, Position
from botanu.store.duckdb_store import DuckDBStore

__all__ = ["Pipeline"]

log = logging.getLogger("botanu.serve")
_STOP = object()


@dataclass(slots=True)
class _Export:
    kind: int
    payload: bytes
    spans: list[RawSpan]
    done: Callable[[BaseException | None], None]


@dataclass(slots=True)
class _Journaled:
    spans: list[RawSpan]
    end: Position


@dataclass
class Stats:
    accepted_spans: int = 0
    stored_spans: int = 0
    writes: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)


class Pipeline:
    """Owns the journal and the store; `submit` is called by request handlers."""

    def __init__(
        self,
        store: DuckDBStore,
        journal: Journal,
        pricer: Pricer,
        *,
        max_pending_spans: int = 4 * BATCH_SPANS,
        linger_s: float = 0.5,
        decode: Callable[[int, bytes], list[RawSpan]],
    ) -> None:
        self.store = store
        self.journal = journal
        self.pricer = pricer
        self.max_pending_spans = max_pending_spans
        self.linger_s = linger_s
        self.stats = Stats()
        self._decode = decode
        self._pending = 0  # accepted (or being accepted), not yet stored
        self._lock = threading.Lock()
        self._to_journal: queue.Queue[object] = queue.Queue()
        self._to_store: queue.Queue[object] = queue.Queue()
        self._idle = threading.Condition(self._lock)
        self._threads = [
            threading.Thread(target=self._journal_loop, name="botanu-journal", daemon=True),
            threading.Thread(target=self._store_loop, name="botanu-store", daemon=True),
        ]

    # --- life -----------------------------------------------------------------------------
    def start(self) -> int:
        """Store what the journal holds past the stored position (a crash or kill left it),
        then start the threads. Returns how many journaled spans were replayed."""
        batch = [
            _Journaled(self._decode(record.kind, record.payload), record.end)
            for record in self.journal.unstored()
        ]
        replayed = sum(len(j.spans) for j in batch)
        if batch:
            log.info("botanu serve: storing %d journaled spans left by the last run", replayed)
            self._write(batch)
        for thread in self._threads:
            thread.start()
        return replayed

    def close(self) -> None:
        """Stop taking exports, store everything journaled, stop the threads, close the
        journal and the store."""
        self._to_journal.put(_STOP)
        for thread in self._threads:
            if thread.is_alive():
                thread.join()
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
        self,
        kind: int,
        payload: bytes,
        spans: list[RawSpan],
        done: Callable[[BaseException | None], None],
    ) -> None:
        """Journal an export (after `reserve`); `done(None)` once it is on disk."""
        self._to_journal.put(_Export(kind, payload, spans, done))

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

    # --- threads --------------------------------------------------------------------------
    def _journal_loop(self) -> None:
        while True:
            item = self._to_journal.get()
            group: list[_Export] = []
            stop = item is _STOP
            if not stop:
                group.append(item)  # type: ignore[arg-type]
                while True:  # everything waiting goes into one fsync
                    try:
                        more = self._to_journal.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        stop = True
                        break
                    group.append(more)  # type: ignore[arg-type]
            if group:
                self._journal(group)
            if stop:
                self._to_store.put(_STOP)
                return

    def _journal(self, group: list[_Export]) -> None:
        try:
            end = self.journal.append([(e.kind, e.payload) for e in group])
        except Exception as exc:  # a full or failing disk: refuse, acknowledge nothing
            log.error("botanu serve: the journal could not be written: %s", exc)
            self._release(sum(len(e.spans) for e in group))
            for export in group:
                export.done(exc)
            return
        spans = [span for export in group for span in export.spans]
        self._to_store.put(_Journaled(spans, end))
        with self._lock:
            self.stats.accepted_spans += len(spans)
        for export in group:
            export.done(None)

    def _store_loop(self) -> None:
        while True:
            item = self._to_store.get()
            if item is _STOP:
                return
            batch: list[_Journaled] = [item]  # type: ignore[list-item]
            count = len(batch[0].spans)
            stop = False
            deadline = time.monotonic() + self.linger_s
            while count < BATCH_SPANS:  # join exports into one large write
                left = deadline - time.monotonic()
                try:
                    more = self._to_store.get(timeout=max(left, 0)) if left > 0 else None
                except queue.Empty:
                    more = None
                if more is None:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)  # type: ignore[arg-type]
                count += len(more.spans)  # type: ignore[attr-defined]
            self._store(batch, count)
            if stop:
                return

    def _store(self, batch: list[_Journaled], count: int) -> None:
        self._write(batch)
        with self._lock:
            self.stats.stored_spans += count
            self.stats.writes += 1
        self._release(count)

    def _write(self, batch: list[_Journaled]) -> None:
        try:
            ingest_payloads(self.store, [j.spans for j in batch], self.pricer)
        except Exception as exc:
            # one export the store cannot take must not hold back the others: each is
            # written on its own, and one that still fails is set aside in a file
            log.error("botanu serve: a write failed, storing its exports one by one: %s", exc)
            for journaled in batch:
                try:
                    ingest_payloads(self.store, [journaled.spans], self.pricer)
                except Exception as alone:
                    self._set_aside(journaled, alone)
        try:
            self.journal.mark_stored(batch[-1].end)
        except Exception as exc:  # stored again (and skipped) at the next start
            log.error("botanu serve: the journal position was not saved: %s", exc)

    def _set_aside(self, journaled: _Journaled, error: BaseException) -> None:
        """Keep spans the store refused in `rejected.jsonl` beside the journal, with why."""
        import json

        with self._lock:
            self.stats.errors.append(str(error))
        log.error(
            "botanu serve: %d spans the store refused are kept in %s: %s",
            len(journaled.spans),
            self.journal.rejected_file,
            error,
        )
        with open(self.journal.rejected_file, "a", encoding="utf-8") as handle:
            for span in journaled.spans:
                handle.write(json.dumps({"error": str(error), "span": span._asdict()}, default=str))
                handle.write("\n")

    def _release(self, spans: int) -> None:
        with self._idle:
            self._pending -= spans
            if not self._pending:
                self._idle.notify_all()
