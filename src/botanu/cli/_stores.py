"""Which store a CLI command works on: the file itself, or the `botanu serve` that holds it
(DuckDB lets one process have a store file open for writing)."""

from __future__ import annotations

import json

import click

from botanu.engine.store import Store, StoreError, open_store, store_path
from botanu.engine.store.remote import RemoteStore

__all__ = ["served", "store_for"]


def store_for(url: str | None, *, writes: bool = False, valuations: bool = False) -> Store:
    """The store at `url`; while `botanu serve` holds it, the server answers reads (and
    valuations, with `valuations`); other writes are refused with a clear message."""
    try:
        return open_store(url)
    except StoreError as exc:
        remote = served(url)
        if remote is None:
            raise click.ClickException(str(exc)) from None
        if writes and not valuations:
            raise click.ClickException(
                f"botanu serve ({remote.url}) owns this store: send spans to it over OTLP, "
                "or stop it to write directly"
            ) from None
        return remote


def served(url: str | None) -> RemoteStore | None:
    """The running `botanu serve` that announced itself for this store, if any."""
    from botanu.serve.runner import serve_file

    try:
        announcement = json.loads(serve_file(store_path(url)).read_text())
        return RemoteStore(str(announcement["url"]))
    except (OSError, ValueError, KeyError, TypeError, StoreError):
        return None
