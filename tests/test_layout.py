"""Rules of the source layout that no single behaviour test would notice breaking: one
exception tree, and one module that touches OpenTelemetry SDK internals."""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path

import botanu
from botanu import exceptions
from botanu.exceptions import BotanuError

SOURCE = Path(botanu.__file__).parent
EXCEPTIONS = SOURCE / "exceptions.py"
OTEL_INTERNALS = SOURCE / "sdk" / "_otel_internals.py"

# exception classes a botanu class could derive from: Python's own and botanu's
_EXCEPTION_NAMES = {
    name
    for source in (builtins, exceptions)
    for name, value in vars(source).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}
# reading or overriding a private name of the OpenTelemetry SDK or API
_OTEL_INTERNALS = re.compile(
    r"\._span_processors\b|def _on_ending\b|\b(baggage_api|context_api)\._[A-Za-z]"
    r"|getattr\([^)]*\"_(attributes|dict|lock|end_time|current_context|[A-Z_]+)\""
)


def _sources() -> list[Path]:
    return sorted(p for p in SOURCE.rglob("*.py") if "__pycache__" not in p.parts)


def _base_name(base: ast.expr) -> str:
    if isinstance(base, ast.Attribute):
        return base.attr
    return base.id if isinstance(base, ast.Name) else ""


def test_every_exception_class_is_in_exceptions_py():
    elsewhere = []
    for path in _sources():
        if path == EXCEPTIONS:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {_base_name(b) for b in node.bases}
            if bases & _EXCEPTION_NAMES or any(
                b.endswith(("Error", "Exception", "Warning")) for b in bases
            ):
                elsewhere.append(f"{path.relative_to(SOURCE)}: {node.name}")
    assert elsewhere == []


def test_every_exception_derives_from_botanu_error():
    for name in exceptions.__all__:
        assert issubclass(getattr(exceptions, name), BotanuError), name


def test_exceptions_stay_importable_where_they_are_raised():
    from botanu.engine.ingest.otlp import FileExportError, OTLPDecodeError
    from botanu.engine.pricing import RateCardError
    from botanu.engine.store import StoreError
    from botanu.engine.store.base import QueryInterrupted
    from botanu.serve.reading import QueryBusy, QueryRefused

    assert OTLPDecodeError is exceptions.OTLPDecodeError
    assert FileExportError is exceptions.FileExportError
    assert RateCardError is exceptions.RateCardError
    assert StoreError is exceptions.StoreError
    assert QueryInterrupted is exceptions.QueryInterrupted
    assert QueryRefused is exceptions.QueryRefused
    assert QueryBusy is exceptions.QueryBusy
    # what callers catch them as before they joined the tree
    assert issubclass(OTLPDecodeError, ValueError)
    assert issubclass(RateCardError, ValueError)
    assert issubclass(exceptions.BotanuWarning, UserWarning)


def test_only_one_module_touches_opentelemetry_internals():
    touching = [
        str(path.relative_to(SOURCE))
        for path in _sources()
        if _OTEL_INTERNALS.search(path.read_text())
    ]
    assert touching == [str(OTEL_INTERNALS.relative_to(SOURCE))]
