"""Big and hostile files through the CLI: `botanu ingest` streams a file in bounded
batches and refuses an export over the limit by file and line; a rate card is
size-limited and its prices bounded, and `botanu prices` never prints a traceback."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.security.conftest import export

from botanu.cli.main import cli
from botanu.engine.pricing import RateCardError, load_rate_card

pytestmark = pytest.mark.slow  # the CLI in processes over files of hundreds of MB

MIB = 1024 * 1024
# Address space for a `botanu ingest` subprocess: the interpreter, DuckDB and Arrow map
# ~1.3 GB before reading anything.
MEMORY_LIMIT = 2500 * MIB
# Peak resident memory allowed to `botanu ingest` of the ~350 MB file below: ~200 MB to
# start, a bounded batch on top (~750 MB in all); reading the whole file took ~2 GB.
INGEST_PEAK_RSS = 1280 * MIB


def json_line(first: int, count: int, pad: int = 0) -> str:
    """One OTLP/JSON export of `count` LLM spans numbered from `first`, each with a
    `pad`-character attribute (to make a file big in bytes, not in spans)."""
    spans = []
    for i in range(first, first + count):
        spans.append(
            {
                "traceId": f"{i // 4 + 1:032x}",
                "spanId": f"{i + 1:016x}",
                "name": "chat gpt-4o-mini",
                "kind": 3,
                "startTimeUnixNano": str(1_763_000_000_000_000_000 + i * 1000),
                "endTimeUnixNano": str(1_763_000_000_000_000_500 + i * 1000),
                "attributes": [
                    {"key": "botanu.run_id", "value": {"stringValue": f"run-{i // 4}"}},
                    {"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}},
                    {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1000"}},
                    {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "100"}},
                    {"key": "note", "value": {"stringValue": "x" * pad}},
                ],
            }
        )
    scope = {"scopeSpans": [{"spans": spans}]}
    return json.dumps({"resourceSpans": [{"resource": {"attributes": []}, **scope}]})


def invoke(store: Path, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, ["--store", str(store), *args], env=env)


def count_spans(store: Path) -> int:
    result = invoke(store, "sql", "SELECT count(*) AS n FROM spans", "--csv")
    assert result.exit_code == 0, result.output
    return int(result.output.splitlines()[1])


def run_cli(*args: str, memory: int | None = None, env: dict[str, str] | None = None):
    """`python -m botanu.cli ARGS` in a subprocess, under an address-space limit."""

    def limit() -> None:
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run(
        [sys.executable, "-m", "botanu.cli", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,  # a guard against a hang, not an assertion
        preexec_fn=limit,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", **(env or {})},
    )


# `python -m botanu.cli` that writes its own peak resident memory (VmHWM, which a new
# program starts afresh) to the file named by its first argument when it exits. The
# kernel's rusage of the child is not used: Linux carries the high-water mark across
# exec, so it would include the test process's own memory at the fork.
_MEASURED_CLI = """
import atexit, sys
from botanu.cli.main import main

def peak(path=sys.argv.pop(1)):
    with open("/proc/self/status") as status, open(path, "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM:")).split()[1])

