"""Keeps botanu's own failures out of the host application.

An internal error is logged once per call site on the `botanu` logger and swallowed.
Tests flip `raise_internal_errors` to see them.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from botanu.exceptions import BotanuWarning

logger = logging.getLogger("botanu")

P = ParamSpec("P")
R = TypeVar("R")

raise_internal_errors = False
_reported: set[str] = set()
_reported_lock = threading.Lock()


def _reset_after_fork() -> None:
    global _reported_lock
    _reported_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def report_internal_error(site: str) -> None:
    """Log the exception being handled, once per `site`; re-raise when tests ask to."""
    if raise_internal_errors:
        raise RuntimeError(f"botanu internal error in {site}") from sys.exc_info()[1]
    with _reported_lock:
        first = site not in _reported
        _reported.add(site)
    if first:
        logger.exception("botanu internal error in %s (logged once; the app continues)", site)


def swallow_internal_errors(
    fallback: R,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate an SDK entry point so that an error inside it returns `fallback`."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        site = func.__qualname__

        @functools.wraps(func)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return func(*args, **kwargs)
            except BotanuWarning:
                raise  # misuse turned into an error by the app's warning filters: theirs
            except Exception:
                report_internal_error(site)
                return fallback

        return guarded

    return decorate


def warn_misuse(message: str) -> None:
    """A clear `BotanuWarning` pointing at the first frame outside botanu."""
    level = 1
    frame = sys._getframe(1)
    while frame is not None and _is_botanu(frame.f_globals.get("__name__", "")):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, BotanuWarning, stacklevel=level + 1)


def _is_botanu(module: str) -> bool:
    return module == "botanu" or module.startswith("botanu.")
