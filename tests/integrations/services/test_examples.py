"""The run-propagation examples (examples/integrations/) run as written and print what
they promise."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs each example in a process

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "integrations"
RUN_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"


def run_example(name: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "BOTANU_"))}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        env=env,
        cwd=EXAMPLES,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_two_services():
    out = run_example("two_services.py")
    assert "same run:        True" in out
    assert re.search(rf"orders run: +{RUN_ID}", out)
    for span in ("botanu.run/GET /orders/{order_id}", "GET /stock/<sku>", "chat gpt-4o-mini"):
        assert re.search(rf"  {re.escape(span)} +event=order-42", out), span


def test_queue_headers():
    out = run_example("queue_headers.py")
    producer = re.search(rf"producer: run ({RUN_ID}) event signup-7", out)
    assert producer is not None
    assert f"consumer: new@acme     run {producer[1]} event signup-7" in out
    assert re.search(rf"consumer: all@acme     run {RUN_ID} event digest-1", out)
    assert "consumer span in the producer's run: True" in out
    assert "runs recorded: ['botanu.run/send-digest', 'botanu.run/welcome-customer']" in out


def test_celery_tasks():
    out = run_example("celery_tasks.py")
    assert "same run:        True" in out
    for line in ("process orders.draft_reply", "chat claude-sonnet-4", "process orders.send_reply"):
        assert line in out


def test_threads():
    lines = run_example("threads.py").splitlines()
    run = lines[0].split()[-1]
    assert lines[1].endswith("['no run', 'no run']")
    assert lines[2].endswith(f"['{run}', '{run}']")
    assert lines[3].endswith(f"['{run}']")
    assert lines[4].endswith(f"['{run}', '{run}']")


def test_tenacity_retries():
    lines = run_example("tenacity_retries.py").splitlines()
    assert lines[0] == "shipped"
    runs = [line.split() for line in lines[1:4]]
    assert [r[2] for r in runs] == ["1", "2", "3"]
    assert {r[4] for r in runs} == {"order-77"}
    assert [r[6] for r in runs] == ["-", runs[0][8], runs[1][8]]  # retry_of = previous run
    assert [r[9] for r in runs] == ["failed", "failed", "success"]
    assert lines[4:] == [
        "42",
        "model call, attempt 1",
        "model call, attempt 2",
        "model call, attempt None",
    ]
