"""Runs the demo: a fresh store, the bundled model server, the workload through
`enable(exporter="local")`, then the cost-per-outcome report."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import botanu
from botanu.demo.stub_server import StubModelServer
from botanu.demo.workload import run_workload

__all__ = ["DEMO_STORE", "run_demo"]

DEMO_STORE = ".botanu/demo.duckdb"
VALUATIONS = {"tickets_resolved": Decimal("4.00"), "orders_fulfilled": Decimal("12.00")}


def run_demo(store_path: str | None = None) -> tuple[str, dict[str, int]]:
    """Run the workload into a fresh store; returns its path and what was run."""
    import openai

    from botanu.engine.store import open_store

    path = Path(store_path or DEMO_STORE)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    os.environ["BOTANU_STORE"] = str(path)  # where the local exporter writes
    botanu.enable(service_name="botanu-demo", exporter="local", environment="demo")
    try:
        with StubModelServer() as server:
            client = openai.OpenAI(base_url=server.base_url, api_key="demo", max_retries=0)
            counts = run_workload(client, server)
    finally:
        botanu.disable()  # flushes every span into the store
    with open_store(str(path)) as store:
        for value_type, value in VALUATIONS.items():
            store.set_valuation(value_type, value)
    return str(path), counts
