"""Span processors botanu adds to the application's TracerProvider."""

from botanu.processors.enricher import RunContextEnricher

__all__ = ["RunContextEnricher"]