atexit.register(peak)
sys.argv[0] = "botanu"
main()
"""


def run_measured(*args: str, output: Path) -> tuple[int, str, int]:
    """`botanu ARGS` in a subprocess: its exit code, output and peak resident memory in
    bytes (as the child itself saw it)."""
    peak = output.with_suffix(".peak")
    with output.open("wb") as sink:
        done = subprocess.run(
            [sys.executable, "-c", _MEASURED_CLI, str(peak), *args],
            stdout=sink,
            stderr=subprocess.STDOUT,
            check=False,
        )
    return done.returncode, output.read_text(), int(peak.read_text()) * 1024  # kB


# --- botanu ingest -----------------------------------------------------------------------


def test_a_big_json_lines_file_is_ingested_in_bounded_memory(tmp_path):
    # ~350 MB in 75,000 spans: whole-file reading held the bytes and every decoded span
    path = tmp_path / "big.jsonl"
    with path.open("w") as out:
        for n in range(300):
            out.write(json_line(n * 250, 250, pad=4000) + "\n")
    store = tmp_path / "big.duckdb"
    exit_code, output, peak_rss = run_measured(
        "--store", str(store), "ingest", str(path), output=tmp_path / "output.txt"
    )
    assert exit_code == 0, output[-2000:]
    assert f"{path}: 75000 new spans" in output
    assert peak_rss < INGEST_PEAK_RSS, peak_rss
    assert count_spans(store) == 75_000


def test_ingest_of_dev_zero_ends_with_a_clear_error_under_a_memory_limit(tmp_path):
    store = tmp_path / "zero.duckdb"
    result = run_cli("--store", str(store), "ingest", "/dev/zero", memory=MEMORY_LIMIT)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "/dev/zero" in result.stderr
    assert "16 MiB" in result.stderr


def test_a_line_over_the_limit_is_refused_by_file_and_line(tmp_path):
    path = tmp_path / "long.jsonl"
    path.write_text(json_line(0, 3) + "\n" + json_line(3, 1, pad=17 * MIB) + "\n")
    store = tmp_path / "long.duckdb"
    result = invoke(store, "ingest", str(path))
    assert result.exit_code == 1
    assert f"{path}:2:" in result.output
    assert "16 MiB" in result.output
    # every export before the bad line is stored, and the message says so
    assert "3 new spans" in result.output
    assert count_spans(store) == 3


def test_a_bad_line_in_the_middle_keeps_the_lines_before_it(tmp_path):
    path = tmp_path / "middle.jsonl"
    path.write_text(json_line(0, 5) + "\n\n" + "{broken\n" + json_line(5, 5) + "\n")
    store = tmp_path / "middle.duckdb"
    result = invoke(store, "ingest", str(path))
    assert result.exit_code == 1
    assert f"{path}:3:" in result.output
    assert "5 new spans" in result.output
    assert count_spans(store) == 5
    # fixed and sent again: the stored spans are skipped, the rest stored
    path.write_text(json_line(0, 5) + "\n\n" + json_line(5, 5) + "\n")
    result = invoke(store, "ingest", str(path))
    assert result.exit_code == 0, result.output
    assert "5 new spans" in result.output
    assert count_spans(store) == 10


def test_every_file_format_still_ingests(tmp_path):
    lines = tmp_path / "lines.jsonl"
    lines.write_text("\n" + json_line(0, 2) + "\r\n" + json_line(2, 2) + "\n\n")
    document = tmp_path / "document.json"
    document.write_text(json.dumps(json.loads(json_line(4, 3)), indent=2))
    protobuf = tmp_path / "export.pb"
    protobuf.write_bytes(export(100, 4))
    store = tmp_path / "formats.duckdb"
    for path, spans in ((lines, 4), (document, 3), (protobuf, 4)):
        result = invoke(store, "ingest", str(path))
        assert result.exit_code == 0, result.output
        assert f"{spans} new spans" in result.output
    assert count_spans(store) == 11


def test_a_whole_document_or_protobuf_over_the_limit_is_refused(tmp_path):
    document = tmp_path / "document.json"
    document.write_text(json.dumps(json.loads(json_line(0, 1, pad=17 * MIB)), indent=2))
    protobuf = tmp_path / "big.pb"
    protobuf.write_bytes(export(0, 120_000))  # ~17 MiB of small spans
    assert protobuf.stat().st_size > 16 * MIB
    store = tmp_path / "whole.duckdb"
    for path in (document, protobuf):
        result = invoke(store, "ingest", str(path))
        assert result.exit_code == 1
        assert str(path) in result.output
        assert "16 MiB" in result.output
    assert count_spans(store) == 0


# --- rate cards --------------------------------------------------------------------------

CARD = """\
version: 1
prices:
  - category: llm
    provider: openai
    model: gpt-4o
    effective_from: 2020-01-01
    source: our contract
    input_mtok: {price}
    output_mtok: "8.00"
"""


def test_an_oversized_rate_card_is_refused_before_parsing(tmp_path):
    card = tmp_path / "huge.yaml"
    entry = CARD.split("prices:\n")[1]
    card.write_text(CARD.format(price='"2.00"') + entry.format(price='"2.00"') * 9000)
    assert card.stat().st_size > 1 * MIB
    with pytest.raises(RateCardError, match=r"huge\.yaml: .*1 MiB"):
        load_rate_card(card)
    result = run_cli(
        "prices", "gpt-4o", "--provider", "openai", env={"BOTANU_RATE_CARD": str(card)}
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "1 MiB" in result.stderr


@pytest.mark.parametrize(
    ("price", "field"),
    [
        ("1E+999999999", "input_mtok"),
        ('"1E+999999999"', "input_mtok"),
        ("1000001", "input_mtok"),
        ("Infinity", "input_mtok"),
    ],
)
def test_a_price_beyond_any_plausible_bound_fails_validation(tmp_path, price, field):
    card = tmp_path / "card.yaml"
    card.write_text(CARD.format(price=price))
    with pytest.raises(RateCardError) as caught:
        load_rate_card(card)
    assert str(caught.value).startswith(f"{card}:8: prices[0].{field}: ")


def test_a_multiplier_or_resource_price_beyond_the_bound_fails_validation(tmp_path):
    card = tmp_path / "card.yaml"
    card.write_text(
        "version: 1\nprices:\n"
        "  - category: llm\n    provider: openai\n    model: gpt-4o\n"
        "    effective_from: 2020-01-01\n    source: a discount\n    multiplier: 1E+999\n"
    )
    with pytest.raises(RateCardError, match=rf"^{card}:8: prices\[0\]\.multiplier: "):
        load_rate_card(card)
    card.write_text(
        "version: 1\nprices:\n"
        "  - category: db\n    system: postgresql\n    unit: rows\n"
        "    effective_from: 2020-01-01\n    source: ours\n    price: 1E+999999999\n"
    )
    with pytest.raises(RateCardError, match=rf"^{card}:8: prices\[0\]\.price: "):
        load_rate_card(card)


def test_botanu_prices_never_prints_a_traceback(tmp_path):
    card = tmp_path / "card.yaml"
    card.write_text(CARD.format(price="1E+999999999"))
    result = run_cli(
        "prices", "gpt-4o", "--provider", "openai", env={"BOTANU_RATE_CARD": str(card)}
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{card}:8: prices[0].input_mtok: " in result.stderr
