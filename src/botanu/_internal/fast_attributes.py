"""Writing attributes botanu has already validated onto a live SDK span, cheaply.

The SDK's `set_attributes` re-validates every value, which is most of what botanu adds
to a span. For values botanu itself built (strings, numbers, string lists) it writes
straight into the span's attribute map when the SDK internals look as expected and no
limit could apply; otherwise it goes through the public `set_attributes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.trace import Span


def attribute_map(span: Span, adding: int) -> tuple[dict[str, Any], Any] | None:
    """The span's own attribute dict and lock, when the SDK internals look as expected
    and no limit could apply to `adding` more attributes; else None."""
    bounded: Any = getattr(span, "_attributes", None)
    target = getattr(bounded, "_dict", None)
    lock: Any = getattr(span, "_lock", None)
    if (
        type(target) is dict
        and lock is not None
        and getattr(bounded, "max_value_len", 0) is None
        and (bounded.maxlen is None or len(target) + adding <= bounded.maxlen)
    ):
        return target, lock
    return None


def write_attributes(span: Span, attributes: Mapping[str, Any], *, overwrite: bool) -> None:
    """Put `attributes` on `span`; with `overwrite=False`, keys already set are kept.

    Values must already be valid attribute values, with sequences as tuples (what the
    SDK itself stores).
    """
    internals = attribute_map(span, len(attributes))
    if internals is not None:
        target, lock = internals
        # the span's own lock, as its set_attributes and end() take it: no write can
        # slip in after the span ended and was handed to an exporter
        with lock:
            if getattr(span, "_end_time", 0) is None:
                if overwrite:
                    target.update(attributes)
                else:
                    for key, value in attributes.items():
                        target.setdefault(key, value)
                return
        # ended: the public call below logs the SDK's usual warning and writes nothing
    if not overwrite:
        existing = getattr(span, "attributes", None)
        if existing:
            attributes = {k: v for k, v in attributes.items() if k not in existing}
    span.set_attributes(attributes)
