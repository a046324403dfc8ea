"""The integration examples run as written, each in a fresh interpreter, and print the
usage botanu recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs each example in a process

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "integrations"


def run_example(name: str, tmp_path: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "BOTANU_"))}
    env.pop("ANTHROPIC_OPEN_TELEMETRY", None)
    done = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / name)],
        cwd=tmp_path,  # no botanu.yaml of the repository's in the way
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_openai_client_example(tmp_path):
    lines = run_example("openai_client.py", tmp_path)
    assert lines == [
        "answer: Done. Anything else?",
        "chat o4-mini {'cache_read.input_tokens': 768, 'input_tokens': 1000, "
        "'output_tokens': 280, 'reasoning.output_tokens': 120}",
        "chat gpt-4o-mini {'cache_read.input_tokens': 768, 'input_tokens': 1000, "
        "'output_tokens': 160, 'reasoning.output_tokens': 0}",
        "outcome: success",
    ]


def test_anthropic_client_example(tmp_path):
    lines = run_example("anthropic_client.py", tmp_path)
    assert lines == [
        "chat claude-haiku-4-5 provider=anthropic input=1568 cache_read=0 cache_write=1563 "
        "cache_write_1h=1000 output=40",
        "chat claude-haiku-4-5 provider=anthropic input=1567 cache_read=1563 cache_write=0 "
        "cache_write_1h=0 output=40",
    ]


def test_auto_instrument_example(tmp_path):
    openai_line, anthropic_line = run_example("auto_instrument.py", tmp_path)
    assert openai_line.startswith("opentelemetry.")
    assert " openai " in openai_line
    assert "'cache_read.input_tokens': 768" in openai_line
    assert "'reasoning.output_tokens': 120" in openai_line
    assert anthropic_line.startswith("com.anthropic.sdk.python anthropic ")
    assert "'botanu.usage.cache_write_1h.input_tokens': 1050" in anthropic_line
    assert "'input_tokens': 1054" in anthropic_line
