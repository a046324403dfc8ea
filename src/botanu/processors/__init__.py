"""Old import path of `RunContextEnricher`, kept for users; code in `botanu.sdk.enricher`."""

from botanu.sdk.enricher import RunContextEnricher

__all__ = ["RunContextEnricher"]
