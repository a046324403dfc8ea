"""The README's "Reading the figures" section runs as written: its Python blocks are the
example files, run in order in a fresh folder, and each console block's commands print
exactly the output shown under them."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs the README's examples and commands in processes

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SECTION = README[README.index("### Reading the figures") : README.index("\nPrices: a cost")]
FILES = [ROOT / "examples" / "reading_the_figures.py", ROOT / "examples" / "late_outcome.py"]
BOTANU = Path(sys.executable).parent / "botanu"


def steps():
    """(kind, text) of each code block of the section, in order."""
    return re.findall(r"```(python|console)\n(.*?)```", SECTION, re.S)


def commands(block):
    """(command, expected output) of each `$ ` line of a console block."""
    found = []
    for line in block.splitlines():
        if line.startswith("$ "):
            found.append((line[2:], []))
        else:
            found[-1][1].append(line)
    return [(command, "\n".join(lines)) for command, lines in found]


def test_the_section_shows_each_rule_with_an_example():
    for rule in ("Total and priced cost", "Waste", "Pending", "Late outcomes", "Value and ROI"):
        assert f"**{rule}" in SECTION
    kinds = [kind for kind, _ in steps()]
    assert kinds.count("python") == len(FILES)
    assert kinds.count("console") == 5


def test_the_sections_examples_print_what_it_shows(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOTANU_", "OTEL_"))}

    def run(*argv):
        done = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    files = iter(FILES)
    for kind, text in steps():
        if kind == "python":
            example = next(files)
            assert text == example.read_text(), example.name
            run(sys.executable, str(example))
            continue
        for command, expected in commands(text):
            argv = shlex.split(command)
            assert argv[0] == "botanu"
            assert run(str(BOTANU), *argv[1:]).rstrip("\n") == expected, command


def test_the_sections_rate_card_in_euros_prices_in_dollars(tmp_path):
    """The section's rate card loads as written and converts at the rate of the day."""
    from datetime import datetime, timezone
    from decimal import Decimal

    from botanu.engine.pricing import Pricer
    from botanu.engine.records import SpanRecord

    (card,) = re.findall(r"```yaml\n(.*?)```", SECTION, re.S)
    path = tmp_path / "prices.yaml"
    path.write_text(card)
    pricer = Pricer(user_rate_card=path)
    lines = []
    for day in (datetime(2026, 3, 1), datetime(2026, 8, 1), datetime(2025, 6, 1)):
        start = int(day.replace(tzinfo=timezone.utc).timestamp()) * 10**9
        span = SpanRecord(
            trace_id="ab" * 16,
            span_id="cd" * 8,
            name="chat",
            start_ns=start,
            end_ns=start + 1,
            category="llm",
            provider="vllm",
            request_model="llama-3-70b",
            input_tokens=1_000_000,
            output_tokens=500_000,
        )
        lines.append(pricer.price(span))
    euros = Decimal("0.05") + Decimal("0.10") / 2  # a million in, half a million out
    assert [line.amount for line in lines[:2]] == [euros * Decimal("1.08"), euros * Decimal("1.10")]
    assert all(line.currency == "USD" for line in lines)
    assert (lines[1].detail or "").endswith("; EUR 0.1 at 1.1 USD/EUR from 2026-07-01")
    assert (lines[2].amount, lines[2].source) == (None, "unpriced")  # before the first rate
