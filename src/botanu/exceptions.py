"""botanu's one exception tree: every exception botanu raises derives from `BotanuError`.

Each class is also importable from the module that raises it. This module imports nothing,
so the SDK and the engine can both use it for free.
"""

from __future__ import annotations

__all__ = [
    "BotanuConfigError",
    "BotanuError",
    "BotanuWarning",
    "FileExportError",
    "OTLPDecodeError",
    "QueryBusy",
    "QueryInterrupted",
    "QueryRefused",
    "RateCardError",
    "StoreError",
    "StoreFault",
]


class BotanuError(Exception):
    """Base class of every exception botanu raises on purpose."""


class BotanuWarning(BotanuError, UserWarning):
    """Misuse on a request path (an unknown status, a negative token count). A warning,
    raised only where the application's warning filters turn warnings into errors."""


# --- the SDK --------------------------------------------------------------------------------


class BotanuConfigError(BotanuError, ValueError):
    """Bad configuration found at `enable()`; the message says what to fix."""


# --- the engine -----------------------------------------------------------------------------


class OTLPDecodeError(BotanuError, ValueError):
    """The payload is not a valid OTLP trace export; nothing of it was accepted."""


class FileExportError(OTLPDecodeError):
    """An export of a file that is malformed or over the size limit. `line` is the line it
    starts on (None for a protobuf file, which has no lines); `problem` says what is wrong."""

    def __init__(self, line: int | None, problem: str) -> None:
        super().__init__(f"line {line}: {problem}" if line is not None else problem)
        self.line = line
        self.problem = problem


class RateCardError(BotanuError, ValueError):
    """A rate card that cannot be used; the message reads `file:line: field: problem`."""

    def __init__(self, path: str, line: int | None, field: str | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")
        self.path = path
        self.line = line
        self.field = field


# --- the stores and `botanu serve` ------------------------------------------------------------


class StoreError(BotanuError):
    """The store could not be opened, or a statement failed; the message says why."""


class QueryInterrupted(StoreError):
    """A statement was ended from outside (a time limit) before it finished."""


class QueryRefused(StoreError):
    """The statement is not one the server runs, or it ran past its time limit (a 400)."""


class QueryBusy(StoreError):
    """As many queries as allowed are running; try again shortly (a 503)."""


class StoreFault(BotanuError):
    """`botanu serve`: the store (not the rows) failed a write; the rows are held and the
    write is tried again."""
