"""Carry the active run into worker threads.

`asyncio.to_thread` already copies the caller's context; `ThreadPoolExecutor.submit`,
`loop.run_in_executor` and `threading.Thread` do not. `in_current_context(fn)` binds a
callable to the caller's context; `ThreadPoolExecutor` here does so on every `submit`.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["ThreadPoolExecutor", "in_current_context"]

P = ParamSpec("P")
R = TypeVar("R")


def in_current_context(fn: Callable[P, R]) -> Callable[P, R]:
    """`fn`, run in a copy of the context current now (the run, the span, baggage and
    every other context variable), wherever and however often it is called later.

    Each call gets its own copy, so the result may run in several threads at once.
    """
    captured = contextvars.copy_context()

    @functools.wraps(fn)
    def in_context(*args: P.args, **kwargs: P.kwargs) -> R:
        return captured.copy().run(fn, *args, **kwargs)

    return in_context


class ThreadPoolExecutor(concurrent.futures.ThreadPoolExecutor):
    """A drop-in `concurrent.futures.ThreadPoolExecutor` whose tasks run in the context
    of the code that submitted them, so work done for a run stays in that run
    (`map` goes through `submit` too)."""

    def submit(
        self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
    ) -> concurrent.futures.Future[R]:
        context = contextvars.copy_context()  # at submit time, in the submitter's thread

        def in_context() -> R:
            return context.run(fn, *args, **kwargs)

        return super().submit(in_context)
