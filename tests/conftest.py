"""One global TracerProvider for the session (OpenTelemetry allows one per process) with
an in-memory exporter; each test starts with no spans and no leftover run context.
Tests that need a fresh process (enable/disable, fork, existing provider) use
`run_python` to run a script in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import context as context_api

from botanu.sdk import _runtime
from botanu.testing import CapturedSpans, capture_spans, raise_internal_errors

_capture = capture_spans()
raise_internal_errors(True)


@pytest.fixture
def spans() -> Iterator[CapturedSpans]:
    _capture.clear()
    before = context_api.get_current()
    yield _capture
    # nothing a test did may leave a run attached to the caller's context
    assert _runtime.current_scope() is None
    assert context_api.get_current() == before


@pytest.fixture
def run_python(tmp_path: Path):
    """Run a Python script in a fresh interpreter; returns the completed process."""

    def run(
        source: str, *, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        script = tmp_path / "script.py"
        script.write_text(textwrap.dedent(source))
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "BOTANU_"))}
        full_env.update(env or {})
        done = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            env=full_env,
            cwd=cwd or tmp_path,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done

    return run


# What makes a test slow: it starts a server, a browser, chDB or another Python process.
# Such tests are marked `slow` (left out by `pytest -m "not slow"`, the quick tier); files
# whose every test is slow in another way say so with `pytestmark = pytest.mark.slow`.
SLOW_FIXTURES = frozenset(
    {
        "server_factory",  # botanu serve
        "collector",  # chDB
        "chdb_client",
        "chdb_folder",
        "run_python",  # a Python process
        "browser",  # Chromium
        "store_path",  # the dashboard's store, made by botanu demo in a process
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
