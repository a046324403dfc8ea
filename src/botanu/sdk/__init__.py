"""The SDK half, run inside the app: the run and its ids, entry points, outcomes, context,
the enricher, config, enable/disable and auto-instrumentation."""
