"""botanu's one exception tree and its warning category."""

from __future__ import annotations

__all__ = ["BotanuConfigError", "BotanuError", "BotanuWarning"]


class BotanuError(Exception):
    """Base class of every exception botanu raises on purpose."""


class BotanuConfigError(BotanuError, ValueError):
    """Bad configuration found at `enable()`; the message says what to fix."""


class BotanuWarning(UserWarning):
    """Misuse on a request path (an unknown status, a negative token count)."""
