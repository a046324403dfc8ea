"""A context manager usable with both `with` and `async with`: entering and leaving a
run only touches the context, so the async form runs the same synchronous code."""

from __future__ import annotations

from types import TracebackType
from typing import Any


class SyncAndAsync:
    """Mixin: `async with` delegates to `__enter__` / `__exit__`."""

    __slots__ = ()

    def __enter__(self) -> Any:
        raise NotImplementedError

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Any:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)
