"""`botanu demo`: a realistic workload, run against a bundled local model server, priced
into a fresh store. Needs no network and no service."""

from botanu.demo.runner import run_demo

__all__ = ["run_demo"]
