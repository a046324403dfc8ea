"""The run: one execution attempt of one business event, its id and its statuses.

`RunContext` travels in W3C baggage and is stamped on spans. Inbound baggage is untrusted:
`from_baggage` validates every value and drops the bad. Data and validation only: what
`as_current()` and `to_baggage_dict()` need of the SDK runtime (`RUNTIME`) is handed in by
the runtime when it loads, so this module imports nothing of the SDK.
"""

from __future__ import annotations

import enum
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from botanu import semconv


class _Runtime:
    """What a run needs of the SDK runtime, handed in by it when it loads
    (`sdk/_runtime.py`, `sdk/context.py`), so this module imports nothing of the SDK."""

    def __init__(self) -> None:
        self.lean: Callable[[], bool] = lambda: True  # the configured propagation mode
        self.activate: Callable[[RunContext], Any] = _not_loaded  # `as_current`


def _not_loaded(run: RunContext) -> Any:
    raise RuntimeError("botanu's SDK is not loaded: import botanu first")


RUNTIME = _Runtime()

__all__ = ["RunContext", "RunStatus", "generate_run_id"]

logger = logging.getLogger("botanu")

# Values longer than this (UTF-8 bytes) are dropped: ids and names, never payloads.
MAX_VALUE_BYTES = 256
MAX_ID_CHARS = 128
# Inbound ids: letters and digits (any script) and a few separators; never a path or markup.
_ID_PUNCTUATION = frozenset(" -_.:@+=#~")
MAX_ATTEMPT = 100
# An inbound deadline further from now than this is a bad clock or a forged value.
MAX_DEADLINE_PAST_S = 24 * 3600
MAX_DEADLINE_AHEAD_S = 7 * 24 * 3600


class RunStatus(str, enum.Enum):
    """Outcome statuses of a run."""

    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"
    TIMEOUT = "timeout"
    CANCELED = "canceled"
    ABANDONED = "abandoned"

    def __str__(self) -> str:
        return self.value


# --- UUIDv7 run ids ---------------------------------------------------------------------------
# 48-bit unix milliseconds, then a 12-bit sequence that keeps ids monotonic when several are
# made in the same millisecond, then 62 random bits (RFC 9562, method 1 of section 6.2).
_uuid_lock = threading.Lock()
_last_ms = 0
_seq = 0
# Run ids need uniqueness, not secrecy: a PRNG seeded from the OS is ~20x cheaper than
# os.urandom per id. It is reseeded in a forked child so parent and child never collide.
_random = random.Random(os.urandom(32))


def _reset_after_fork() -> None:
    global _uuid_lock
    _uuid_lock = threading.Lock()
    _random.seed(os.urandom(32))


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def generate_run_id() -> str:
    """A UUIDv7 string: time-sortable, and strictly increasing within this process."""
    global _last_ms, _seq
    rand = _random.getrandbits(80)
    now_ms = time.time_ns() // 1_000_000
    with _uuid_lock:
        if now_ms > _last_ms:
            _last_ms = now_ms
            _seq = rand >> 68  # random start, top 12 bits
        else:
            _seq += 1
            if _seq > 0xFFF:  # sequence exhausted: borrow the next millisecond
                _last_ms += 1
                _seq = 0
        ms, seq = _last_ms, _seq
    tail = (rand & ((1 << 62) - 1)) | (0b10 << 62)  # variant bits 10
    h = "%032x" % ((ms << 80) | ((0x7000 | seq) << 64) | tail)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# --- validation of inbound values -------------------------------------------------------------


