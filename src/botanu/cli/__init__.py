"""The `botanu` command: parse arguments, call the engine and the store, render.

Every listing prints a table, or `--json` / `--csv`. Errors are one clear line and exit 1.
"""

from __future__ import annotations

from botanu.cli.main import cli, main

__all__ = ["cli", "main"]
