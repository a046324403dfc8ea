"""`botanu serve`: one process that owns the store, receives OTLP from every process of
every service, prices as it stores, and shows the result."""

from __future__ import annotations

from botanu.serve.runner import ServeConfig, run_server, serve_file

__all__ = ["ServeConfig", "run_server", "serve_file"]