def clean_value(value: object) -> str | None:
    """Accept a printable string of at most MAX_VALUE_BYTES UTF-8 bytes, else None.

    Unicode is fine (W3C baggage percent-encodes it); control and format characters are not.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_VALUE_BYTES:
        return None
    if not value.isprintable() or (not value.isascii() and len(value.encode()) > MAX_VALUE_BYTES):
        return None
    return value


def clean_id(value: object) -> str | None:
    """Accept an inbound id (run, event, customer, tenant): at most MAX_ID_CHARS letters,
    digits and ` -_.:@+=#~`, starting with a letter or digit; else None."""
    text = clean_value(value)
    if text is None or len(text) > MAX_ID_CHARS or not text[0].isalnum():
        return None
    if not all(ch.isalnum() or ch in _ID_PUNCTUATION for ch in text):
        return None
    return text


def _clean_deadline(value: str) -> float | None:
    """Epoch milliseconds within a day before and a week after now, as epoch seconds."""
    if not value.isdigit() or len(value) > 15:
        return None
    deadline = int(value) / 1000
    now = time.time()
    if not now - MAX_DEADLINE_PAST_S <= deadline <= now + MAX_DEADLINE_AHEAD_S:
        return None
    return deadline


def _clean_attempt(value: object) -> int | None:
    text = clean_value(value) if not isinstance(value, int) else str(value)
    if text is None or not text.isdigit():
        return None
    attempt = int(text)
    return attempt if 1 <= attempt <= MAX_ATTEMPT else None


_FIELDS = (
    "run_id",
    "workflow",
    "event_id",
    "customer_id",
    "tenant_id",
    "environment",
    "workflow_label",
    "parent_run_id",
    "root_run_id",
    "attempt",
    "retry_of_run_id",
    "deadline",
)

# baggage keys holding ids, held to `clean_id`; the others (names) to `clean_value`
_ID_KEYS = frozenset(
    (
        semconv.RUN_ID,
        semconv.EVENT_ID,
        semconv.CUSTOMER_ID,
        semconv.TENANT_ID,
        semconv.PARENT_RUN_ID,
        semconv.ROOT_RUN_ID,
        semconv.RETRY_OF_RUN_ID,
    )
)


class RunContext:
    """The identity and lineage of one run.

    Build one with `create` (a new event) or `create_retry` (another attempt of the same
    event); `from_baggage` rebuilds one that arrived from another process. Treat it as
    read-only: it is shared by every span and task of the run. (A plain slotted class:
    a dataclass costs a millisecond at import and, frozen, a microsecond per run.)
    """

    __slots__ = (*_FIELDS, "_cancelled")

    def __init__(
        self,
        run_id: str,
        workflow: str,
        event_id: str,
        *,
        customer_id: str | None = None,
        tenant_id: str | None = None,
        environment: str | None = None,
        workflow_label: str | None = None,
        parent_run_id: str | None = None,
        root_run_id: str | None = None,
        attempt: int = 1,
        retry_of_run_id: str | None = None,
        deadline: float | None = None,
    ) -> None:
        self.run_id = run_id
        self.workflow = workflow
        self.event_id = event_id
        self.customer_id = customer_id
        self.tenant_id = tenant_id
        self.environment = environment
        self.workflow_label = workflow_label
        self.parent_run_id = parent_run_id
        self.root_run_id = root_run_id
        self.attempt = attempt
        self.retry_of_run_id = retry_of_run_id
        self.deadline = deadline  # epoch seconds
        self._cancelled = False  # the one mutable flag: set by cancel()

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS)
        return f"RunContext({shown})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RunContext):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _FIELDS)

    __hash__ = None  # type: ignore[assignment]  # equal by value, and mutable

    # --- construction -------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        workflow: str,
        *,
        event_id: str | None = None,
        customer_id: str | None = None,
        tenant_id: str | None = None,
        environment: str | None = None,
        workflow_label: str | None = None,
        parent: RunContext | None = None,
        deadline_seconds: float | None = None,
    ) -> RunContext:
        """A new run of a new event; `event_id` defaults to the run id."""
        run_id = generate_run_id()
        return cls(
            run_id=run_id,
            workflow=workflow,
            event_id=event_id if event_id is not None else run_id,
            customer_id=customer_id,
            tenant_id=tenant_id,
            environment=environment,
            workflow_label=workflow_label,
            parent_run_id=parent.run_id if parent is not None else None,
            root_run_id=run_id,
            deadline=time.time() + deadline_seconds if deadline_seconds is not None else None,
        )

    @classmethod
    def create_retry(cls, previous: RunContext) -> RunContext:
        """The next attempt of `previous`'s event: new run id, same event, attempt + 1."""
        return cls(
            run_id=generate_run_id(),
            workflow=previous.workflow,
            event_id=previous.event_id,
            customer_id=previous.customer_id,
            tenant_id=previous.tenant_id,
            environment=previous.environment,
            workflow_label=previous.workflow_label,
            parent_run_id=previous.parent_run_id,
            root_run_id=previous.root_run_id or previous.run_id,
            attempt=previous.attempt + 1,
            retry_of_run_id=previous.run_id,
            deadline=previous.deadline,
        )

    # --- baggage ------------------------------------------------------------------------
    def to_baggage_dict(self, lean_mode: bool | None = None) -> dict[str, str]:
        """The entries to propagate. Lean: run id, workflow, event, customer; full: all.

        `lean_mode=None` follows the configured propagation mode. Unset values are left
        out, never sent as the text "None".
        """
        if lean_mode is None:
            lean_mode = RUNTIME.lean()
        entries = {
            semconv.RUN_ID: self.run_id,
            semconv.WORKFLOW: self.workflow,
            semconv.EVENT_ID: self.event_id,
        }
        if self.customer_id is not None:
            entries[semconv.CUSTOMER_ID] = self.customer_id
        if lean_mode:
            return entries
        optional = {
            semconv.WORKFLOW_LABEL: self.workflow_label,
            semconv.TENANT_ID: self.tenant_id,
            semconv.ENVIRONMENT: self.environment,
            semconv.PARENT_RUN_ID: self.parent_run_id,
            semconv.ROOT_RUN_ID: self.root_run_id,
            semconv.RETRY_OF_RUN_ID: self.retry_of_run_id,
        }
        entries.update({k: v for k, v in optional.items() if v is not None})
        entries[semconv.ATTEMPT] = str(self.attempt)
        if self.deadline is not None:
            entries[semconv.DEADLINE] = str(int(self.deadline * 1000))
        return entries

    @classmethod
    def from_baggage(cls, baggage: Mapping[str, Any] | None) -> RunContext | None:
        """Rebuild a run from inbound baggage; None when the run id or workflow is missing.

        Every value is untrusted: malformed entries are dropped with a debug log, and
        nothing here raises.
        """
        if not baggage or not isinstance(baggage, Mapping):
            return None
        try:
            return cls._from_untrusted(baggage)
        except Exception:
            logger.debug("botanu: dropped unreadable run baggage", exc_info=True)
            return None

    @classmethod
    def _from_untrusted(cls, baggage: Mapping[str, Any]) -> RunContext | None:
        values: dict[str, str] = {}
        for key in (*semconv.FULL_KEYS, semconv.LEGACY_USE_CASE):
            raw = baggage.get(key)
            if raw is None:
                continue
            cleaned = clean_id(raw) if key in _ID_KEYS else clean_value(raw)
            if cleaned is None:
                logger.debug("botanu: dropped malformed baggage entry %s", key)
                continue
            values[key] = cleaned
        run_id = values.get(semconv.RUN_ID)
        workflow = values.get(semconv.WORKFLOW) or values.get(semconv.LEGACY_USE_CASE)
        if run_id is None or workflow is None:
            return None
        attempt = 1
        if semconv.ATTEMPT in values:
            parsed = _clean_attempt(values[semconv.ATTEMPT])
            if parsed is None:
                logger.debug("botanu: dropped malformed baggage entry %s", semconv.ATTEMPT)
            else:
                attempt = parsed
        deadline = None
        raw_deadline = values.get(semconv.DEADLINE)
        if raw_deadline is not None:
            deadline = _clean_deadline(raw_deadline)
            if deadline is None:
                logger.debug("botanu: dropped malformed baggage entry %s", semconv.DEADLINE)
        return cls(
            run_id=run_id,
            workflow=workflow,
            event_id=values.get(semconv.EVENT_ID, run_id),
            customer_id=values.get(semconv.CUSTOMER_ID),
            tenant_id=values.get(semconv.TENANT_ID),
            environment=values.get(semconv.ENVIRONMENT),
            workflow_label=values.get(semconv.WORKFLOW_LABEL),
            parent_run_id=values.get(semconv.PARENT_RUN_ID),
            root_run_id=values.get(semconv.ROOT_RUN_ID),
            attempt=attempt,
            retry_of_run_id=values.get(semconv.RETRY_OF_RUN_ID),
            deadline=deadline,
        )

    # --- span attributes ------------------------------------------------------------------
    def to_span_attributes(self, lean_mode: bool = False) -> dict[str, str | int]:
        """Run attributes for a span: the lean keys, or (default) everything that is set.

        The root run id is left out when it is the run's own id (a first attempt).
        """
        attributes: dict[str, str | int] = {
            semconv.RUN_ID: self.run_id,
            semconv.WORKFLOW: self.workflow,
            semconv.EVENT_ID: self.event_id,
        }
        if self.customer_id is not None:
            attributes[semconv.CUSTOMER_ID] = self.customer_id
        if lean_mode:
            return attributes
        optional = (
            (semconv.WORKFLOW_LABEL, self.workflow_label),
            (semconv.TENANT_ID, self.tenant_id),
            (semconv.ENVIRONMENT, self.environment),
            (semconv.PARENT_RUN_ID, self.parent_run_id),
            (semconv.RETRY_OF_RUN_ID, self.retry_of_run_id),
        )
        for key, value in optional:
            if value is not None:
                attributes[key] = value
        if self.root_run_id is not None and self.root_run_id != self.run_id:
            attributes[semconv.ROOT_RUN_ID] = self.root_run_id
        attributes[semconv.ATTEMPT] = self.attempt
        if self.deadline is not None:
            attributes[semconv.DEADLINE] = int(self.deadline * 1000)
        return attributes

    # --- activation -----------------------------------------------------------------------
    def as_current(self) -> Any:
        """Make this the active run (for queue consumers and worker threads).

        Spans started inside carry its identity and `emit_outcome` records on the span
        that is current when it is called. Usable as `with` and `async with`.
        """
        return RUNTIME.activate(self)

    # --- deadline and cancellation ------------------------------------------------------------
    def remaining_time(self) -> float | None:
        """Seconds left before the deadline (never negative), or None without a deadline."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.time())

    def is_past_deadline(self) -> bool:
        return self.deadline is not None and time.time() >= self.deadline

    def cancel(self) -> None:
        """Ask cooperating code in this process to stop working on the run."""
        self._cancelled = True

    def is_cancelled(self) -> bool:
        return self._cancelled

    def should_stop(self) -> bool:
        """True when the run was cancelled or its deadline has passed."""
        return self._cancelled or self.is_past_deadline()
